"""The admin's pages of sent agreements: list, detail, a fresh link, revoking, the PDFs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import accounts.lists
from accounts.models import SystemRole
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from signing.models import SubmissionStatus
from signing.selectors import link_for_token
from tests.factories import CohortFactory, UserFactory
from tests.signing.conftest import last_link_to

pytestmark = pytest.mark.django_db


def test_the_list_names_each_agreement_its_subject_signers_and_status(
    admin_client, make_submission
):
    cohort = CohortFactory(name="Analytics 2027")
    make_submission(subject=cohort)
    response = admin_client.get("/agreements/sent/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Learnership agreement" in page
    assert f'href="/cohorts/{cohort.pk}/"' in page
    assert "Thandi Mokoena" in page
    assert "Sipho Dlamini" in page
    assert "Waiting for signatures" in page


def test_the_list_filters_by_status_and_searches_signers(admin_client, make_submission, admin):
    make_submission()
    other = make_submission(
        signers=[{"role": "student", "name": "Nomsa Zulu", "email": "nomsa@example.org"}]
    )
    admin_client.post(f"/agreements/sent/{other.pk}/revoke/", {"reason": "Wrong cohort"})

    def titles(query: str) -> list[int]:
        return [s.pk for s in admin_client.get(f"/agreements/sent/?{query}").context["page"]]

    assert titles("q=nomsa") == [other.pk]
    assert titles("status=revoked") == [other.pk]
    assert other.pk not in titles("status=pending")
    empty = admin_client.get("/agreements/sent/?q=nobody-at-all")
    assert "No agreement matches" in empty.content.decode()


def test_the_next_page_keeps_a_search_with_an_ampersand(admin_client, make_submission, monkeypatch):
    monkeypatch.setattr(accounts.lists, "PAGE_SIZE", 2)
    signer = {"role": "student", "name": "Thandi & Sipho", "email": "pair@example.org"}
    for _ in range(3):
        make_submission(signers=[signer])

    first = admin_client.get("/agreements/sent/", {"q": "Thandi & Sipho"})

    assert 'href="?q=Thandi+%26+Sipho&amp;page=2"' in first.content.decode()
    second = admin_client.get("/agreements/sent/?q=Thandi+%26+Sipho&page=2")
    assert len(second.context["page"]) == 1


def test_the_list_reads_subjects_in_one_query_per_kind(admin_client, make_submission):
    for _ in range(3):
        make_submission(subject=CohortFactory())
    with CaptureQueriesContext(connection) as few:
        admin_client.get("/agreements/sent/")
    for _ in range(5):
        make_submission(subject=CohortFactory())
    with CaptureQueriesContext(connection) as many:
        admin_client.get("/agreements/sent/")
    assert len(many) == len(few)


def test_the_detail_shows_each_signers_progress_and_the_trail(admin_client, make_submission):
    submission = make_submission()
    response = admin_client.get(f"/agreements/sent/{submission.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Their turn" in page
    assert "Learnership agreement, version 1" in page
    assert "Waiting for Thandi Mokoena" in page
    assert "to thandi@example.org" in page


def test_a_fresh_link_replaces_the_old_one(admin_client, make_submission):
    submission = make_submission()
    old = last_link_to("thandi@example.org")
    response = admin_client.post(f"/agreements/sent/{submission.pk}/resend/", follow=True)
    assert "A fresh link is on its way" in response.content.decode()
    new = last_link_to("thandi@example.org")
    assert new != old
    assert link_for_token(old).state == "revoked"
    assert link_for_token(new).state == "usable"
    assert (
        AuditEvent.objects.filter(action="signing.link_sent", entity_id=submission.pk).count() == 2
    )
    trail = response.content.decode()
    assert "Link e-mailed · Thandi Mokoena · to thandi@example.org" in trail
    assert "New link e-mailed · Thandi Mokoena · to thandi@example.org" in trail


def test_revoking_stops_every_link_and_keeps_the_reason(admin_client, make_submission, admin):
    submission = make_submission()
    token = last_link_to("thandi@example.org")
    response = admin_client.post(
        f"/agreements/sent/{submission.pk}/revoke/",
        {"reason": "Sent to the wrong person"},
        follow=True,
    )
    page = response.content.decode()
    assert "Agreement revoked" in page
    assert f"by {admin.full_name}." in page
    assert "Reason: “Sent to the wrong person”" in page
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.REVOKED
    assert link_for_token(token).state == "revoked"
    assert submission.events.filter(kind="revoked", data__reason="Sent to the wrong person")
    sent = OutboundEmail.objects.filter(template="signing_request").count()
    again = admin_client.post(f"/agreements/sent/{submission.pk}/resend/", follow=True)
    assert "This agreement is revoked." in again.content.decode()
    assert OutboundEmail.objects.filter(template="signing_request").count() == sent


def test_the_document_as_sent_is_a_pdf(admin_client, make_submission):
    submission = make_submission()
    response = admin_client.get(f"/agreements/sent/{submission.pk}/original.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        b"".join(response.streaming_content if response.streaming else [response.content])[:5]
        == b"%PDF-"
    )


@pytest.mark.parametrize("role", [SystemRole.VERIFIER, SystemRole.STUDENT])
def test_others_get_the_audited_not_found(institution, client_for, make_submission, role):
    submission = make_submission()
    client = client_for(institution)
    client.force_login(UserFactory(roles=[role]))
    assert client.get("/agreements/sent/").status_code == 404
    assert client.get(f"/agreements/sent/{submission.pk}/").status_code == 404
    assert client.post(f"/agreements/sent/{submission.pk}/revoke/").status_code == 404
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING


def test_an_unknown_agreement_is_not_found(admin_client):
    assert admin_client.get("/agreements/sent/999999/").status_code == 404
