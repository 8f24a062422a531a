"""The data protection jobs run daily, per institution, in its own schema and time zone
(privacy.services.jobs.jobs_run_all)."""

from celery import shared_task
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from privacy.services.jobs import jobs_run_all
from tenants.db import tenant_connection
from tenants.models import Institution
from tenants.selectors import schema_names_for_background_work
from tenants.zones import institution_time


@shared_task(name="privacy.data_protection_jobs_run")
def data_protection_jobs_run() -> dict[str, int]:
    """Run every job for this institution; returns each job's item count. Idempotent: a job
    takes only what is still due (an archived cohort is not archived again)."""
    if tenant_connection.schema_name == get_public_schema_name():
        return {}
    institution = Institution.objects.get(schema_name=tenant_connection.schema_name)
    with tenant_context(institution), institution_time(institution):
        return {run.kind: run.item_count for run in jobs_run_all()}


@shared_task(name="privacy.data_protection_jobs_run_all_institutions")
def data_protection_jobs_run_all_institutions() -> None:
    """Beat entry point: one run per active institution, skipping suspended ones and the
    platform's own schema."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            data_protection_jobs_run.delay()
