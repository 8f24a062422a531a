"""Re-driving dead letters in bulk: every dead-letter job of a filtered list is sent again,
each through `sync_job_retry` (its own transaction and audit event), so that one job another
person retried or cancelled meanwhile is skipped rather than failing the rest."""

from django.db.models import QuerySet

from accounts.models import User
from integrations.models import SyncJob, SyncJobStatus
from integrations.services import StatusChanged, sync_job_retry, sync_manager_check


def sync_jobs_redrive(*, actor: User | None, jobs: QuerySet[SyncJob]) -> int:
    """Queue again the dead letters among `jobs` (the jobs page's filtered list, or all) with
    a fresh set of attempts; returns how many were queued."""
    sync_manager_check(actor=actor, action="integrations.sync_jobs_redrive")
    dead = jobs.filter(status=SyncJobStatus.DEAD_LETTER).order_by("id")
    queued = 0
    for job_id in dead.values_list("pk", flat=True):
        try:
            sync_job_retry(
                job=SyncJob(pk=job_id), actor=actor, expected_status=SyncJobStatus.DEAD_LETTER
            )
        except StatusChanged:
            continue  # no longer a dead letter: someone retried or cancelled it meanwhile
        queued += 1
    return queued
