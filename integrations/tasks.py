"""Celery tasks (queue `sync`): thin wrappers over integrations.services, idempotent under
acks_late: a job that is not due, already done or held by another worker is left alone."""

from celery import shared_task
from django_tenants.utils import schema_context

from integrations.services import sync_job_run, sync_jobs_sweep
from tenants.selectors import schema_names_for_background_work


@shared_task(name="integrations.sync_job_run")
def sync_job_run_task(job_id: int) -> str | None:
    job = sync_job_run(job_id=job_id)
    return job.status if job else None


@shared_task(name="integrations.sync_jobs_sweep")
def sync_jobs_sweep_task() -> int:
    """Run this institution's due jobs: lost tasks, due retries, jobs of dead workers."""
    return sync_jobs_sweep()


@shared_task(name="integrations.sync_jobs_sweep_all_institutions")
def sync_jobs_sweep_all_institutions() -> None:
    """Beat entry point: one sweep per active institution."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            sync_jobs_sweep_task.delay()
