"""Queueing what the training gateway sees of delivery (delivery.gateway builds it): each
delivery service calls one of these at the end of its transaction, so that a change and its
gateway job commit together (the outbox). Records are loaded with what their builders read, so
a register of 200 learners is one query and one bulk insert. Nothing is read, and nothing is
queued, for an institution that reports to no gateway.

What a learner's records send depends on their consent to sharing with the funding body, which
is recorded with their Learner row locked (learners.services.consent_record, which then queues
what waited for it here). So each helper locks the learners involved, in one query and in pk
order, before it reads the records and builds their jobs: a change racing a consent either
commits first and is read by the consent's transaction, or waits for it and is read with the
jobs it queued (a void committing while consent is given never leaves a live pass behind)."""

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


def _learners_lock(learners: QuerySet[Learner]) -> None:
    """Lock the learners' rows (one query, pk order) until the transaction ends."""
    list(
        Learner.objects.select_for_update()
        .filter(pk__in=learners.values("pk"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def runs_sync(runs: Iterable[CourseRun]) -> None:
    """Queue each run's create, update or cancel."""
    if sync_reporting():
        sync_enqueue_many(sorted(runs, key=lambda run: run.pk))


def course_enrolments_sync(
    enrolments: QuerySet[CourseEnrollment], *, resend_unsent: bool = False
) -> None:
    """Queue each course enrolment's create, update or cancel."""
    if sync_reporting():
        _learners_lock(Learner.objects.filter(enrollments__course_enrollments__in=enrolments))
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
        _learners_lock(
            Learner.objects.filter(enrollments__course_enrollments__attendance__session=session)
        )
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


def assessment_sync(assessment: Assessment) -> None:
    """Queue one result's update or void (a result voided after moderation), and its learner's
    course enrolment (its course result follows)."""
    if not sync_reporting():
        return
    course_enrolments_sync(CourseEnrollment.objects.filter(assessments=assessment))
    sync_enqueue_many(_assessments().filter(pk=assessment.pk))


def learner_delivery_sync(learner: Learner) -> None:
    """Queue what waited for the learner (their consent to sharing with the funding body):
    their course enrolments, signed-off attendance and moderated results; a job that ended
    unsent goes again, the learner having changed. The records are read once the learner is
    locked (by the consent's transaction, and again here: harmless), so that a change another
    transaction committed meanwhile is what is queued."""
    if not sync_reporting():
        return
    _learners_lock(Learner.objects.filter(pk=learner.pk))
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
