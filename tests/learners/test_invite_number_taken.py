"""The "invite a student" page refuses an ID number that another learner has, naming them beside
the field, and enrols nobody."""

import pytest
from django.urls import reverse

from accounts.models import User
from enrolments.models import CohortEnrollment
from enrolments.services import enrollment_invite
from learners.models import Learner
from tests.factories import CohortFactory
from tests.learners.support import sa_id_number

pytestmark = pytest.mark.django_db


def test_a_number_another_learner_has_is_refused_on_the_form_naming_them(admin, admin_client):
    number = sa_id_number(201)
    known = enrollment_invite(
        cohort=CohortFactory(),
        actor=admin,
        email="naledi@example.org",
        full_name="Naledi Mokoena",
        id_number=number,
    ).learner
    cohort = CohortFactory()
    learners = Learner.objects.count()

    response = admin_client.post(
        reverse("cohorts:student_invite", args=[cohort.pk]),
        {"full_name": "Someone Else", "email": "someone@example.org", "id_number": number},
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["id_number"] == [
        f"This ID number belongs to Naledi Mokoena (learner {known.pk}) already. If they are "
        "the same person, an admin can merge the two records."
    ]
    assert "This ID number belongs to Naledi Mokoena" in response.content.decode()
    assert not User.objects.filter(email="someone@example.org").exists()
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()
    assert Learner.objects.count() == learners


def test_the_same_number_for_the_same_person_enrols_them(admin, admin_client):
    number = sa_id_number(202)
    known = enrollment_invite(
        cohort=CohortFactory(),
        actor=admin,
        email="naledi@example.org",
        full_name="Naledi Mokoena",
        id_number=number,
    ).learner
    cohort = CohortFactory()

    response = admin_client.post(
        reverse("cohorts:student_invite", args=[cohort.pk]),
        {"full_name": "Naledi Mokoena", "email": "Naledi@example.org", "id_number": number},
    )

    assert response.status_code == 302
    assert CohortEnrollment.objects.get(cohort=cohort).learner == known


def test_a_returning_student_with_another_number_on_file_is_refused(admin, admin_client):
    enrollment_invite(
        cohort=CohortFactory(),
        actor=admin,
        email="naledi@example.org",
        full_name="Naledi Mokoena",
        id_number=sa_id_number(203),
    )
    cohort = CohortFactory()

    response = admin_client.post(
        reverse("cohorts:student_invite", args=[cohort.pk]),
        {
            "full_name": "Naledi Mokoena",
            "email": "naledi@example.org",
            "id_number": sa_id_number(204),
        },
    )

    assert response.status_code == 200
    assert (
        f"naledi@example.org has a different ID number on file (ending {sa_id_number(203)[-4:]})"
        in response.content.decode()
    )
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()
