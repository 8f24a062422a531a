"""Every page that showed a student's ID number in full before learners shows it masked to its
last four digits; the whole number is only in the audited "show"."""

import pytest
from django.urls import reverse

from enrolments.services import enrollment_details_save
from tests.learners.support import details_of, sa_id_number

pytestmark = pytest.mark.django_db

NUMBER = sa_id_number(4321)


@pytest.fixture
def given(enrol):
    """A student who gave their details, ID number included."""
    enrollment = enrol(full_name="Thandi Mokoena")
    enrollment_details_save(
        enrollment=enrollment, actor=enrollment.user, details=details_of(id_number=NUMBER)
    )
    return enrollment


@pytest.mark.parametrize(
    "page",
    ["portal enrolment", "portal details form", "review enrolment", "students export"],
)
def test_the_number_is_masked(page, given, client_of, admin_client):
    student = client_of(given.user)
    response = {
        "portal enrolment": lambda: student.get(reverse("enrolments:detail", args=[given.pk])),
        "portal details form": lambda: student.get(reverse("enrolments:details", args=[given.pk])),
        "review enrolment": lambda: admin_client.get(
            reverse("verification:enrollment", args=[given.pk])
        ),
        "students export": lambda: admin_client.get(
            f"/cohorts/{given.cohort_id}/export/students.csv"
        ),
    }[page]()

    text = response.content.decode("utf-8-sig")
    assert response.status_code == 200
    assert NUMBER not in text
    assert NUMBER[-4:] in text


def test_the_review_page_offers_the_audited_show_to_those_allowed(given, admin_client):
    page = admin_client.get(reverse("verification:enrollment", args=[given.pk])).content.decode()
    assert f"•••• {NUMBER[-4:]}" in page
    assert reverse("learners:national_id", args=[given.learner.pk]) in page
