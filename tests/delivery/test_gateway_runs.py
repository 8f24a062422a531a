"""Course runs and learners' places in them reach the training gateway from the delivery
services: created, changed and cancelled runs, enrolments with the programme's fee, drops, and
each record's sync columns following its jobs' outcomes."""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import SystemRole
from audit.services import CHANGED
from delivery.models import CourseRunStatus, SessionStatus
from delivery.services.runs import (
    RunChanges,
    cohort_runs_create,
    run_cancel,
    run_learner_drop,
    run_update,
)
from integrations.models import SyncJob, SyncJobStatus, SyncJobType, SyncStatus
from integrations.services import sync_job_cancel, sync_jobs_sweep
from learners.models import ConsentKind
from tests.delivery.runs_support import cohort_of, enrol, events
from tests.factories import CourseFactory, ProgrammeFactory, SessionFactory, UserFactory
from tests.learners.support import consents_give

pytestmark = pytest.mark.django_db


@pytest.fixture
def course():
    programme = ProgrammeFactory(
        fee_amount=Decimal("1500.00"), fee_currency="ZAR", subsidy_info="MICT SETA grant, 90%"
    )
    return CourseFactory(programme=programme, code="BA101", name="Business Basics")


def _changes(run, **fields) -> RunChanges:
    values = {
        "title": run.title,
        "start_date": run.start_date,
        "end_date": run.end_date,
        "delivery_mode": run.delivery_mode,
        "venue": run.venue,
        "capacity": run.capacity,
        "trainer": run.trainer,
        **fields,
    }
    return RunChanges(**values)


def test_a_run_is_registered_changed_and_its_columns_follow(admin, connected, course):
    cohort = cohort_of(course)
    run = cohort_runs_create(actor=admin, cohort=cohort).runs[0]
    run.refresh_from_db()
    assert (run.status, run.sync_version) == (CourseRunStatus.PENDING, 1)

    sync_jobs_sweep()
    run.refresh_from_db()
    assert run.status == CourseRunStatus.SYNCED
    held = connected.record("run", f"run-{run.pk}")
    assert held is not None
    assert run.external_id == held.gateway_reference

    run = run_update(actor=admin, run=run, changes=_changes(run, venue="Hall B"))
    run.refresh_from_db()
    assert (run.status, run.sync_version) == (CourseRunStatus.PENDING, 2)
    sync_jobs_sweep()
    run.refresh_from_db()
    assert run.status == CourseRunStatus.SYNCED
    held = connected.record("run", f"run-{run.pk}")
    assert held.body["venue"] == "Hall B"
    assert held.version == 2


def test_only_the_latest_version_speaks_for_the_run(admin, connected, course):
    """Changed twice before anything was sent: the first job's success leaves the run pending
    on the second."""
    run = cohort_runs_create(actor=admin, cohort=cohort_of(course)).runs[0]
    run_update(actor=admin, run=run, changes=_changes(run, venue="Hall B"))
    first, second = SyncJob.objects.filter(entity_id=str(run.pk)).order_by("pk")
    sync_jobs_sweep(limit=1)
    first.refresh_from_db()
    run.refresh_from_db()
    assert first.status == SyncJobStatus.SUCCEEDED
    assert run.status == CourseRunStatus.PENDING
    sync_jobs_sweep()
    run.refresh_from_db()
    assert run.status == CourseRunStatus.SYNCED
    assert run.sync_version == second.version == 2


def test_a_failed_run_says_why_in_words(admin, connected, course):
    connected.will("validation")
    run = cohort_runs_create(actor=admin, cohort=cohort_of(course)).runs[0]
    sync_jobs_sweep()
    run.refresh_from_db()
    assert run.status == CourseRunStatus.FAILED
    assert run.sync_error
    assert run.sync_error == SyncJob.objects.get(entity_id=str(run.pk)).last_error


def test_a_run_whose_queued_version_is_taken_out_of_the_queue_is_not_left_pending(
    admin, connected, course
):
    run = cohort_runs_create(actor=admin, cohort=cohort_of(course)).runs[0]
    sync_job_cancel(job=SyncJob.objects.get(entity_id=str(run.pk)), actor=None)
    run.refresh_from_db()
    assert run.status == CourseRunStatus.DRAFT  # the gateway never had it
    assert "took this version out of the queue" in run.sync_error


def test_a_run_whose_change_is_taken_out_of_the_queue_says_the_gateway_has_the_earlier(
    admin, connected, course
):
    run = cohort_runs_create(actor=admin, cohort=cohort_of(course)).runs[0]
    sync_jobs_sweep()
    run = run_update(actor=admin, run=run, changes=_changes(run, venue="Hall B"))
    sync_job_cancel(job=SyncJob.objects.filter(entity_id=str(run.pk)).latest("pk"), actor=None)
    run.refresh_from_db()
    assert run.status == CourseRunStatus.FAILED
    assert "the gateway keeps the version it accepted before" in run.sync_error
    assert connected.record("run", f"run-{run.pk}").body["venue"] != "Hall B"


