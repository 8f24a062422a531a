"""Imports through the pages: a `StudentImport` from the uploaded file through its check, the
preview, the confirmation and the import, to its end (done, failed or cancelled); the sweep
that keeps running imports moving; and the clean-up of those nobody confirmed.

Each step a worker performs (parsing, importing) is written to the import's row before its
task is queued: the row is the task's outbox. `dispatched_at` says the broker took the task,
`lease_expires_at` that a worker holds the step (renewed as it reads; while importing, the
row is also locked by the import's transaction, which ends with the worker's connection).
`student_imports_sweep` (Celery beat) queues again a step whose task was never handed over
or was lost, takes back one whose worker died, and fails one that keeps dying."""

import functools
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.db import DatabaseError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone
from tenant_schemas_celery.task import headers_with_schema

from accounts.models import User
from audit.services import audit_record
from cohorts.imports.reading import SpreadsheetError, size_check, spreadsheet_read
from cohorts.imports.selectors import CACHE_ERRORS, progress_key
from cohorts.imports.validation import rows_check
from cohorts.imports.writing import enrolling_check, enrollments_import, manager_check
from cohorts.models import (
    STUDENT_IMPORT_RUNNING,
    Cohort,
    StudentImport,
    StudentImportStatus,
)
from tenants.storage import (
    STORAGE_FAILED_MESSAGE,
    file_delete_on_commit,
    file_store,
    files_removed_on_failure,
)

logger = logging.getLogger(__name__)

# Rows read between two progress saves (each renews the step's lease).
PROGRESS_EVERY = 500
# Below these sizes the pages read or import in the request; above them a task does it.
SYNCHRONOUS_MAX_BYTES = 64 * 1024
SYNCHRONOUS_MAX_ROWS = 1000
PROGRESS_CACHE_SECONDS = 60 * 60

# A worker renews the lease as it reads rows; a step without a renewal for this long has lost
# its worker.
STEP_LEASE = timedelta(seconds=60)
# A queued task no worker has taken within this long was lost (a broker restarted empty): it
# is queued again. Taking a step is atomic, so a late duplicate does nothing.
REDISPATCH_AFTER = timedelta(seconds=60)
# Workers that may die in a step before it is given up, with a message for the admin.
MAX_STEP_ATTEMPTS = 3
GIVEN_UP: dict[str, str] = {
    StudentImportStatus.PARSING: "Checking the file was interrupted {attempts} times, so it "
    "was stopped. Upload the file again; if it happens again, split it into smaller files.",
    StudentImportStatus.IMPORTING: "The import was interrupted {attempts} times, so it was "
    "stopped; nothing was imported. Upload the file again; if it happens again, split it into "
    "smaller files.",
}


def error_kind(error: Exception) -> str:
    """An error's type and, for a database error, the constraint it broke: never its message,
    which may quote a row's values (special personal information among them)."""
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    return type(error).__name__ + (f" ({constraint})" if constraint else "")


def _progress_save(student_import: StudentImport, percent: int) -> None:
    """Best effort: a cache that cannot be reached never stops an import or fails a page."""
    try:
        cache.set(progress_key(student_import), percent, PROGRESS_CACHE_SECONDS)
    except CACHE_ERRORS as error:
        logger.warning(
            "Progress of student import %s not saved: %s", student_import.pk, type(error).__name__
        )


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _step_task(status: str) -> Any:
    from cohorts.tasks import student_import_parse_task, student_import_run_task

    tasks: dict[str, Any] = {
        StudentImportStatus.PARSING: student_import_parse_task,
        StudentImportStatus.IMPORTING: student_import_run_task,
    }
    return tasks[status]


def _step_dispatch(student_import_id: int, status: str, headers: dict[str, Any]) -> bool:
    """Hand a step's task to the broker, and note that it did. A broker that cannot be
    reached loses nothing: the step waits in its row and the sweep queues it again."""
    try:
        _step_task(status).apply_async((student_import_id,), headers=headers)
    except Exception as error:  # kombu and redis raise many kinds, all meaning "not queued"
        logger.warning(
            "Student import %s not queued (%s); the sweep will queue it.",
            student_import_id,
            type(error).__name__,
        )
        return False
    StudentImport.objects.filter(pk=student_import_id, status=status).update(
        dispatched_at=timezone.now()
    )
    return True


def _step_dispatch_on_commit(student_import: StudentImport) -> None:
    # The schema now, not at commit: a caller may leave it before then.
    headers = headers_with_schema(None)
    transaction.on_commit(
        functools.partial(_step_dispatch, student_import.pk, student_import.status, headers)
    )


