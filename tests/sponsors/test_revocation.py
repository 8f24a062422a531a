"""A sponsor's signing link stops working when it is no longer theirs to use: the cohort's
sponsor changes or is cleared, their address changes before a new invitation, or an admin
revokes it from the cohort page."""

import importlib
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import SystemRole
from audit.models import AuditEvent
from cohorts.selectors import cohort_completion_blockers
from cohorts.services import cohort_cancel
from notifications.models import OutboundEmail
from signing.models import SigningLink, SubmissionStatus
from signing.selectors import link_for_token
from signing.services.completion import submitter_sign
from sponsors.selectors import cohort_sponsor_status
from sponsors.services import (
    cohort_sponsor_set,
    sponsor_create,
    sponsor_invite,
    sponsor_invite_revoke,
    sponsor_update,
)
from tests.factories import CohortFactory, UserFactory
from tests.signing.conftest import last_link_to

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media")]

UBUNTU = {
    "company_name": "Ubuntu Mining",
    "contact_name": "Sipho Dlamini",
    "contact_email": "sipho@ubuntu.example",
}
KAROO = {
    "company_name": "Karoo Solar",
    "contact_name": "Naledi Khumalo",
    "contact_email": "naledi@karoo.example",
}


def _latest_link(email: str) -> SigningLink:
    """The link in the newest signing request e-mailed to `email`."""
    return link_for_token(last_link_to(email))


def _sign(link: SigningLink) -> None:
    submitter_sign(
        link=link, signed_name="Sipho Dlamini", consent=True, signature_text="Sipho Dlamini"
    )


def _audit(action: str, cohort) -> AuditEvent:
    return AuditEvent.objects.filter(action=action, entity_id=str(cohort.pk)).latest("id")


def test_changing_the_sponsor_revokes_the_former_sponsors_open_link(admin, cohort):
    submission = sponsor_invite(cohort=cohort, actor=admin)
    link = _latest_link(UBUNTU["contact_email"])
    karoo = sponsor_create(actor=admin, **KAROO)

    cohort_sponsor_set(cohort=cohort, sponsor=karoo, actor=admin)

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.REVOKED
    with pytest.raises(PermissionDenied):
        _sign(link)
    assert _audit("cohort.sponsor_set", cohort).new_values == {
        "sponsor": karoo.pk,
        "revoked_submission": submission.pk,
    }
    assert AuditEvent.objects.filter(
        action="signing.submission_revoked", entity_id=str(submission.pk), actor=admin
    ).exists()
    # Karoo Solar was never asked: the card offers to invite them, not a withdrawn link.
    cohort.refresh_from_db()
    assert cohort_sponsor_status(cohort).state == "not_invited"


def test_clearing_the_sponsor_revokes_the_open_link(admin, cohort):
    submission = sponsor_invite(cohort=cohort, actor=admin)
    link = _latest_link(UBUNTU["contact_email"])

    cohort_sponsor_set(cohort=cohort, sponsor=None, actor=admin)

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.REVOKED
    with pytest.raises(PermissionDenied):
        _sign(link)
    assert _audit("cohort.sponsor_set", cohort).new_values["revoked_submission"] == submission.pk


def test_saving_the_same_sponsor_keeps_the_link(admin, cohort, sponsor):
    submission = sponsor_invite(cohort=cohort, actor=admin)
    link = _latest_link(UBUNTU["contact_email"])

    cohort_sponsor_set(cohort=cohort, sponsor=sponsor, actor=admin)

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING
    assert "revoked_submission" not in _audit("cohort.sponsor_set", cohort).new_values
    _sign(link)
    assert cohort_sponsor_status(cohort).state == "signed"


def test_a_new_sponsor_signs_for_themselves_and_the_former_ones_agreement_is_kept(
    admin, cohort, sponsor
):
    submission = sponsor_invite(cohort=cohort, actor=admin)
    _sign(_latest_link(UBUNTU["contact_email"]))

    cohort = cohort_sponsor_set(
        cohort=cohort, sponsor=sponsor_create(actor=admin, **KAROO), actor=admin
    )

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.COMPLETED
    assert "revoked_submission" not in _audit("cohort.sponsor_set", cohort).new_values
    # The former sponsor's signature does not count for the new one: the cohort cannot
    # complete until Karoo signs.
    assert cohort_sponsor_status(cohort).state == "not_invited"
    assert "the sponsor has not signed the agreement" in cohort_completion_blockers(cohort)
    sponsor_invite(cohort=cohort, actor=admin)
    _sign(_latest_link(KAROO["contact_email"]))
    assert cohort_sponsor_status(cohort).state == "signed"
    assert cohort_sponsor_status(cohort).email == KAROO["contact_email"]

    cohort = cohort_sponsor_set(cohort=cohort, sponsor=sponsor, actor=admin)
    assert cohort_sponsor_status(cohort).email == UBUNTU["contact_email"]
    assert cohort_sponsor_status(cohort).state == "signed"


