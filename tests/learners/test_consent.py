"""Consents: each recorded with its wording's version (history rows, the current answer on the
learner, an audit event), withdrawn the same way, asked again when the wording changes; the
institution chooses which it asks for (data processing always); the portal's consents step; and
the sponsor sees a learner's contact details only with their consent."""

import dataclasses
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from accounts.models import SystemRole
from audit.models import AuditEvent
from enrolments.models import CohortEnrollment
from learners import consents
from learners.consents import (
    REQUIRED_CONSENTS,
    consent_given,
    consents_missing,
    consents_required,
)
from learners.models import ConsentKind, ConsentMethod, LearnerConsent
from learners.selectors import learner_consent_rows
from learners.services import consent_record, consent_withdraw
from sponsors.selectors import sponsor_learner_rows
from tenants.models import Institution
from tenants.services import institution_profile_update
from tests.factories import UserFactory
from tests.learners.support import consents_give

pytestmark = pytest.mark.django_db

SPONSOR = ConsentKind.SPONSOR_SHARING
FUNDING = ConsentKind.FUNDING_BODY_SHARING
PROCESSING = ConsentKind.DATA_PROCESSING


@pytest.fixture
def requires(institution):
    """Make the institution ask for `kinds` (besides data processing), as the settings page
    does; put back afterwards."""

    def set_required(*kinds: str) -> None:
        institution.settings = {**institution.settings, REQUIRED_CONSENTS: sorted(kinds)}
        Institution.objects.filter(pk=institution.pk).update(settings=institution.settings)
        connection.set_tenant(institution)

    yield set_required
    institution.settings.pop(REQUIRED_CONSENTS, None)
    Institution.objects.filter(pk=institution.pk).update(settings=institution.settings)


def test_a_consent_is_recorded_with_its_wording_version_history_and_audit_event(enrol):
    learner = enrol().learner

    answer = consent_record(
        learner=learner, kind=SPONSOR, given=True, method=ConsentMethod.PORTAL, actor=learner.user
    )

    learner.refresh_from_db()
    assert answer.wording_version == consents.WORDINGS[SPONSOR].version == "1"
    assert answer.recorded_by == learner.user
    assert learner.consent_flags[SPONSOR] == {
        "given": True,
        "version": "1",
        "at": answer.recorded_at.isoformat(),
        "method": "portal",
    }
    assert consent_given(learner, SPONSOR)
    assert not consent_given(learner, FUNDING)
    event = AuditEvent.objects.get(action="learner.consent_given", entity_id=str(learner.pk))
    assert event.new_values == {"kind": SPONSOR, "given": True, "version": "1", "method": "portal"}
    assert event.actor_id == learner.user.pk


def test_withdrawing_is_a_new_answer_and_the_history_keeps_both(enrol):
    learner = enrol().learner
    consents_give(learner, SPONSOR)

    consent_withdraw(learner=learner, kind=SPONSOR, actor=learner.user)

    learner.refresh_from_db()
    assert not consent_given(learner, SPONSOR)
    assert learner.consent_flags[SPONSOR]["given"] is False
    assert list(
        LearnerConsent.objects.filter(learner=learner, kind=SPONSOR).values_list("given", flat=True)
    ) == [False, True]  # newest first
    event = AuditEvent.objects.get(action="learner.consent_withdrawn")
    assert event.old_values == {"given": True, "version": "1"}
    assert event.new_values["given"] is False


def test_a_new_wording_asks_again(enrol, monkeypatch):
    learner = enrol().learner
    consents_give(learner, PROCESSING)
    assert consents_missing(learner) == []

    reworded = dataclasses.replace(
        consents.WORDINGS[PROCESSING], version="2", text="A clearer wording."
    )
    monkeypatch.setitem(consents.WORDINGS, PROCESSING, reworded)

    assert not consent_given(learner, PROCESSING)
    assert consents_missing(learner) == [reworded]
    (row,) = [row for row in learner_consent_rows(learner) if row.wording.kind == PROCESSING]
    assert row.outdated
    assert not row.given
    consents_give(learner, PROCESSING)
    assert LearnerConsent.objects.filter(learner=learner).first().wording_version == "2"
    assert consents_missing(learner) == []


def test_data_processing_is_always_asked_and_the_institution_adds_the_others(institution, requires):
    assert consents_required() == [PROCESSING]
    requires(FUNDING)
    assert consents_required() == [PROCESSING, FUNDING]