def _step_take(student_import: StudentImport, status: str) -> bool:
    """Take the `status` step for this worker (or request), atomically: False if the import is
    past that step, another worker holds it, or it has been tried too often already. Reloads
    `student_import` either way."""
    now = timezone.now()
    taken = StudentImport.objects.filter(
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now),
        pk=student_import.pk,
        status=status,
        attempts__lt=MAX_STEP_ATTEMPTS,
    ).update(lease_expires_at=now + STEP_LEASE, attempts=F("attempts") + 1, updated_at=now)
    student_import.refresh_from_db()
    return bool(taken)


def student_import_start(*, cohort: Cohort, actor: User, upload: "File[bytes]") -> StudentImport:
    """Accept an uploaded file for `cohort`: refuse it at once if it is too large, not a
    spreadsheet, empty or has the wrong columns; otherwise store it and check its rows, in
    this request for a small file, else in a task (the page shows the progress). The import
    is saved waiting for its task: a broker that is down delays the check, and loses nothing."""
    manager_check(actor, "cohorts.student_import_start")
    enrolling_check(cohort)
    size_check(upload.size or 0)
    upload.seek(0)
    content = upload.read()
    spreadsheet = spreadsheet_read(content)
    upload.seek(0)
    with files_removed_on_failure() as stored, transaction.atomic(durable=True):
        student_import = StudentImport(
            cohort=cohort,
            original_name=(upload.name or "students")[-255:],
            size=len(content),
            kind=spreadsheet.kind,
            total_rows=spreadsheet.estimated_rows,
            created_by=actor,
        )
        file_store(
            student_import.file,
            name="upload",
            content=content,
            failure_message=STORAGE_FAILED_MESSAGE,
            described_as=f"an import file for cohort {cohort.pk}",
        )
        stored.append(student_import.file)
        student_import.save()
        audit_record(
            actor=actor,
            action="student_import.uploaded",
            entity=student_import,
            new_values={
                "cohort": cohort.pk,
                "original_name": student_import.original_name,
                "size": student_import.size,
                "kind": student_import.kind,
            },
        )
        if len(content) > _setting("COHORT_IMPORT_SYNCHRONOUS_MAX_BYTES", SYNCHRONOUS_MAX_BYTES):
            _step_dispatch_on_commit(student_import)
            return student_import
    return student_import_parse(student_import=student_import, content=content)


def student_import_parse(
    *, student_import: StudentImport, content: bytes | None = None
) -> StudentImport:
    """Read and check every row of an uploaded file, saving progress (and renewing the step's
    lease) as it goes, outside any transaction so the page sees it, and leave the import
    waiting for confirmation with its valid rows and the reasons of each invalid one. Does
    nothing unless it is still parsing and no other worker holds the step."""
    if not _step_take(student_import, StudentImportStatus.PARSING):
        return student_import
    if content is None:
        with student_import.file.open("rb") as stored:
            content = stored.read()
    # Every write is conditional: a cancellation, or the sweep giving up, wins over a worker.
    parsing = StudentImport.objects.filter(pk=student_import.pk, status=StudentImportStatus.PARSING)
    outcome: dict[str, Any]
    try:
        spreadsheet = spreadsheet_read(content, kind=student_import.kind)
        total = spreadsheet.estimated_rows

        def on_row(count: int) -> None:
            if count % PROGRESS_EVERY == 0:
                parsing.update(
                    processed_rows=count,
                    total_rows=max(total, count + 1),
                    lease_expires_at=timezone.now() + STEP_LEASE,
                )

        report = rows_check(cohort=student_import.cohort, rows=spreadsheet.rows, on_row=on_row)
    except SpreadsheetError as error:
        outcome = {"status": StudentImportStatus.FAILED, "error": " ".join(error.messages)}
    else:
        outcome = {
            "status": StudentImportStatus.PREVIEW,
            "valid_rows": report.valid,
            "row_errors": report.invalid,
            "total_rows": report.total,
            "processed_rows": report.total,
        }
    parsing.update(**outcome, lease_expires_at=None, updated_at=timezone.now())
    student_import.refresh_from_db()
    return student_import


