"""What delivery does when others' records move on: a sync job of one of its records was
queued or recorded (its sync columns follow the record's latest job, in the job's transaction),
and a learner consented to sharing with the funding body (what waited for it is queued).
Connected in DeliveryConfig.ready."""

import operator
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.db.models import Max, Model, Q, Sum
from django.utils import timezone

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
_JOB_CANCELLED = "An administrator took this version out of the queue: it was not sent."
_RUN_VERSION_CANCELLED = (
    "An administrator took the run's latest version out of the queue: it was not sent, and the "
    "gateway keeps the version it accepted before."
)


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
    if job.last_error.startswith(payloads.WITHHELD_PREFIX):
        return Standing(SyncStatus.WITHHELD, job.last_error)
    return Standing(SyncStatus.FAILED, job.last_error)


def sync_jobs_recorded_follow(sender: type[SyncJob], *, jobs: list[SyncJob], **kwargs: Any) -> None:
    """Keep the records' sync columns from their latest jobs, whatever the batch's size: one
    query for which jobs are their record's latest, then a few per kind of record. A superseded
    job, or one a newer version of its record has followed, leaves them as the newer job has
    them."""
    ours = [job for job in jobs if job.entity_type in _RECORDS]
    latest = _latest_jobs(ours)
    following: dict[str, list[SyncJob]] = defaultdict(list)
    for job in ours:
        newest = latest.get((job.entity_type, job.entity_id))
        if job.status != SyncJobStatus.SUPERSEDED and newest == job.pk:
            following[job.entity_type].append(job)
    for entity_type, model_jobs in following.items():
        if entity_type == gateway.COURSE_RUN:
            _runs_follow(model_jobs)
        else:
            _records_follow(_RECORDS[entity_type], model_jobs)


def _latest_jobs(jobs: list[SyncJob]) -> dict[tuple[str, str], int]:
    """(entity type, entity id) -> the id of the record's latest job, for the jobs' records."""
    if not jobs:
        return {}
    ids: dict[str, set[str]] = defaultdict(set)
    for job in jobs:
        ids[job.entity_type].add(job.entity_id)
    records = reduce(
        operator.or_,
        (Q(entity_type=entity_type, entity_id__in=sorted(of)) for entity_type, of in ids.items()),
    )
    rows = (
        SyncJob.objects.filter(records)
        .values("entity_type", "entity_id")
        .annotate(latest=Max("pk"))
        .values_list("entity_type", "entity_id", "latest")
    )
    return {(entity_type, entity_id): pk for entity_type, entity_id, pk in rows}


def _records_follow(model: type[Model], jobs: list[SyncJob]) -> None:
    """Course enrolments, attendance and results: their columns in one UPDATE per kind of change
    (with or without the gateway's reference); course enrolments count every attempt of theirs."""
    attempts: dict[str, int] = {}
    if model is CourseEnrollment:
        attempts = dict(
            SyncJob.objects.filter(
                entity_type=gateway.COURSE_ENROLMENT, entity_id__in=[job.entity_id for job in jobs]
            )
            .values("entity_id")
            .annotate(total=Sum("attempts"))
            .values_list("entity_id", "total")
        )
    referenced: list[Model] = []
    others: list[Model] = []
    for job in jobs:
        standing = job_standing(job)
        values: dict[str, Any] = {"sync_status": standing.status, "sync_error": standing.error}
        if model is CourseEnrollment:
            values["sync_attempts"] = attempts.get(job.entity_id) or 0
        if job.status == SyncJobStatus.SUCCEEDED and job.external_reference:
            values["sync_reference"] = job.external_reference
            referenced.append(model(pk=int(job.entity_id), **values))
        else:
            others.append(model(pk=int(job.entity_id), **values))
    columns = ["sync_status", "sync_error"]
    if model is CourseEnrollment:
        columns.append("sync_attempts")
    for records, fields in ((referenced, [*columns, "sync_reference"]), (others, columns)):
        if records:
            model._default_manager.bulk_update(records, fields)


def _runs_follow(jobs: list[SyncJob]) -> None:
    """A run's standing is its status (draft until first sent), through its transitions. The
    runs are locked and read afresh, so that one cancelled meanwhile stays cancelled whatever
    becomes of its earlier versions' jobs."""
    runs = (
        CourseRun.objects.select_for_update()
        .order_by("pk")
        .in_bulk([int(job.entity_id) for job in jobs])
    )
    now = timezone.now()
    changed = []
    for job in jobs:
        run = runs.get(int(job.entity_id))
        if run is None:
            continue
        standing = job_standing(job)
        run.sync_version = max(run.sync_version, job.version)
        run.sync_error = standing.error
        if job.status == SyncJobStatus.SUCCEEDED and job.external_reference:
            run.external_id = job.external_reference
        if run.status != CourseRunStatus.CANCELLED:
            _run_standing_set(run, job, standing)
        run.updated_at = now  # bulk_update does not touch auto_now fields
        changed.append(run)
    CourseRun.objects.bulk_update(
        changed, ["sync_version", "sync_error", "external_id", "status", "updated_at"]
    )


def _run_standing_set(run: CourseRun, job: SyncJob, standing: Standing) -> None:
    """Move a run that is not cancelled to its latest job's standing. One whose queued version
    an administrator took out of the queue goes back to draft if the gateway never had it, or
    stands failed (the gateway keeps an earlier version) if it had."""
    if job.status == SyncJobStatus.CANCELLED:
        if run.external_id:
            run.sync_failed()
            run.sync_error = _RUN_VERSION_CANCELLED
        else:
            run.sync_unsent()
        return
    transitions: dict[str, Callable[[], None]] = {
        SyncStatus.PENDING: run.sync_queued,
        SyncStatus.ACCEPTED: run.sync_accepted,
        SyncStatus.FAILED: run.sync_failed,
        SyncStatus.WITHHELD: run.sync_failed,
    }
    transitions[standing.status]()


def learner_consent_changed_sync(
    sender: type[Learner], *, learner: Learner, kind: str, given: bool, **kwargs: Any
) -> None:
    """A learner's course enrolments, attendance and results wait for their consent to sharing
    with the funding body: they go once it is given."""
    if given and kind == ConsentKind.FUNDING_BODY_SHARING:
        learner_delivery_sync(learner)
