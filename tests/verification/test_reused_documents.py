"""A document waiting for review counts for every open enrolment of its learner that uses it:
it is reviewed from any of them, by a reviewer of that enrolment's cohort, even once the
enrolment it was uploaded for is withdrawn or closed."""

import pytest
from django.urls import reverse

from enrolments.models import DocumentStatus, VerificationState
from enrolments.services import enrollment_withdraw
from tests.factories import CohortFactory
from verification.models import DocumentVerification
from verification.selectors import queue_cohort_choices, review_counts_by_cohort, review_queue
from verification.services import document_review

from .conftest import id_type, matric_type, upload_document

pytestmark = pytest.mark.django_db


@pytest.fixture
def reused(enrol):
    """A learner enrolled in two cohorts, whose ID was uploaded for the first and waits for
    review: it counts for the second too."""
    email = "twice@example.org"
    first = enrol(cohort=CohortFactory(active=True, name="First cohort"), email=email)
    second = enrol(cohort=CohortFactory(active=True, name="Second cohort"), email=email)
    document = upload_document(first, id_type())
    return first, second, document


def test_a_reviewer_of_the_other_cohort_finds_and_decides_it(reused, verifier_for, client_of):
    first, second, document = reused
    verifier = verifier_for(second.cohort)

    [queued] = review_queue(user=verifier)
    assert queued == document
    assert (queued.review_enrollment_id, queued.review_cohort_name) == (second.pk, "Second cohort")
    assert review_counts_by_cohort(user=verifier, cohort_ids=[second.cohort.pk]) == {
        second.cohort.pk: 1
    }
    assert [(cohort.pk, cohort.waiting) for cohort in queue_cohort_choices(user=verifier)] == [
        (second.cohort.pk, 1)
    ]
    client = client_of(verifier)
    page = client.get(reverse("verification:queue")).content.decode()
    assert reverse("verification:enrollment", args=[second.pk]) in page
    assert client.get(reverse("verification:document", args=[document.pk])).status_code == 200

    decision = document_review(document=document, reviewer=verifier, approve=True)

    assert decision.cohort_enrollment == second
    document.refresh_from_db()
    assert document.status == DocumentStatus.VERIFIED


def test_once_its_enrolment_is_withdrawn_it_is_reviewed_from_the_other(reused, admin, verifier_for):
    first, second, document = reused
    upload_document(second, matric_type())
    enrollment_withdraw(enrollment=first, actor=admin, reason="Moved")

    assert document in review_queue(user=admin)
    assert document in review_queue(user=admin, cohort=second.cohort)
    assert document not in review_queue(user=admin, cohort=first.cohort)

    document_review(document=document, reviewer=admin, approve=False, reason="Blurred.")

    second.refresh_from_db()
    assert second.document_verification_state == VerificationState.REJECTED
    assert DocumentVerification.objects.get(document=document).cohort_enrollment == second


def test_a_reviewer_of_neither_cohort_finds_nothing(reused, verifier_for, client_of):
    _first, _second, document = reused
    stranger = verifier_for(CohortFactory(active=True))
    assert not review_queue(user=stranger).exists()
    response = client_of(stranger).get(reverse("verification:document", args=[document.pk]))
    assert response.status_code == 404


def test_a_cohort_asking_for_a_fresh_copy_does_not_count_it(enrol, verifier_for):
    email = "twice@example.org"
    first = enrol(email=email)
    fresh = CohortFactory(active=True)
    fresh.fresh_document_types.set([id_type()])
    second = enrol(cohort=fresh, email=email)
    document = upload_document(first, id_type())
    verifier = verifier_for(second.cohort)
    assert document not in review_queue(user=verifier)


def test_a_reviewer_of_an_ended_enrolment_does_not_see_what_came_after(
    reused, admin, verifier_for, client_of
):
    """A reviewer kept on a cohort whose enrolment of the learner ended sees nothing uploaded
    for the learner's later enrolments."""
    first, second, _document = reused
    enrollment_withdraw(enrollment=first, actor=admin, reason="Moved")
    later = upload_document(second, id_type())  # a type the ended enrolment required too
    verifier = verifier_for(first.cohort)

    assert later not in review_queue(user=verifier)
    assert (
        client_of(verifier).get(reverse("verification:document", args=[later.pk])).status_code
        == 404
    )
