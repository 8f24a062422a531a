"""Report runs in the background: one task per execution, and beat tasks that, per
institution, start the scheduled definitions that are due (hourly), delete expired result
files and evidence packs (daily), and queue again or fail runs and packs whose task was lost
(every few minutes). Each is idempotent: a repeated or concurrent run does nothing twice. Building a
cohort's evidence pack is in reports.evidence.tasks, imported here so that Celery finds it."""

from celery import shared_task
from django_tenants.utils import get_public_schema_name, schema_context

from reports.evidence import tasks as evidence  # noqa: F401 (registers its tasks)
from reports.evidence.services import evidence_packs_expire, evidence_packs_sweep
from reports.services import (
    EXECUTION_TIME_LIMIT,
    report_definitions_run_due,
    report_executions_expire,
    report_executions_sweep,
)
from reports.services import (
    report_execution_run as execution_run,
)
from tenants.db import tenant_connection
from tenants.selectors import schema_names_for_background_work


@shared_task(
    name="reports.report_execution_run",
    time_limit=int(EXECUTION_TIME_LIMIT.total_seconds()),
)
def report_execution_run(execution_id: int) -> str:
    execution = execution_run(execution_id=execution_id)
    return execution.status if execution is not None else "nothing to run"


@shared_task(name="reports.report_definitions_run_due")
def report_definitions_run_due_here() -> int:
    if tenant_connection.schema_name == get_public_schema_name():
        return 0
    return report_definitions_run_due()


@shared_task(name="reports.report_executions_expire")
def report_executions_expire_here() -> int:
    if tenant_connection.schema_name == get_public_schema_name():
        return 0
    return report_executions_expire() + evidence_packs_expire()


@shared_task(name="reports.report_definitions_run_due_all_institutions")
def report_definitions_run_due_all_institutions() -> None:
    """Beat entry point: one run per active institution, not the platform's own schema."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            report_definitions_run_due_here.delay()


@shared_task(name="reports.report_executions_expire_all_institutions")
def report_executions_expire_all_institutions() -> None:
    """Beat entry point: one run per active institution, not the platform's own schema."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            report_executions_expire_here.delay()


@shared_task(name="reports.reports_sweep")
def reports_sweep_here() -> int:
    if tenant_connection.schema_name == get_public_schema_name():
        return 0
    return report_executions_sweep() + evidence_packs_sweep()


@shared_task(name="reports.reports_sweep_all_institutions")
def reports_sweep_all_institutions() -> None:
    """Beat entry point: runs and evidence packs whose task was lost or whose worker died,
    one sweep per active institution."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            reports_sweep_here.delay()