def test_agreements_sent_before_they_were_recorded_are_linked_to_their_sponsor(
    admin, cohort, sponsor
):
    from django.apps import apps
    from django.db import connection

    from sponsors.models import SponsorAgreement

    migration = importlib.import_module("sponsors.migrations.0002_sponsor_agreements")
    submission = sponsor_invite(cohort=cohort, actor=admin)
    SponsorAgreement.objects.all().delete()
    assert cohort_sponsor_status(cohort).state == "not_invited"

    migration.link_sent_agreements(apps, connection.schema_editor())

    assert SponsorAgreement.objects.get().submission == submission
    assert cohort_sponsor_status(cohort).state == "invited"


def test_a_signed_agreement_at_an_address_no_sponsor_has_stays_the_cohorts_sponsors(
    admin, cohort, sponsor
):
    """The sponsor signed, then their contact changed (before agreements recorded their
    sponsor): the signature still counts for the cohort."""
    from django.apps import apps
    from django.db import connection

    from sponsors.models import Sponsor, SponsorAgreement

    first = importlib.import_module("sponsors.migrations.0002_sponsor_agreements")
    second = importlib.import_module("sponsors.migrations.0003_link_unmatched_agreements")
    sponsor_invite(cohort=cohort, actor=admin)
    sponsor_invite_revoke(cohort=cohort, actor=admin)
    signed = sponsor_invite(cohort=cohort, actor=admin)
    _sign(_latest_link(UBUNTU["contact_email"]))
    Sponsor.objects.filter(pk=sponsor.pk).update(contact_email="ops@ubuntu.example")
    SponsorAgreement.objects.all().delete()

    first.link_sent_agreements(apps, connection.schema_editor())
    assert cohort_sponsor_status(cohort).state == "not_invited"
    second.link_unmatched_agreements(apps, connection.schema_editor())
    second.link_unmatched_agreements(apps, connection.schema_editor())  # runs once in effect

    assert [a.submission for a in SponsorAgreement.objects.all()] == [signed]  # not the revoked one
    assert cohort_sponsor_status(cohort).state == "signed"


def test_a_new_contact_address_revokes_the_old_link_at_once(admin, cohort, sponsor):
    first = sponsor_invite(cohort=cohort, actor=admin)
    old_link = _latest_link(UBUNTU["contact_email"])
    other_cohort = cohort_sponsor_set(
        cohort=CohortFactory(signed=True), sponsor=sponsor, actor=admin
    )
    other = sponsor_invite(cohort=other_cohort, actor=admin)
    moved = UBUNTU | {"contact_email": "ops@ubuntu.example"}

    sponsor_update(sponsor=sponsor, actor=admin, **moved)

    with pytest.raises(PermissionDenied):
        _sign(old_link)
    for submission in (first, other):
        submission.refresh_from_db()
        assert submission.status == SubmissionStatus.REVOKED
    event = AuditEvent.objects.filter(action="sponsor.updated").latest("id")
    assert event.new_values["revoked_submissions"] == [first.pk, other.pk]
    cohort.refresh_from_db()
    assert cohort.sponsor_email == "ops@ubuntu.example"  # where the cohort's notices now go
    assert cohort_sponsor_status(cohort).state == "not_invited"  # at the new address

    second = sponsor_invite(cohort=cohort, actor=admin)

    assert second.pk != first.pk
    _sign(_latest_link("ops@ubuntu.example"))
    assert cohort_sponsor_status(cohort).state == "signed"


def test_other_edits_keep_the_sponsors_link(admin, cohort, sponsor):
    submission = sponsor_invite(cohort=cohort, actor=admin)
    renamed = UBUNTU | {"contact_name": "Sipho M. Dlamini", "contact_email": "SIPHO@ubuntu.example"}

    sponsor_update(sponsor=sponsor, actor=admin, **renamed)

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING
    assert _latest_link(UBUNTU["contact_email"]).state == "usable"


def test_a_cancelled_cohort_revokes_the_sponsors_open_link(admin, cohort):
    sponsor_invite(cohort=cohort, actor=admin)
    link = _latest_link(UBUNTU["contact_email"])

    cohort_cancel(cohort=cohort, actor=admin, reason="Not enough students.")

    with pytest.raises(PermissionDenied):
        _sign(link)
    assert cohort_sponsor_status(cohort).state == "revoked"


def test_revoking_stops_the_link_and_is_audited(admin, cohort):
    submission = sponsor_invite(cohort=cohort, actor=admin)
    link = _latest_link(UBUNTU["contact_email"])

    assert sponsor_invite_revoke(cohort=cohort, actor=admin) == submission

    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.REVOKED
    with pytest.raises(PermissionDenied):
        _sign(link)
    assert _audit("sponsor.invite_revoked", cohort).new_values == {"submission": submission.pk}
    status = cohort_sponsor_status(cohort)
    assert (status.state, status.label, status.can_invite) == ("revoked", "Link revoked", True)
    # Inviting again sends a new agreement with a link that works.
    again = sponsor_invite(cohort=cohort, actor=admin)
    assert again.pk != submission.pk
    _sign(_latest_link(UBUNTU["contact_email"]))
    assert cohort_sponsor_status(cohort).state == "signed"


