"""Nobody reviews in a closed cohort: a decision on a document of a completed or cancelled
cohort, alone or in a bulk approval, is refused with a message that says the cohort is closed
and writes nothing; the review page offers no decision and the queue does not list it."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from enrolments.models import DocumentStatus
from tests.enrolments.closed import counts
from verification.services import document_review, documents_bulk_approve

from .conftest import id_type, matric_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(enrol, upload, verifier_for):
    """Two documents of a student waiting for review, and a verifier of their cohort."""
    enrollment = enrol(full_name="Thandi Mokoena")
    documents = [upload(enrollment, id_type()), upload(enrollment, matric_type())]
    return documents, verifier_for(enrollment.cohort)


@pytest.mark.parametrize("approve", [True, False])
def test_no_decision_is_taken_in_a_closed_cohort(waiting, close, admin, approve):
    [document, _], verifier = waiting
    close(document.enrollment.cohort)
    before = counts()

    for reviewer in (admin, verifier):
        with pytest.raises(ValidationError) as refusal:
            document_review(document=document, reviewer=reviewer, approve=approve, reason="Dark.")
        assert refusal.value.messages == [
            f"This cohort is {close.state}; its documents can no longer be reviewed."
        ]

    assert counts() == before
    document.refresh_from_db()
    assert document.status == DocumentStatus.PENDING


def test_a_bulk_approval_in_a_closed_cohort_approves_nothing_and_says_why(waiting, close, admin):
    documents, _ = waiting
    close(documents[0].enrollment.cohort)
    before = counts()

    result = documents_bulk_approve(documents=documents, reviewer=admin)

    assert result.approved == []
    message = f"This cohort is {close.state}; its documents can no longer be reviewed."
    assert [(document, reason) for document, reason in result.refused] == [
        (documents[0], message),
        (documents[1], message),
    ]
    assert counts() == before


def test_the_review_pages_of_a_closed_cohort_offer_no_decision(
    waiting, close, client_of, admin_client
):
    documents, verifier = waiting
    document = documents[0]
    close(document.enrollment.cohort)
    message = f"This cohort is {close.state}; its documents can no longer be reviewed."
    url = reverse("verification:document", args=[document.pk])
    clients = [admin_client, client_of(verifier)]
    before = counts()

    for client in clients:
        queue = client.get(reverse("verification:queue")).content.decode()
        assert f'name="documents" value="{document.pk}"' not in queue
        page = client.get(url).content.decode()
        assert f"This cohort is {close.state}: its documents are no longer reviewed." in page
        assert "Approve" not in page
        assert "Reject" not in page

        refused = client.post(url, {"decision": "approve"}, follow=True)
        assert message in refused.content.decode()

        # Ticked on a queue page loaded before the cohort closed.
        bulk = client.post(
            reverse("verification:bulk_approve"),
            {"documents": [doc.pk for doc in documents]},
            follow=True,
        )
        text = bulk.content.decode()
        assert f"South African ID or passport of Thandi Mokoena: {message}" in text
        assert f"Matric certificate of Thandi Mokoena: {message}" in text
        assert "Approved" not in text

    assert counts() == before