def test_cancelling_a_run_cancels_its_sessions_and_its_registration(admin, connected, course):
    run = cohort_runs_create(actor=admin, cohort=cohort_of(course)).runs[0]
    sync_jobs_sweep()
    ahead = SessionFactory(course_run=run, session_date=datetime.date(2027, 3, 1))
    run = run_cancel(actor=admin, run=run, reason="The venue closed.")
    ahead.refresh_from_db()
    assert ahead.status == SessionStatus.CANCELLED
    assert ahead.cancellation_reason == "The venue closed."
    cancel = SyncJob.objects.get(entity_id=str(run.pk), job_type=SyncJobType.COURSE_RUN_CANCEL)
    assert cancel.payload["course"]["run"]["cancellationReason"] == "The venue closed."
    sync_jobs_sweep()
    run.refresh_from_db()
    assert run.status == CourseRunStatus.CANCELLED
    assert run.sync_error == ""
    assert connected.record("run", f"run-{run.pk}").status == "cancelled"
    (event,) = events("course_run.cancelled")
    assert event.new_values["sessions_cancelled"] == [ahead.pk]
    assert event.new_values["cancellation_reason"] == CHANGED  # a reason may say something personal
    assert "The venue closed." not in json.dumps([event.old_values, event.new_values])


def test_a_run_the_gateway_never_had_is_cancelled_without_a_job(admin, course):
    run = cohort_runs_create(actor=admin, cohort=cohort_of(course)).runs[0]
    run_cancel(actor=admin, run=run, reason="Not enough learners.")
    run.refresh_from_db()
    assert run.status == CourseRunStatus.CANCELLED
    assert not SyncJob.objects.exists()


def test_cancelling_a_run_is_refused_without_reason_twice_or_to_others(admin, course):
    run = cohort_runs_create(actor=admin, cohort=cohort_of(course)).runs[0]
    with pytest.raises(ValidationError, match="Say why the run is cancelled"):
        run_cancel(actor=admin, run=run, reason="  ")
    trainer = UserFactory(roles=[SystemRole.TRAINER])
    with pytest.raises(PermissionDenied):
        run_cancel(actor=trainer, run=run, reason="No.")
    run_cancel(actor=admin, run=run, reason="Not enough learners.")
    with pytest.raises(ValidationError, match="cancelled already"):
        run_cancel(actor=admin, run=run, reason="Again.")
    assert len(events("course_run.cancelled")) == 1


def test_a_moderated_run_cannot_be_cancelled(admin, course):
    run = cohort_runs_create(actor=admin, cohort=cohort_of(course)).runs[0]
    run.moderated_at = datetime.datetime(2027, 6, 1, tzinfo=datetime.UTC)
    run.save(update_fields=["moderated_at"])
    with pytest.raises(ValidationError, match="moderated and final"):
        run_cancel(actor=admin, run=run, reason="Too late.")


def test_enrolments_start_with_the_programmes_fee_and_reach_the_gateway(admin, connected, course):
    cohort = cohort_of(course)
    learner = enrol(admin, cohort=cohort, full_name="Lindiwe Dlamini")
    consents_give(learner.learner, ConsentKind.FUNDING_BODY_SHARING)
    run = cohort_runs_create(actor=admin, cohort=cohort).runs[0]
    (enrolment,) = run.enrollments.all()
    assert (enrolment.fee_amount, enrolment.fee_currency) == (Decimal("1500.00"), "ZAR")
    assert enrolment.subsidy_info == "MICT SETA grant, 90%"
    assert enrolment.sync_status == SyncStatus.PENDING

    sync_jobs_sweep()
    enrolment.refresh_from_db()
    run.refresh_from_db()
    held = connected.record("enrolment", f"course-enrolment-{enrolment.pk}")
    assert held.body["fees"] == {"amount": "1500.00", "currency": "ZAR"}
    assert held.body["subsidy"] == "MICT SETA grant, 90%"
    assert held.run == run.external_id != ""
    assert enrolment.sync_status == SyncStatus.ACCEPTED
    assert enrolment.sync_reference == held.gateway_reference
    assert enrolment.sync_attempts == 1


def test_a_dropped_learner_is_cancelled_at_the_gateway(admin, connected, course):
    cohort = cohort_of(course)
    learner = enrol(admin, cohort=cohort)
    consents_give(learner.learner, ConsentKind.FUNDING_BODY_SHARING)
    run = cohort_runs_create(actor=admin, cohort=cohort).runs[0]
    sync_jobs_sweep()
    (enrolment,) = run.enrollments.all()
    run_learner_drop(actor=admin, enrolment=enrolment, reason="Changed elective.")
    sync_jobs_sweep()
    enrolment.refresh_from_db()
    assert enrolment.sync_status == SyncStatus.CANCELLED
    assert connected.record("enrolment", f"course-enrolment-{enrolment.pk}").status == ("cancelled")


def test_attempts_count_every_try_and_a_dead_letter_says_why(
    admin, connected, course, fast_retries
):
    cohort = cohort_of(course)
    learner = enrol(admin, cohort=cohort)
    run = cohort_runs_create(actor=admin, cohort=cohort).runs[0]
    sync_jobs_sweep()  # the run alone: the learner has not consented yet
    connected.will("error_500", times=10)
    consents_give(learner.learner, ConsentKind.FUNDING_BODY_SHARING)
    (enrolment,) = run.enrollments.all()
    sync_jobs_sweep(limit=2)  # their cohort enrolment and course enrolment
    enrolment.refresh_from_db()
    assert enrolment.sync_status == SyncStatus.PENDING
    assert enrolment.sync_attempts == 1
    assert enrolment.sync_error
    for _ in range(10):
        sync_jobs_sweep()
    enrolment.refresh_from_db()
    job = SyncJob.objects.get(entity_id=str(enrolment.pk), entity_type="delivery.courseenrollment")
    assert job.status == SyncJobStatus.DEAD_LETTER
    assert enrolment.sync_status == SyncStatus.FAILED
    assert enrolment.sync_attempts == job.attempts
    assert enrolment.sync_error == job.last_error
