"""A cohort's delivery sent to the fake gateway, for the reconciliation tests: one run with two
consenting learners, a signed-off register and moderated results, each record queued with
`sync_enqueue_many` and sent by the sweep (not through the delivery services, whose wiring to
the gateway is tested with them)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from delivery.models import (
    Assessment,
    AssessmentResult,
    AttendanceRecord,
    AttendanceStatus,
    CourseEnrollment,
    CourseRun,
    Session,
)
from integrations.models import SyncJob, SyncJobStatus
from integrations.services import sync_enqueue_many, sync_jobs_sweep
from learners.models import ConsentKind
from tests.delivery.results_support import learners_enrol
from tests.factories import CourseRunFactory, SessionFactory, UserFactory
from tests.learners.support import consents_give


@dataclass
class Delivered:
    run: CourseRun
    enrolments: list[CourseEnrollment]
    session: Session
    attendance: list[AttendanceRecord]
    results: list[Assessment]


def delivery_make(*, learners: int = 2, consenting: int | None = None, **run_fields) -> Delivered:
    """A run with `learners` learners (the first `consenting` of them, all by default, consent
    to sharing with the funding body), a signed-off session and moderated results."""
    assessor: User = UserFactory(full_name="Asa Assessor")
    now = timezone.now()
    run = CourseRunFactory(venue="Room 1", capacity=20, moderated_at=now, **run_fields)
    enrolments = learners_enrol(run, learners)
    for enrolment in enrolments[: learners if consenting is None else consenting]:
        consents_give(enrolment.enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)
    session = SessionFactory(
        course_run=run, start_time=datetime.time(9, 0), end_time=datetime.time(12, 0)
    )
    attendance = AttendanceRecord.objects.bulk_create(
        AttendanceRecord(
            session=session, enrolment=enrolment, status=AttendanceStatus.PRESENT, signed_off_at=now
        )
        for enrolment in enrolments
    )
    results = Assessment.objects.bulk_create(
        Assessment(
            enrolment=enrolment,
            assessment_type="Summative",
            score=Decimal("75.00"),
            result=AssessmentResult.PASS,
            assessed_at=now,
            assessor=assessor,
        )
        for enrolment in enrolments
    )
    return Delivered(run, enrolments, session, attendance, results)


# Sweeps enough for a record to wait once for each record it belongs to (result, enrolment, run).
SEND_ROUNDS = 10


def delivery_send(delivered: Delivered) -> None:
    """Queue every record of `delivered` as it is now and send all of it."""
    run = CourseRun.objects.get(pk=delivered.run.pk)
    sync_enqueue_many([run])
    sync_enqueue_many(
        CourseEnrollment.objects.filter(course_run=run).select_related(
            "course_run", "enrollment__learner", "enrollment__user"
        )
    )
    sync_enqueue_many(
        AttendanceRecord.objects.filter(session__course_run=run).select_related(
            "session", "enrolment__enrollment__learner"
        )
    )
    sync_enqueue_many(
        Assessment.objects.filter(enrolment__course_run=run).select_related(
            "assessor", "enrolment__course_run", "enrolment__enrollment__learner"
        )
    )
    jobs_send_all()


def jobs_send_all() -> None:
    """Send every queued job: a sweep may leave some queued (a batch starts sends only for the
    connector's time-out; a record waiting for one being sent looks again later), so each
    round makes the queued ones due and sweeps again, whatever the timing. A job that waited
    for a record nobody queued runs out of attempts: the delivery to send is made whole first."""
    unfinished = SyncJob.objects.filter(status__in=(SyncJobStatus.QUEUED, SyncJobStatus.RUNNING))
    for _ in range(SEND_ROUNDS):
        SyncJob.objects.filter(status=SyncJobStatus.QUEUED).update(next_retry_at=None)
        sync_jobs_sweep()
        if not unfinished.exists():
            break
    stuck = SyncJob.objects.filter(
        status__in=(SyncJobStatus.QUEUED, SyncJobStatus.RUNNING, SyncJobStatus.DEAD_LETTER)
    )
    assert not stuck.exists(), f"jobs not sent: {list(stuck.values('pk', 'status', 'last_error'))}"