@pytest.mark.parametrize("stage", ["not_invited", "signed", "revoked"])
def test_revoking_needs_an_open_link(admin, cohort, stage):
    if stage != "not_invited":
        sponsor_invite(cohort=cohort, actor=admin)
    if stage == "signed":
        _sign(_latest_link(UBUNTU["contact_email"]))
    if stage == "revoked":
        sponsor_invite_revoke(cohort=cohort, actor=admin)
    with pytest.raises(ValidationError, match="no open link"):
        sponsor_invite_revoke(cohort=cohort, actor=admin)


def test_only_cohort_managers_revoke(admin, cohort):
    submission = sponsor_invite(cohort=cohort, actor=admin)
    with pytest.raises(PermissionDenied):
        sponsor_invite_revoke(cohort=cohort, actor=UserFactory(roles=[SystemRole.VERIFIER]))
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING


def test_the_cohort_page_asks_before_revoking_and_the_link_then_says_so(
    admin, cohort, client_of, client_for, institution
):
    submission = sponsor_invite(cohort=cohort, actor=admin)
    message = OutboundEmail.objects.filter(template="signing_request").latest("id")
    client = client_of(admin)
    dashboard = client.get(f"/cohorts/{cohort.pk}/").content.decode()
    assert f'href="/sponsors/cohort/{cohort.pk}/revoke/"' in dashboard
    assert "The link was sent to sipho@ubuntu.example." in dashboard

    confirm = client.get(f"/sponsors/cohort/{cohort.pk}/revoke/")
    assert confirm.status_code == 200
    assert "sipho@ubuntu.example" in confirm.content.decode()
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING  # asking changes nothing

    response = client.post(
        f"/sponsors/cohort/{cohort.pk}/revoke/", {"reason": "Wrong contact person"}, follow=True
    )
    assert response.redirect_chain == [(f"/cohorts/{cohort.pk}/", 302)]
    assert submission.events.get(kind="revoked").data["reason"] == "Wrong contact person"
    page = response.content.decode()
    assert "The sponsor&#x27;s link is revoked" in page
    assert "Link revoked" in page
    assert "Invite again" in page
    assert f"/sponsors/cohort/{cohort.pk}/revoke/" not in page

    sponsor_client = client_for(institution)
    sponsor_client.defaults["REMOTE_ADDR"] = "10.77.0.2"
    opened = sponsor_client.get(urlsplit(message.context["sign_url"]).path)
    assert opened.status_code == 410
    assert "This signing link has been withdrawn" in opened.content.decode()


def test_revoking_with_no_open_link_says_why(admin, cohort, client_of):
    client = client_of(admin)
    confirm = client.get(f"/sponsors/cohort/{cohort.pk}/revoke/").content.decode()
    assert "there is nothing to revoke" in confirm
    assert "Revoke the link</button>" not in confirm
    response = client.post(f"/sponsors/cohort/{cohort.pk}/revoke/", follow=True)
    assert "The sponsor has no open link to revoke." in response.content.decode()


@pytest.mark.parametrize("role", [SystemRole.STUDENT, SystemRole.VERIFIER])
def test_revoke_page_is_not_found_for_students_and_verifiers(admin, cohort, client_of, role):
    submission = sponsor_invite(cohort=cohort, actor=admin)
    client = client_of(UserFactory(roles=[role]))
    assert client.get(f"/sponsors/cohort/{cohort.pk}/revoke/").status_code == 404
    assert client.post(f"/sponsors/cohort/{cohort.pk}/revoke/").status_code == 404
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING


def test_an_agreement_sent_to_a_former_sponsors_contact_is_not_the_new_sponsors(
    admin, cohort, sponsor
):
    from django.apps import apps
    from django.db import connection

    from sponsors.models import Sponsor, SponsorAgreement

    second = importlib.import_module("sponsors.migrations.0003_link_unmatched_agreements")
    sponsor_invite(cohort=cohort, actor=admin)
    _sign(_latest_link(UBUNTU["contact_email"]))
    karoo = sponsor_create(actor=admin, **KAROO)
    cohort = cohort_sponsor_set(cohort=cohort, sponsor=karoo, actor=admin)
    Sponsor.objects.filter(pk=sponsor.pk).update(contact_email="gone@ubuntu.example")
    SponsorAgreement.objects.all().delete()

    second.link_unmatched_agreements(apps, connection.schema_editor())

    assert not SponsorAgreement.objects.exists()
    assert cohort_sponsor_status(cohort).state == "not_invited"
