"""What delivery does when others' records move on: a sync job of one of its records was
queued or recorded (its sync columns follow the record's latest job, in the job's transaction),
and a learner consented to sharing with the funding body (what waited for it is queued).
Connected in DeliveryConfig.ready."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Sum

from delivery import gateway
from delivery.models import (
    Assessment,
    AttendanceRecord,
    CourseEnrollment,
    CourseRun,
    CourseRunStatus,
)
from delivery.services.gateway_sync import learner_delivery_sync
from integrations import payloads
from integrations.models import SyncJob, SyncJobStatus, SyncJobType, SyncStatus
from learners.models import ConsentKind, Learner

_RECORDS: dict[str, type[Model]] = {
    gateway.COURSE_RUN: CourseRun,
    gateway.COURSE_ENROLMENT: CourseEnrollment,
    gateway.ATTENDANCE: AttendanceRecord,
    gateway.ASSESSMENT: Assessment,
}
# Jobs that withdraw the record at the gateway: once accepted, the record stands cancelled there.
_WITHDRAWALS = frozenset(
    {SyncJobType.COURSE_RUN_CANCEL, SyncJobType.ENROLMENT_CANCEL, SyncJobType.ASSESSMENT_VOID}
)
# How integrations words a job held back by a send check (payloads.PayloadWithheld).
_WITHHELD_PREFIX = payloads.WITHHELD_PREFIX
_JOB_CANCELLED = "An administrator took this version out of the queue: it was not sent."


@dataclass(frozen=True)
class Standing:
    """A record's standing at the gateway as its latest job has it."""

    status: str
    error: str


def job_standing(job: SyncJob) -> Standing:
    if job.status in (SyncJobStatus.QUEUED, SyncJobStatus.RUNNING):
        return Standing(SyncStatus.PENDING, job.last_error)
    if job.status == SyncJobStatus.SUCCEEDED:
        accepted = SyncStatus.CANCELLED if job.job_type in _WITHDRAWALS else SyncStatus.ACCEPTED
        return Standing(accepted, "")
    if job.status == SyncJobStatus.CANCELLED:
        return Standing(SyncStatus.NOT_SENT, _JOB_CANCELLED)
    if job.last_error.startswith(_WITHHELD_PREFIX):
        return Standing(SyncStatus.WITHHELD, job.last_error)
    return Standing(SyncStatus.FAILED, job.last_error)


def sync_jobs_recorded_follow(sender: type[SyncJob], *, jobs: list[SyncJob], **kwargs: Any) -> None:
    for job in jobs:
        _job_follow(job)


def _job_follow(job: SyncJob) -> None:
    """Keep the record's sync columns from its latest job. A superseded job, or one a newer
    version of the record has followed, leaves them as the newer job has them."""
    model = _RECORDS.get(job.entity_type)
    if model is None or job.status == SyncJobStatus.SUPERSEDED:
        return
    jobs = SyncJob.objects.filter(entity_type=job.entity_type, entity_id=job.entity_id)
    if jobs.filter(pk__gt=job.pk).exists():
        return
    standing = job_standing(job)
    if model is CourseRun:
        _run_follow(job, standing)
        return
    columns: dict[str, Any] = {"sync_status": standing.status, "sync_error": standing.error}
    if job.status == SyncJobStatus.SUCCEEDED and job.external_reference:
        columns["sync_reference"] = job.external_reference
    if model is CourseEnrollment:
        columns["sync_attempts"] = jobs.aggregate(total=Sum("attempts"))["total"] or 0
    model._default_manager.filter(pk=job.entity_id).update(**columns)


def _run_follow(job: SyncJob, standing: Standing) -> None:
    """A run's standing is its status (draft until first sent), through its transitions."""
    run = CourseRun.objects.filter(pk=job.entity_id).first()
    if run is None:
        return
    fields = ["sync_version", "sync_error"]
    run.sync_version = max(run.sync_version, job.version)
    run.sync_error = standing.error
    if job.status == SyncJobStatus.SUCCEEDED and job.external_reference:
        run.external_id = job.external_reference
        fields.append("external_id")
    transitions: dict[str, Callable[[], None]] = {
        SyncStatus.PENDING: run.sync_queued,
        SyncStatus.ACCEPTED: run.sync_accepted,
        SyncStatus.FAILED: run.sync_failed,
        SyncStatus.WITHHELD: run.sync_failed,
    }
    transition = transitions.get(standing.status)
    if run.status != CourseRunStatus.CANCELLED and transition is not None:
        transition()
        fields.append("status")
    run.save(update_fields=[*fields, "updated_at"])


def learner_consent_changed_sync(
    sender: type[Learner], *, learner: Learner, kind: str, given: bool, **kwargs: Any
) -> None:
    """A learner's course enrolments, attendance and results wait for their consent to sharing
    with the funding body: they go once it is given."""
    if given and kind == ConsentKind.FUNDING_BODY_SHARING:
        learner_delivery_sync(learner)
