"""Reviewers see only what they may: a verifier of cohort A gets 404 for cohort B's documents
(page, file, enrolment, bulk approval) and never finds them in the queue or its filters;
another institution's ids are 404; people without a reviewing role get 404 everywhere."""

import pytest
from django.db import connection
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import SystemRole
from enrolments.models import CohortEnrollment, DocumentStatus, StudentDocument
from enrolments.services import enrollment_invite
from tests.factories import CohortFactory, UserFactory
from verification.models import DocumentVerification

from .conftest import id_type

pytestmark = pytest.mark.django_db


def _urls(document) -> list[str]:
    return [
        reverse("verification:document", args=[document.pk]),
        reverse("verification:document_file", args=[document.pk]),
        reverse("verification:enrollment", args=[document.enrollment_id]),
    ]


@pytest.fixture
def two_cohorts(enrol, upload):
    """A document waiting in cohort A and one in cohort B."""
    in_a = upload(enrol(cohort=CohortFactory(name="Cohort A")), id_type())
    in_b = upload(enrol(cohort=CohortFactory(name="Cohort B")), id_type())
    return in_a, in_b


def test_a_verifier_sees_only_the_cohorts_granted_to_them(two_cohorts, verifier_for, client_of):
    in_a, in_b = two_cohorts
    client = client_of(verifier_for(in_a.enrollment.cohort))

    for url in _urls(in_a):
        assert client.get(url).status_code == 200, url
    for url in _urls(in_b):
        assert client.get(url).status_code == 404, url
    refused = client.post(reverse("verification:document", args=[in_b.pk]), {"decision": "approve"})
    assert refused.status_code == 404
    in_b.refresh_from_db()
    assert in_b.status == DocumentStatus.PENDING


def test_the_queue_and_its_filters_never_show_another_cohort(two_cohorts, verifier_for, client_of):
    in_a, in_b = two_cohorts
    cohort_b = in_b.enrollment.cohort
    client = client_of(verifier_for(in_a.enrollment.cohort))

    queue = client.get(reverse("verification:queue"))
    assert f'name="documents" value="{in_a.pk}"' in queue.text
    assert f'name="documents" value="{in_b.pk}"' not in queue.text
    assert "Cohort A (1)" in queue.text
    assert "Cohort B" not in queue.text
    assert 'data-count="total">1<' in queue.text

    filtered = client.get(reverse("verification:queue"), {"cohort": cohort_b.pk})
    assert filtered.status_code == 200
    assert f'name="documents" value="{in_b.pk}"' not in filtered.text
    assert "Cohort B" not in filtered.text
    assert "Select a valid choice." in filtered.text
    # The review page's "next document" never leads into cohort B either.
    page = client.get(
        reverse("verification:document", args=[in_a.pk]), {"cohort": cohort_b.pk}
    ).text
    assert reverse("verification:document", args=[in_b.pk]) not in page


def test_bulk_approval_ignores_another_cohorts_documents(two_cohorts, verifier_for, client_of):
    in_a, in_b = two_cohorts
    verifier = verifier_for(in_a.enrollment.cohort)

    client_of(verifier).post(
        reverse("verification:bulk_approve"), {"documents": [in_a.pk, in_b.pk]}
    )

    assert list(DocumentVerification.objects.values_list("document_id", flat=True)) == [in_a.pk]
    in_b.refresh_from_db()
    assert in_b.status == DocumentStatus.PENDING


def test_a_revoked_verifier_loses_access(two_cohorts, verifier_for, client_of, admin):
    from cohorts.services import cohort_reviewer_set

    in_a, _ = two_cohorts
    verifier = verifier_for(in_a.enrollment.cohort)
    cohort_reviewer_set(
        cohort=in_a.enrollment.cohort, actor=admin, reviewer=verifier, allowed=False
    )
    client = client_of(verifier)
    for url in _urls(in_a):
        assert client.get(url).status_code == 404, url
    assert (
        f'name="documents" value="{in_a.pk}"' not in client.get(reverse("verification:queue")).text
    )


@pytest.mark.parametrize(
    "roles", [[SystemRole.STUDENT], [SystemRole.AUDITOR], [SystemRole.TRAINER]]
)
def test_people_without_a_reviewing_role_get_404(two_cohorts, client_of, roles):
    in_a, _ = two_cohorts
    client = client_of(UserFactory(roles=roles))
    for url in [reverse("verification:queue"), *_urls(in_a)]:
        assert client.get(url).status_code == 404, url
    response = client.post(reverse("verification:bulk_approve"), {"documents": [in_a.pk]})
    assert response.status_code == 404
    assert not DocumentVerification.objects.exists()


def test_the_student_cannot_review_their_own_document(two_cohorts, client_of):
    in_a, _ = two_cohorts
    client = client_of(in_a.enrollment.user)
    for url in _urls(in_a):
        assert client.get(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_sign_in(two_cohorts, client_for, institution):
    in_a, _ = two_cohorts
    client = client_for(institution)
    for url in [reverse("verification:queue"), *_urls(in_a)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def _sequence_value(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_value FROM {table}_id_seq")
        return cursor.fetchone()[0]


def _advance_sequence(table: str, value: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval('{table}_id_seq', GREATEST(last_value, %s)) FROM {table}_id_seq",
            [value],
        )


def test_another_institutions_document_is_not_found(
    other_institution, institution, client_for, upload, enrol
):
    connection.set_tenant(institution)
    ours = upload(enrol(), id_type())
    tables = ["enrolments_studentdocument", "enrolments_cohortenrollment"]
    beyond = {table: _sequence_value(table) + 1000 for table in tables}
    with tenant_context(other_institution):
        # Ids are per institution: give the other's rows ids that name nothing here.
        for table in tables:
            _advance_sequence(table, beyond[table])
        enrollment = enrollment_invite(
            cohort=CohortFactory(name="Beta cohort"),
            actor=UserFactory(roles=[SystemRole.ADMIN]),
            email="beta-student@example.org",
            full_name="Beta Student",
        )
        theirs = upload(enrollment, id_type())
    connection.set_tenant(institution)
    assert not StudentDocument.objects.filter(pk=theirs.pk).exists()
    assert not CohortEnrollment.objects.filter(pk=theirs.enrollment_id).exists()
    client = client_for(institution)
    client.force_login(UserFactory(roles=[SystemRole.ADMIN]))

    for url in _urls(theirs):
        assert client.get(url).status_code == 404, url
    queue = client.get(reverse("verification:queue"))
    assert f'name="documents" value="{ours.pk}"' in queue.text
    assert f'name="documents" value="{theirs.pk}"' not in queue.text
    assert "Beta cohort" not in queue.text