def test_the_super_admin_chooses_the_consents_on_the_settings_page(
    institution, super_admin_client, requires
):
    page = super_admin_client.get("/settings/").content.decode()
    assert "Student consents" in page
    assert f'value="{SPONSOR}"' in page
    assert f'value="{FUNDING}"' in page
    assert f'value="{PROCESSING}"' not in page  # always asked: no box to untick

    response = super_admin_client.post(
        "/settings/",
        {
            "name": institution.name,
            "contact_email": "founder@alpha.example",
            "brand_colour": "#1f5f8b",
            "signing_link_days": "14",
            "time_zone": "Africa/Johannesburg",
            REQUIRED_CONSENTS: [FUNDING, SPONSOR],
        },
    )

    assert response.status_code == 302
    institution.refresh_from_db()
    assert institution.settings[REQUIRED_CONSENTS] == sorted([PROCESSING, FUNDING, SPONSOR])
    event = AuditEvent.objects.get(action="institution.profile_updated")
    assert event.old_values[REQUIRED_CONSENTS] == [PROCESSING]
    assert event.new_values[REQUIRED_CONSENTS] == sorted([PROCESSING, FUNDING, SPONSOR])
    page = super_admin_client.get("/settings/").content.decode()
    for kind in (SPONSOR, FUNDING):
        assert re.search(rf'<input[^>]*value="{kind}"[^>]*checked', page)


def test_the_required_consents_can_only_be_chosen_by_a_super_admin(institution, admin):
    with pytest.raises(PermissionDenied):
        institution_profile_update(
            institution=institution, actor=admin, changes={REQUIRED_CONSENTS: [SPONSOR]}
        )


@pytest.mark.parametrize(
    ("who", "method"),
    [
        ("other_student", ConsentMethod.PORTAL),
        ("learner", ConsentMethod.ADMIN),  # a student records only their own answer, here
        ("admin", ConsentMethod.PORTAL),  # an admin never answers in the student's name
        ("verifier", ConsentMethod.ADMIN),  # may not manage learners
    ],
)
def test_who_may_record_a_consent(enrol, who, method):
    learner = enrol().learner
    actor = {
        "learner": learner.user,
        "other_student": enrol().user,
        "admin": UserFactory(roles=[SystemRole.ADMIN]),
        "verifier": UserFactory(roles=[SystemRole.VERIFIER]),
    }[who]
    with pytest.raises(PermissionDenied):
        consent_record(learner=learner, kind=SPONSOR, given=True, method=method, actor=actor)
    assert not LearnerConsent.objects.exists()


def test_an_admin_records_a_consent_given_on_paper(enrol, admin):
    learner = enrol().learner
    answer = consent_record(
        learner=learner, kind=FUNDING, given=True, method=ConsentMethod.ADMIN, actor=admin
    )
    assert answer.method == ConsentMethod.ADMIN
    assert answer.recorded_by == admin


def test_an_unknown_consent_is_refused(enrol):
    learner = enrol().learner
    with pytest.raises(ValidationError):
        consent_record(
            learner=learner, kind="marketing", given=True, method="portal", actor=learner.user
        )


# --- The portal -------------------------------------------------------------------------


def test_the_enrolment_asks_for_the_required_consents_first_and_records_them(
    enrol, client_of, requires
):
    requires(FUNDING)
    enrollment = enrol()
    client = client_of(enrollment.user)
    url = reverse("enrolments:detail", args=[enrollment.pk])

    page = client.get(url).content.decode()
    step = page[page.index('id="consents"') : page.index('id="details"')]
    assert consents.WORDINGS[PROCESSING].text in step
    assert consents.WORDINGS[FUNDING].text in step
    assert consents.WORDINGS[SPONSOR].text not in step  # not asked by this institution
    assert page.index("Your consents") < page.index("Your details")

    response = client.post(
        reverse("profile:consents"), {"give": [PROCESSING, FUNDING], "next": url}
    )

    assert response.status_code == 302
    assert response["Location"] == url
    learner = enrollment.learner
    learner.refresh_from_db()
    assert consents_missing(learner) == []
    page = client.get(url).content.decode()
    assert "your consents are recorded" in page
    assert 'name="give"' not in page
    assert LearnerConsent.objects.filter(learner=learner, method="portal").count() == 2


def test_the_consents_form_never_sends_the_student_to_another_site(enrol, client_of):
    enrollment = enrol()
    response = client_of(enrollment.user).post(
        reverse("profile:consents"), {"give": [PROCESSING], "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("profile:profile")


def test_a_form_without_a_consent_ticked_records_nothing(enrol, client_of):
    enrollment = enrol()
    response = client_of(enrollment.user).post(reverse("profile:consents"), {"give": []})
    assert response.status_code == 302
    assert not LearnerConsent.objects.exists()


# --- The sponsor ------------------------------------------------------------------------


def test_the_sponsor_sees_contact_details_only_of_learners_who_consent(
    enrol, django_assert_num_queries
):
    sharing, private = enrol(full_name="Thandi Sharing"), enrol(full_name="Sipho Private")
    consents_give(sharing.learner, SPONSOR)
    enrollments = list(
        CohortEnrollment.objects.filter(pk__in=[sharing.pk, private.pk])
        .select_related("user", "learner")
        .order_by("user__full_name")
    )

    with django_assert_num_queries(0):
        rows = sponsor_learner_rows(enrollments)

    assert [(row.name, row.shares_contact) for row in rows] == [
        ("Sipho Private", False),
        ("Thandi Sharing", True),
    ]
    assert rows[0].email == ""
    assert rows[0].phone_number == ""
    assert rows[1].email == sharing.user.email
