"""Queueing what the training gateway sees of delivery (delivery.gateway builds it): each
delivery service calls one of these at the end of its transaction, so that a change and its
gateway job commit together (the outbox). Records are loaded with what their builders read, so
a register of 200 learners is one query and one bulk insert. Nothing is read, and nothing is
queued, for an institution that reports to no gateway."""

from collections.abc import Iterable

from django.db.models import QuerySet

from delivery.models import (
    Assessment,
    AttendanceRecord,
    CourseEnrollment,
    CourseRun,
    Session,
)
from integrations.selectors import sync_reporting
from integrations.services import sync_enqueue_many
from learners.models import Learner


def runs_sync(runs: Iterable[CourseRun]) -> None:
    """Queue each run's create, update or cancel."""
    if sync_reporting():
        sync_enqueue_many(sorted(runs, key=lambda run: run.pk))


def course_enrolments_sync(
    enrolments: QuerySet[CourseEnrollment], *, resend_unsent: bool = False
) -> None:
    """Queue each course enrolment's create, update or cancel."""
    if sync_reporting():
        sync_enqueue_many(
            enrolments.select_related(
                "course_run", "enrollment__learner", "enrollment__user"
            ).order_by("pk"),
            resend_unsent=resend_unsent,
        )


def _attendance_records() -> QuerySet[AttendanceRecord]:
    return AttendanceRecord.objects.select_related("session", "enrolment__enrollment__learner")


def session_attendance_sync(session: Session) -> None:
    """Queue the records of a signed-off register: all of them at sign-off, and after a
    correction the corrected ones (the others are unchanged, so nothing is queued for them)."""
    if sync_reporting():
        sync_enqueue_many(_attendance_records().filter(session=session).order_by("pk"))


def _assessments() -> QuerySet[Assessment]:
    return Assessment.objects.select_related(
        "enrolment__course_run", "enrolment__enrollment__learner", "assessor"
    )


def run_results_sync(run: CourseRun) -> None:
    """Queue a moderated run's results, and its learners' enrolments (now completed or not)."""
    if not sync_reporting():
        return
    course_enrolments_sync(CourseEnrollment.objects.filter(course_run=run))
    sync_enqueue_many(_assessments().filter(enrolment__course_run=run).order_by("pk"))


def learner_delivery_sync(learner: Learner) -> None:
    """Queue what waited for the learner (their consent to sharing with the funding body):
    their course enrolments, signed-off attendance and moderated results; a job that ended
    unsent goes again, the learner having changed."""
    if not sync_reporting():
        return
    course_enrolments_sync(
        CourseEnrollment.objects.filter(enrollment__learner=learner), resend_unsent=True
    )
    sync_enqueue_many(
        _attendance_records()
        .filter(enrolment__enrollment__learner=learner, signed_off_at__isnull=False)
        .order_by("pk"),
        resend_unsent=True,
    )
    sync_enqueue_many(
        _assessments()
        .filter(
            enrolment__enrollment__learner=learner,
            enrolment__course_run__moderated_at__isnull=False,
        )
        .order_by("pk"),
        resend_unsent=True,
    )
