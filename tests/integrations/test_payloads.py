"""What the gateway receives for a cohort and an enrolment, built by the domain apps' payload
builders (cohorts.gateway, enrolments.gateway), and the registry that holds them."""

import pytest

from cohorts.services import cohort_cancel, cohort_create
from enrolments.services import enrollment_invite, enrollment_withdraw
from integrations.models import SyncJob
from signing.models import AgreementTemplate

pytestmark = pytest.mark.django_db


def test_a_cohort_is_sent_as_a_course_run_and_its_cancellation_with_the_reason(
    connected, admin, institution
):
    institution.registration_number = "2015/123456/07"
    cohort = cohort_create(
        actor=admin,
        name="Plumbing 2027",
        program_type="learnership",
        start_date="2027-02-01",
        end_date="2027-11-30",
        student_count=20,
        main_template=AgreementTemplate.objects.order_by("pk").first(),
    )
    cohort_cancel(cohort=cohort, actor=admin, reason="No sponsor")

    create, update = SyncJob.objects.order_by("id")
    run = {
        "reference": f"cohort-{cohort.pk}",
        "title": "Plumbing 2027",
        "courseDates": {"start": "20270201", "end": "20271130"},
        "intakeSize": 20,
        "status": "draft",
    }
    provider = {"uen": "2015/123456/07"}
    assert (create.job_type, create.entity_type) == ("course_run_create", "cohorts.cohort")
    assert create.payload == {
        "course": {
            "trainingProvider": provider,
            "courseReferenceNumber": "learnership",
            "run": run,
        }
    }
    assert update.job_type == "course_run_update"
    assert update.payload == {
        "course": {
            "trainingProvider": provider,
            "courseReferenceNumber": "learnership",
            "run": {**run, "status": "cancelled", "cancellationReason": "No sponsor"},
        }
    }


def test_an_enrolment_is_sent_with_its_trainee_and_cancelled_with_the_reason(
    connected, admin, institution
):
    from tests.factories import CohortFactory

    cohort = CohortFactory()
    enrollment = enrollment_invite(
        cohort=cohort,
        actor=admin,
        email="thandi@example.org",
        full_name="Thandi Nkosi",
        id_number="9001015009087",
    )
    enrollment_withdraw(enrollment=enrollment, actor=admin, reason="Moved away")

    create, cancel = SyncJob.objects.filter(entity_type="enrolments.cohortenrollment").order_by(
        "id"
    )
    assert create.job_type == "enrolment_create"
    assert create.payload == {
        "enrolment": {
            "reference": f"enrolment-{enrollment.pk}",
            "course": {"run": {"reference": f"cohort-{cohort.pk}"}},
            "trainee": {
                "idNumber": "9001015009087",
                "fullName": "Thandi Nkosi",
                "email": "thandi@example.org",
            },
        }
    }
    assert cancel.job_type == "enrolment_cancel"
    assert cancel.payload == {
        "enrolment": {
            "action": "Cancel",
            "reference": f"enrolment-{enrollment.pk}",
            "reason": "Moved away",
        }
    }
