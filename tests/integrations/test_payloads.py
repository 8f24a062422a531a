"""What the gateway receives for a cohort and an enrolment, built by the domain apps' payload
builders (cohorts.gateway, enrolments.gateway), and the registry that holds them."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from cohorts.gateway import build_cohort_payload
from cohorts.services import cohort_cancel, cohort_create
from enrolments.gateway import build_enrolment_payload
from enrolments.services import enrollment_withdraw
from integrations import payloads
from integrations.models import SyncJob, SyncJobStatus
from integrations.payloads import PayloadBuilderMissing, PayloadBuilders, SyncRequest
from integrations.services import sync_enqueue_for, sync_enqueue_many, sync_job_run
from signing.models import AgreementTemplate
from tests.factories import CohortFactory, UserFactory
from tests.integrations.conftest import invite_consenting

pytestmark = pytest.mark.django_db


def build_course_run_payload(run, *, reported):
    return SyncRequest("course_run_create", {"run": run.pk})


# --- The registry ---------------------------------------------------------------------------


def test_a_registered_builder_is_the_one_found_for_its_entity_type():
    builders = PayloadBuilders()
    builders.register("delivery.courserun", build_course_run_payload)
    builders.register("delivery.courserun", build_course_run_payload)  # set up twice: harmless

    assert builders.builder_for("delivery.courserun") is build_course_run_payload


def test_a_second_builder_for_the_same_entity_type_is_refused():
    builders = PayloadBuilders()
    builders.register("delivery.courserun", build_course_run_payload)

    with pytest.raises(ImproperlyConfigured, match="'delivery.courserun' is already registered"):
        builders.register("delivery.courserun", lambda run, *, reported: None)
    assert builders.builder_for("delivery.courserun") is build_course_run_payload


@pytest.mark.parametrize("entity_type", ["courserun", "delivery.CourseRun", "Delivery.courserun"])
def test_an_entity_type_that_is_not_a_model_label_is_refused(entity_type):
    with pytest.raises(ValueError, match="not a model label in lower case"):
        PayloadBuilders().register(entity_type, build_course_run_payload)


def test_an_entity_type_without_a_builder_is_refused():
    with pytest.raises(PayloadBuilderMissing, match="No payload builder is registered for 'a.b'"):
        PayloadBuilders().builder_for("a.b")


def test_the_cohort_and_enrolment_apps_register_their_builders():
    assert payloads.builder_for("cohorts.cohort") is build_cohort_payload
    assert payloads.builder_for("enrolments.cohortenrollment") is build_enrolment_payload


def test_queueing_a_record_whose_type_has_no_builder_is_refused_with_or_without_a_connector(
    institution, gateway
):
    from tests.integrations.conftest import configure

    person = UserFactory()
    with pytest.raises(PayloadBuilderMissing, match="'accounts.user'"):
        sync_enqueue_for(person)
    configure(gateway)
    with pytest.raises(PayloadBuilderMissing, match="'accounts.user'"):
        sync_enqueue_many([person])
    assert not SyncJob.objects.exists()


def test_records_of_two_types_cannot_be_queued_together(connected, admin):
    with pytest.raises(ValueError, match="records of one type"):
        sync_enqueue_many([CohortFactory(), admin])
    assert not SyncJob.objects.exists()


def test_a_job_type_the_gateway_has_no_path_for_fails_at_once(connected):
    job = SyncJob.objects.create(
        job_type="learner_create",
        entity_type="gateway.record",
        entity_id="1",
        idempotency_key="k" * 64,
        payload={"learner": {}},
        payload_hash="h" * 64,
    )

    failed = sync_job_run(job_id=job.pk)

    assert failed.status == SyncJobStatus.FAILED
    assert "takes no 'learner_create' jobs" in failed.last_error
    assert connected.submissions == []


# --- What the domain apps' builders send ----------------------------------------------------


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
    cohort = CohortFactory()
    enrollment = invite_consenting(
        cohort=cohort,
        actor=admin,
        email="thandi@example.org",
        full_name="Thandi Nkosi",
        id_number="9001015009087",
    )
    enrollment_withdraw(enrollment=enrollment, actor=admin, reason="Moved away")
    enrollment.refresh_from_db()
    assert sync_enqueue_for(enrollment) is None  # cancelled once: nothing more to send

    create, cancel = SyncJob.objects.filter(entity_type="enrolments.cohortenrollment").order_by(
        "id"
    )
    assert create.job_type == "enrolment_create"
    assert create.payload == {
        "enrolment": {
            "reference": f"enrolment-{enrollment.pk}",
            "course": {"run": {"reference": f"cohort-{cohort.pk}"}},
            "trainee": {
                # The number itself is filled in when the job is sent (learners.gateway).
                "idNumber": {
                    "$national_id": enrollment.learner_id,
                    "digest": enrollment.learner.national_id_hash[:16],
                },
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