def student_import_confirm(*, student_import: StudentImport, actor: User) -> StudentImport:
    """Start importing the valid rows of a previewed file: in this request for a few rows,
    else in a task. The state change is the task's outbox (one row, one statement), so the
    import is queued exactly when it is confirmed, even with the broker down. A second
    confirmation (a double click, another tab) is refused."""
    manager_check(actor, "cohorts.student_import_confirm")
    enrolling_check(student_import.cohort)
    if student_import.status == StudentImportStatus.PREVIEW and not student_import.valid_rows:
        raise ValidationError("There is no valid row to import.")
    with transaction.atomic():
        claimed = StudentImport.objects.filter(
            pk=student_import.pk, status=StudentImportStatus.PREVIEW
        ).update(
            status=StudentImportStatus.IMPORTING,
            confirmed_by=actor,
            attempts=0,
            lease_expires_at=None,
            dispatched_at=None,
            updated_at=timezone.now(),
        )
        if not claimed:
            student_import.refresh_from_db(fields=["status"])
            refusals: dict[str, str] = {
                StudentImportStatus.PARSING: "The file is still being checked.",
                StudentImportStatus.FAILED: "This import failed; upload the file again.",
                StudentImportStatus.CANCELLED: "This import was cancelled; upload the file again.",
            }
            raise ValidationError(
                refusals.get(
                    student_import.status,
                    "This file has already been imported or is being imported.",
                )
            )
        student_import.refresh_from_db()
        in_task = len(student_import.valid_rows) > _setting(
            "COHORT_IMPORT_SYNCHRONOUS_MAX_ROWS", SYNCHRONOUS_MAX_ROWS
        )
        if in_task:
            _step_dispatch_on_commit(student_import)
    _progress_save(student_import, 0)
    if in_task:
        return student_import
    return student_import_run(student_import=student_import)


def student_import_fail(student_import: StudentImport, message: str) -> None:
    """Mark a running import failed, unless something else (a cancellation) ended it first."""
    StudentImport.objects.filter(pk=student_import.pk, status__in=STUDENT_IMPORT_RUNNING).update(
        status=StudentImportStatus.FAILED,
        error=message,
        lease_expires_at=None,
        updated_at=timezone.now(),
    )
    student_import.refresh_from_db()


def student_import_run(*, student_import: StudentImport) -> StudentImport:
    """Import a confirmed file's valid rows (`enrollments_import`), as the admin who confirmed
    it, and record the outcome in the same transaction, which holds the import's row locked
    while it runs. A refusal (the cohort closed meanwhile, the admin lost the right) marks the
    import failed. Does nothing unless the import is confirmed, not yet done and not held by
    another worker."""
    if not _step_take(student_import, StudentImportStatus.IMPORTING):
        return student_import
    actor = student_import.confirmed_by
    if actor is None:
        student_import_fail(student_import, "The person who confirmed the import no longer exists.")
        return student_import
    try:
        # Before the transaction: a refusal's audit event must outlive the rollback.
        manager_check(actor, "cohorts.enrollments_import")
        with transaction.atomic():
            locked = StudentImport.objects.select_for_update().get(pk=student_import.pk)
            if locked.status != StudentImportStatus.IMPORTING:
                return locked  # cancelled or given up while this worker waited
            result = enrollments_import(
                cohort=student_import.cohort,
                actor=actor,
                rows=locked.valid_rows,
                reference=f"upload {student_import.pk}",
                progress=functools.partial(_progress_save, student_import),
            )
            stored_file = locked.file.name
            StudentImport.objects.filter(pk=locked.pk).update(
                status=StudentImportStatus.DONE,
                result=result.as_dict(),
                imported_at=timezone.now(),
                # Done with the special personal information: it now lives in the enrolments.
                valid_rows=[],
                processed_rows=F("total_rows"),
                file="",
                lease_expires_at=None,
                updated_at=timezone.now(),
            )
            if stored_file:
                file_delete_on_commit(locked.file.storage, stored_file)
    except (ValidationError, PermissionDenied, DatabaseError) as error:
        if isinstance(error, ValidationError):
            message = " ".join(error.messages)
        elif isinstance(error, PermissionDenied):
            message = "You may no longer import students."
        else:
            # E.g. someone else enrolled one of these students at the same moment.
            logger.error("Student import %s failed: %s", student_import.pk, error_kind(error))
            message = "The import failed and nothing was imported. Upload the file again."
        student_import_fail(student_import, message)
        return student_import
    student_import.refresh_from_db()
    return student_import


