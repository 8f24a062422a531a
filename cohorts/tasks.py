"""Background work for student imports. Each task runs in the schema it was queued from
(config.celery: TenantTask) and is idempotent: a redelivered task finds the import past the
step it performs, or the step held by another worker, and does nothing. A task that is lost
(the broker down, a worker killed) is queued again by `student_imports_sweep`."""

import logging

from celery import shared_task
from django_tenants.utils import schema_context

from cohorts.imports.uploads import (
    error_kind,
    student_import_fail,
    student_import_parse,
    student_import_run,
    student_imports_discard_stale,
    student_imports_sweep,
)
from cohorts.models import StudentImport, StudentImportStatus
from notifications.services import email_deliver
from tenants.selectors import schema_names_for_background_work

logger = logging.getLogger(__name__)


@shared_task(name="cohorts.student_import_parse")
def student_import_parse_task(student_import_id: int) -> str:
    """Read and check an uploaded file's rows, saving progress for the page."""
    student_import = StudentImport.objects.filter(pk=student_import_id).first()
    if student_import is None:
        return "missing"
    try:
        return student_import_parse(student_import=student_import).status
    except Exception as error:
        # The rows may hold special personal information, and an error's message may quote
        # them: the log gets the kind of error only.
        logger.error("Reading student import %s failed: %s", student_import_id, error_kind(error))
        student_import_fail(
            student_import, "The file could not be read. Try again, or save it as CSV."
        )
        return StudentImportStatus.FAILED


@shared_task(name="cohorts.student_import_run")
def student_import_run_task(student_import_id: int) -> str:
    """Import a confirmed file's valid rows in one transaction, as the admin who confirmed it."""
    student_import = StudentImport.objects.filter(pk=student_import_id).first()
    if student_import is None:
        return "missing"
    try:
        return student_import_run(student_import=student_import).status
    except Exception as error:
        logger.error("Importing student import %s failed: %s", student_import_id, error_kind(error))
        student_import_fail(
            student_import, "The import failed and nothing was imported. Upload the file again."
        )
        return StudentImportStatus.FAILED


@shared_task(name="cohorts.import_emails_deliver")
def import_emails_deliver(email_ids: list[int]) -> int:
    """Deliver a chunk of an import's e-mails. One that fails stays queued with its error; the
    outbox sweep retries it later, so one bad address does not hold up the others."""
    sent = 0
    for email_id in email_ids:
        try:
            sent += email_deliver(email_id=email_id)
        except Exception as error:
            logger.warning("E-mail %s from an import failed: %s", email_id, type(error).__name__)
    return sent


@shared_task(name="cohorts.student_imports_discard_stale")
def student_imports_discard_stale_task() -> int:
    return student_imports_discard_stale()


@shared_task(name="cohorts.student_imports_discard_stale_all_institutions")
def student_imports_discard_stale_all_institutions() -> None:
    """Beat entry point: one clean-up per active institution."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            student_imports_discard_stale_task.delay()


@shared_task(name="cohorts.student_imports_sweep")
def student_imports_sweep_task() -> int:
    return student_imports_sweep()


@shared_task(name="cohorts.student_imports_sweep_all_institutions")
def student_imports_sweep_all_institutions() -> None:
    """Beat entry point: one sweep of running imports per active institution."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            student_imports_sweep_task.delay()
