"""The start page shows each role its work: admins their open cohorts (theirs first) with what
waits in each, or the first steps on a new institution; a verifier their queue; an auditor the
latest events; someone with no work a friendly word."""

import re

import pytest

from accounts.models import SystemRole
from cohorts.services import cohort_responsible_admins_set, cohort_reviewer_set
from enrolments.models import CohortEnrollment
from enrolments.services import enrollment_invite
from signing.models import Submission, SubmissionStatus, Submitter
from sponsors.services import cohort_sponsor_set, sponsor_create
from tests.enrolments.conftest import id_type, upload_document
from tests.factories import CohortFactory, UserFactory
from tests.verification.conftest import matric_type

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]


def _home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def _cohort_row(page: str, cohort) -> str:
    """The start page's entry for `cohort`: up to the next cohort's, or the panel's end."""
    match = re.search(rf'data-cohort="{cohort.pk}">(.*?)(?=data-cohort=|</section>)', page, re.S)
    assert match is not None, f"{cohort.name} is not on the start page"
    return match.group(1)


def _invite(cohort, admin, number: int) -> CohortEnrollment:
    return enrollment_invite(
        cohort=cohort,
        actor=admin,
        email=f"student{cohort.pk}-{number}@example.org",
        full_name=f"Student {number}",
    )


def _agreement(enrollment: CohortEnrollment, signed: list[bool], roles: list[str]) -> Submission:
    """A student's agreement with signers in `roles` order, each signed or not."""
    cohort = enrollment.cohort
    submission = Submission.objects.create(
        template_version=cohort.main_template.versions.order_by("number").first(),
        title="Learnership agreement",
        html="<p>Agreement</p>",
        original_sha256="0" * 64,
        subject_type="enrolments.cohortenrollment",
        subject_id=str(enrollment.pk),
    )
    for order, (role, is_signed) in enumerate(zip(roles, signed, strict=True), 1):
        Submitter.objects.create(
            submission=submission,
            role=role,
            order=order,
            name=role,
            email=f"{role}@example.org",
            signed_at=submission.created_at if is_signed else None,
        )
    return submission


def test_an_admin_sees_their_cohorts_first_with_what_waits_in_each(
    admin, admin_client, super_admin
):
    theirs = CohortFactory(
        active=True, name="Theirs", start_date=CohortFactory.start_date.function()
    )
    cohort_responsible_admins_set(cohort=theirs, actor=admin, admins=[admin])
    other = CohortFactory(active=True, name="Someone else's")
    cohort_responsible_admins_set(cohort=other, actor=admin, admins=[super_admin])
    CohortFactory(active=True, name="Long over", state="completed")

    student = _invite(theirs, admin, 1)
    upload_document(student, id_type())
    upload_document(student, matric_type())
    _invite(theirs, admin, 2)  # invitation not accepted (nor is the first)
    waiting_for_us = [_invite(theirs, admin, n) for n in (3, 4)]
    for enrollment in waiting_for_us:
        _agreement(enrollment, [True, False], ["student", "institution_admin"])
    # Not yet the institution's turn: the student, then the sponsor, have still to sign.
    _agreement(_invite(theirs, admin, 5), [False, False], ["student", "institution_admin"])
    _agreement(
        _invite(theirs, admin, 6), [True, False, False], ["student", "sponsor", "institution_admin"]
    )
    done = _agreement(_invite(theirs, admin, 7), [True, True], ["student", "institution_admin"])
    done.status = SubmissionStatus.COMPLETED
    done.save(update_fields=["status"])
    sponsor = sponsor_create(
        actor=admin,
        company_name="Ubuntu Mining",
        contact_name="Sipho Dlamini",
        contact_email="sipho@ubuntu.example",
        contact_phone="+27 11 555 0100",
        tax_number="9012345678",
    )
    cohort_sponsor_set(cohort=other, sponsor=sponsor, actor=admin)

    page = _home(admin_client)

    assert page.index("Theirs") < page.index("Someone else&#x27;s")
    assert "Long over" not in page  # closed: nothing waits in it
    row = _cohort_row(page, theirs)
    assert "You are responsible" in row
    assert "2 documents to review" in row
    assert f"/review/?cohort={theirs.pk}" in row
    assert "2 agreements to countersign" in row
    assert "7 invitations not accepted" in row
    assert "Sponsor not signed yet" not in row
    assert (
        row.index("documents to review")
        < row.index("agreements to countersign")
        < row.index("invitations not accepted")
    )
    other_row = _cohort_row(page, other)
    assert "You are responsible" not in other_row
    assert "Sponsor not signed yet" in other_row
    assert "Nothing waiting" not in other_row
    assert "First steps" not in page


def test_a_draft_waiting_for_the_main_agreement_says_so(admin, admin_client):
    draft = CohortFactory(name="Draft intake")
    row = _cohort_row(_home(admin_client), draft)
    assert "Main agreement to sign" in row
    assert f"/cohorts/{draft.pk}/sign/" in row


def test_a_new_institution_shows_the_first_steps(admin_client):
    page = _home(admin_client)
    assert "First steps" in page
    for link in ("/sponsors/new/", "/agreements/", "/cohorts/new/"):
        assert f'href="{link}"' in page
    assert "Invite students" in page


def test_a_verifier_sees_their_queue_count_and_not_the_cohorts(admin, client_of):
    cohort = CohortFactory(active=True)
    verifier = UserFactory(roles=[SystemRole.VERIFIER], full_name="Vusi Verifier")
    cohort_reviewer_set(cohort=cohort, actor=admin, reviewer=verifier, allowed=True)
    upload_document(_invite(cohort, admin, 1), id_type())
    upload_document(_invite(CohortFactory(active=True), admin, 2), id_type())  # not theirs

    page = _home(client_of(verifier))

    assert re.search(r'data-count="home-review">1<', page)
    assert "Open the review queue" in page
    assert 'data-panel="cohorts"' not in page
    assert 'data-panel="audit"' not in page


def test_an_auditor_sees_the_latest_events_with_a_link_to_the_trail(admin, client_of):
    cohort = CohortFactory()
    cohort_responsible_admins_set(cohort=cohort, actor=admin, admins=[admin])
    auditor = UserFactory(roles=[SystemRole.AUDITOR], full_name="Anele Auditor")

    page = _home(client_of(auditor))

    assert "Latest in the audit trail" in page
    assert "cohort.responsible_admins_set" in page
    assert admin.email in page
    assert 'href="/audit/"' in page
    assert 'data-panel="cohorts"' not in page
    assert 'data-panel="review"' not in page


def test_a_sponsor_contact_is_told_nothing_is_waiting(client_of):
    contact = UserFactory(roles=[SystemRole.SPONSOR_CONTACT], full_name="Pieter Sponsor")
    page = _home(client_of(contact))
    assert "Nothing is waiting for you" in page
    assert 'data-panel="nothing-waiting"' in page
    assert 'data-panel="cohorts"' not in page


def test_the_start_page_lists_a_bounded_number_of_cohorts(admin, admin_client):
    for number in range(9):
        CohortFactory(active=True, name=f"Intake {number}")
    page = _home(admin_client)
    assert page.count("data-cohort=") == 8
    assert "More cohorts are open" in page