def student_import_cancel(*, student_import: StudentImport, actor: User) -> StudentImport:
    """Stop an import that has not finished (being checked, waiting for confirmation, or
    queued or stuck importing) and forget its file and rows. Refused while a worker is
    writing its students: that ends in seconds, one way or the other. A task that arrives
    later finds it cancelled and does nothing."""
    manager_check(actor, "cohorts.student_import_cancel")
    try:
        with transaction.atomic(durable=True):
            # NOWAIT: the import's own transaction holds the row while it writes students.
            locked = (
                StudentImport.objects.select_for_update(nowait=True)
                .select_related("cohort")
                .get(pk=student_import.pk)
            )
            if not locked.is_cancellable:
                raise ValidationError(
                    f"This import is {locked.get_status_display().lower()}: there is nothing "
                    "to cancel."
                )
            previous = locked.status
            stored_file = locked.file.name
            locked.status = StudentImportStatus.CANCELLED
            locked.error = ""
            locked.valid_rows = []
            locked.row_errors = []
            locked.file = ""
            locked.lease_expires_at = None
            locked.save(
                update_fields=[
                    "status", "error", "valid_rows", "row_errors", "file", "lease_expires_at",
                    "updated_at",
                ]
            )  # fmt: skip
            audit_record(
                actor=actor,
                action="student_import.cancelled",
                entity=locked,
                old_values={"status": previous},
                new_values={"status": locked.status, "cohort": locked.cohort_id},
            )
            if stored_file:
                file_delete_on_commit(locked.file.storage, stored_file)
    except OperationalError as error:
        raise ValidationError(
            "The students of this file are being written right now, so the import can no "
            "longer be cancelled. It ends in a moment: reload the page."
        ) from error
    return locked


def student_imports_sweep() -> int:
    """Keep running imports moving (Celery beat, every 30 s): queue a step whose task was not
    handed to the broker (it was down) or was lost with it, take back a step whose worker
    died (its lease ran out and no transaction holds its row) and queue it again, and fail,
    with a message for the admin, a step that has already lost MAX_STEP_ATTEMPTS workers.
    Returns how many imports it acted on."""
    now = timezone.now()
    due = StudentImport.objects.filter(
        Q(lease_expires_at__lte=now)
        | Q(lease_expires_at__isnull=True)
        & (Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=now - REDISPATCH_AFTER)),
        status__in=STUDENT_IMPORT_RUNNING,
    )
    acted = 0
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            # SKIP LOCKED: a row held by a live import's transaction is not stuck.
            student_import = due.select_for_update(skip_locked=True).filter(pk=pk).first()
            if student_import is None:
                continue
            acted += 1
            lost_worker = student_import.lease_expires_at is not None
            # No worker may take the step again (see _step_take): end it rather than loop.
            if student_import.attempts >= MAX_STEP_ATTEMPTS:
                message = GIVEN_UP[student_import.status].format(attempts=student_import.attempts)
                logger.warning(
                    "Student import %s given up after %s attempts at %s",
                    pk,
                    student_import.attempts,
                    student_import.status,
                )
                audit_record(
                    action="student_import.failed",
                    entity=student_import,
                    old_values={"status": student_import.status},
                    new_values={
                        "status": StudentImportStatus.FAILED,
                        "attempts": student_import.attempts,
                    },
                )
                student_import.status = StudentImportStatus.FAILED
                student_import.error = message
                student_import.lease_expires_at = None
                student_import.save(
                    update_fields=["status", "error", "lease_expires_at", "updated_at"]
                )
                continue
            if lost_worker:
                logger.warning("Student import %s lost its worker at %s", pk, student_import.status)
            student_import.lease_expires_at = None
            student_import.save(update_fields=["lease_expires_at", "updated_at"])
            _step_dispatch_on_commit(student_import)
    return acted


STALE_IMPORT_AGE = timedelta(days=7)


def student_imports_discard_stale(*, older_than: timedelta = STALE_IMPORT_AGE) -> int:
    """Forget imports nobody confirmed: their files and checked rows hold special personal
    information that has no business waiting forever. Returns how many were discarded."""
    stale = StudentImport.objects.filter(
        created_at__lt=timezone.now() - older_than,
        status__in=[StudentImportStatus.PARSING, StudentImportStatus.PREVIEW],
    )
    discarded = 0
    for student_import in stale.only("pk", "file").iterator():
        # Conditional: an import confirmed meanwhile (its row locked while it runs) is left be.
        with transaction.atomic():
            stored_file = student_import.file.name
            discarded_now = StudentImport.objects.filter(
                pk=student_import.pk,
                status__in=[StudentImportStatus.PARSING, StudentImportStatus.PREVIEW],
            ).update(
                status=StudentImportStatus.FAILED,
                error="Not confirmed within a week: upload the file again.",
                valid_rows=[],
                row_errors=[],
                file="",
                lease_expires_at=None,
                updated_at=timezone.now(),
            )
            if discarded_now and stored_file:
                file_delete_on_commit(student_import.file.storage, stored_file)
        discarded += discarded_now
    return discarded
