"""Every write of the reports app: saving, changing and deleting definitions, asking for an
execution, running it (in a Celery task: reports.tasks), recording a download, deleting expired
files and starting scheduled runs.

A definition or an execution holds only what its report declares: parameters the report does
not have and columns it does not give are refused with a message saying which, and the values
are checked by the report's own parameters form before anything is saved or run."""

import logging
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, time, timedelta
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record, kept_out
from notifications.services import email_enqueue
from reports.access import MANAGE_REPORTS, VIEW_REPORTS, may_run, may_see_execution
from reports.exports import csv_write, xlsx_write
from reports.models import (
    ExecutionStatus,
    ReportDefinition,
    ReportExecution,
    ReportFormat,
    ReportSchedule,
)
from reports.pdf import ReportTooLongForPdf, pdf_write
from reports.registry import (
    Column,
    Report,
    UnknownReport,
    parameters_from_json,
    parameters_to_json,
    report_for,
)
from reports.selectors import (
    data_protection_settings,
    report_definitions_due,
    report_execution_downloadable,
    report_execution_filename,
    report_executions_expired,
    report_recipients_possible,
)
from tenants.db import tenant_connection
from tenants.sites import institution_url
from tenants.storage import file_delete_on_commit
from tenants.zones import institution_zone, moment_text

logger = logging.getLogger(__name__)

# A run still waiting this long is queued again; one still processing this long after it
# started has lost its worker (its task's time limit is EXECUTION_TIME_LIMIT too).
REQUEUE_AFTER = timedelta(minutes=5)
EXECUTION_TIME_LIMIT = timedelta(hours=1)
WORKER_LOST = (
    "The run stopped before it finished (it took too long, or the server running it "
    "stopped). Run the report again; if it stops again, choose fewer rows."
)
# Scheduled runs start at this hour of the institution's day.
SCHEDULED_HOUR = time(6, 0)
# What a failed run says when the cause is ours, not the person's: the details are logged.
UNEXPECTED_FAILURE = (
    "The report could not be produced because of an error on our side, which has been logged. "
    "Try again later; if it fails again, tell support the time it failed."
)


def _report(key: str) -> Report:
    try:
        return report_for(key)
    except UnknownReport:
        raise ValidationError(
            f"There is no report “{key}”: choose one of the reports listed.", code="unknown"
        ) from None


def report_parameters_checked(report: Report, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """`parameters` (as stored: ids, ISO dates) checked by the report's form and returned as
    stored. A name the report does not declare is refused, never silently dropped."""
    declared = {parameter.name for parameter in report.parameters}
    undeclared = sorted(set(parameters) - declared)
    if undeclared:
        raise ValidationError(
            f"{report.title} has no parameter {', '.join(f'“{name}”' for name in undeclared)}.",
            code="undeclared_parameter",
        )
    form = report.parameters_form(dict(parameters))
    if not form.is_valid():
        labels = {parameter.name: parameter.label for parameter in report.parameters}
        raise ValidationError(
            [
                f"{labels.get(name, name)}: {message}" if name in labels else message
                for name, messages in form.errors.items()
                for message in messages
            ],
            code="invalid_parameter",
        )
    return parameters_to_json(report, form.cleaned_data)


def report_columns_checked(report: Report, columns: Iterable[str]) -> list[str]:
    """The chosen column keys in the report's order; a key the report does not give is
    refused. None chosen means all of them."""
    chosen = list(dict.fromkeys(columns))
    unknown = [key for key in chosen if key not in report.column_keys]
    if unknown:
        raise ValidationError(
            f"{report.title} has no column {', '.join(f'“{key}”' for key in unknown)}.",
            code="unknown_column",
        )
    return [key for key in report.column_keys if key in chosen]


def _format_checked(format: str) -> str:
    if format not in ReportFormat.values:
        raise ValidationError(
            "Choose CSV, Excel (XLSX) or PDF as the format.", code="unknown_format"
        )
    return format


def report_next_run_at(schedule: str, after: datetime) -> datetime | None:
    """The next scheduled start after `after`: Monday (weekly) or the 1st (monthly) at 06:00
    in the institution's time zone; None when not scheduled."""
    if schedule == ReportSchedule.NONE:
        return None
    zone = institution_zone()
    local = after.astimezone(zone)
    weekly = schedule == ReportSchedule.WEEKLY
    # This period's start (this Monday, this month's 1st), then the next one if it has passed.
    day = local.date() - timedelta(days=local.weekday()) if weekly else local.date().replace(day=1)
    start = datetime.combine(day, SCHEDULED_HOUR, tzinfo=zone)
    if start <= after:
        day = day + timedelta(days=7) if weekly else (day + timedelta(days=32)).replace(day=1)
        start = datetime.combine(day, SCHEDULED_HOUR, tzinfo=zone)
    return start


def _recipients_checked(report: Report, recipients: Iterable[User]) -> list[User]:
    recipients = list(recipients)
    possible = set(
        report_recipients_possible()
        .filter(pk__in=[user.pk for user in recipients])
        .values_list("pk", flat=True)
    )
    refused = [user for user in recipients if user.pk not in possible or not may_run(user, report)]
    if refused:
        raise ValidationError(
            f"{', '.join(str(user) for user in refused)} may not see {report.title}: "
            "only people who may run it receive it.",
            code="recipient_refused",
        )
    return recipients


def _definition_fill(
    definition: ReportDefinition,
    *,
    report: Report,
    name: str,
    description: str,
    parameters: Mapping[str, Any],
    columns: Iterable[str],
    format: str,
    schedule: str,
) -> None:
    definition.query = report.key
    definition.name = name
    definition.description = description
    definition.parameters = report_parameters_checked(report, parameters)
    definition.columns = report_columns_checked(report, columns)
    definition.format = _format_checked(format)
    if definition.schedule != schedule or definition.next_run_at is None:
        definition.next_run_at = report_next_run_at(schedule, timezone.now())
    definition.schedule = schedule
    definition.full_clean()


def _definition_event(definition: ReportDefinition) -> dict[str, Any]:
    return {
        "query": definition.query,
        "name": definition.name,
        "description": kept_out(definition.description),
        "parameters": definition.parameters,
        "columns": definition.columns,
        "format": definition.format,
        "schedule": definition.schedule,
        "recipients": sorted(user.pk for user in definition.recipients.all()),
    }


def report_definition_create(
    *,
    actor: User,
    report_key: str,
    name: str,
    description: str = "",
    parameters: Mapping[str, Any],
    columns: Iterable[str] = (),
    format: str = ReportFormat.CSV,
    schedule: str = ReportSchedule.NONE,
    recipients: Iterable[User] = (),
) -> ReportDefinition:
    """Save a report with chosen parameters and columns, scheduled when asked."""
    report = _report(report_key)
    permission_check(
        actor=actor,
        action="reports.definition_create",
        permission=MANAGE_REPORTS,
        allowed=may_run(actor, report),
    )
    definition = ReportDefinition(created_by=actor)
    _definition_fill(
        definition,
        report=report,
        name=name,
        description=description,
        parameters=parameters,
        columns=columns,
        format=format,
        schedule=schedule,
    )
    chosen = _recipients_checked(report, recipients)
    with transaction.atomic(durable=True):
        definition.save()
        definition.recipients.set(chosen)
        audit_record(
            actor=actor,
            action="reports.definition_create",
            entity=definition,
            new_values=_definition_event(definition),
        )
    return definition


def report_definition_update(
    *,
    actor: User,
    definition: ReportDefinition,
    name: str,
    description: str = "",
    parameters: Mapping[str, Any],
    columns: Iterable[str] = (),
    format: str = ReportFormat.CSV,
    schedule: str = ReportSchedule.NONE,
    recipients: Iterable[User] = (),
) -> ReportDefinition:
    """Change a saved definition (its report stays the same)."""
    report = _report(definition.query)
    permission_check(
        actor=actor,
        action="reports.definition_update",
        permission=MANAGE_REPORTS,
        allowed=may_run(actor, report),
    )
    chosen = _recipients_checked(report, recipients)
    with transaction.atomic(durable=True):
        definition = ReportDefinition.objects.select_for_update().get(pk=definition.pk)
        before = _definition_event(definition)
        _definition_fill(
            definition,
            report=report,
            name=name,
            description=description,
            parameters=parameters,
            columns=columns,
            format=format,
            schedule=schedule,
        )
        definition.save()
        definition.recipients.set(chosen)
        audit_record(
            actor=actor,
            action="reports.definition_update",
            entity=definition,
            old_values=before,
            new_values=_definition_event(definition),
        )
    return definition


def report_definition_delete(*, actor: User, definition: ReportDefinition) -> None:
    """Delete a definition; its executions stay (and their files until they expire)."""
    permission_check(
        actor=actor,
        action="reports.definition_delete",
        permission=MANAGE_REPORTS,
        allowed=may_run(actor, _report(definition.query)),
    )
    with transaction.atomic(durable=True):
        audit_record(
            actor=actor,
            action="reports.definition_delete",
            entity=definition,
            old_values={"query": definition.query, "name": definition.name},
        )
        definition.delete()


def report_execution_request(
    *,
    actor: User,
    report_key: str,
    parameters: Mapping[str, Any],
    columns: Iterable[str] = (),
    format: str = ReportFormat.CSV,
    definition: ReportDefinition | None = None,
) -> ReportExecution:
    """Ask for a run of a report as `actor`; it is queued once this commits."""
    report = _report(report_key)
    permission_check(
        actor=actor,
        action="reports.execution_request",
        permission=VIEW_REPORTS,
        allowed=may_run(actor, report),
    )
    execution: ReportExecution = ReportExecution(
        definition=definition,
        report_key=report.key,
        parameters=report_parameters_checked(report, parameters),
        columns=report_columns_checked(report, columns),
        format=_format_checked(format),
        requested_by=actor,
    )
    with transaction.atomic(durable=True):
        execution.save()
        _execution_queue(execution, actor=actor, action="reports.execution_request")
    return execution


def _execution_queue(execution: ReportExecution, *, actor: User | None, action: str) -> None:
    from reports.tasks import report_execution_run

    audit_record(
        actor=actor,
        action=action,
        entity=execution,
        new_values={
            "report": execution.report_key,
            "definition": execution.definition_id,
            "parameters": execution.parameters,
            "columns": execution.columns,
            "format": execution.format,
        },
    )
    report_execution_run.delay_on_commit(execution.pk)


def _rows_write(
    execution: ReportExecution, report: Report, out: IO[bytes], progress: Callable[[int], None]
) -> int:
    """Write the report's rows to `out` in the execution's format, small counts suppressed:
    the file leaves the institution."""
    parameters = parameters_from_json(
        report, report_parameters_checked(report, execution.parameters)
    )
    columns: tuple[Column, ...] = report.columns_chosen(execution.columns)
    threshold = data_protection_settings().small_cell_threshold
    rows = report.rows(parameters)
    if execution.format == ReportFormat.CSV:
        return csv_write(rows, columns, out, threshold=threshold, progress=progress)
    if execution.format == ReportFormat.XLSX:
        return xlsx_write(
            rows, columns, out, title=report.title, threshold=threshold, progress=progress
        )
    return pdf_write(rows, columns, out, title=report.title, threshold=threshold)


def _progress_record(execution_id: int) -> Callable[[int], None]:
    """Progress in a short transaction of its own, so that the page sees it while the run goes
    on."""

    def record(rows_done: int) -> None:
        ReportExecution.objects.filter(pk=execution_id).update(rows_done=rows_done)

    return record


def report_execution_run(*, execution_id: int) -> ReportExecution | None:
    """Run a pending execution: its rows are streamed into a temporary file (memory stays flat
    however many rows there are), which is then stored privately under the institution's
    files. Returns None when there is nothing to run (already run, or being run), so that a
    repeated task does nothing."""
    with transaction.atomic(durable=True):
        execution = (
            ReportExecution.objects.select_for_update(skip_locked=True)
            .filter(pk=execution_id, status=ExecutionStatus.PENDING)
            .first()
        )
        if execution is None:
            return None
        execution.start()
        execution.started_at = timezone.now()
        execution.save(update_fields=["status", "started_at"])
    stored_name = ""
    try:
        report = _report(execution.report_key)
        if report.count is not None:
            execution.rows_total = report.count(parameters_from_json(report, execution.parameters))
            ReportExecution.objects.filter(pk=execution.pk).update(rows_total=execution.rows_total)
        filename = report_execution_filename(execution)
        with tempfile.NamedTemporaryFile(prefix="report-", suffix=f".{execution.format}") as out:
            rows_done = _rows_write(execution, report, out, _progress_record(execution.pk))
            out.flush()
            size = out.tell()
            out.seek(0)
            stored_name = default_storage.save(
                f"reports/{execution.pk}/{filename}", File(out, name=filename)
            )
        return _execution_complete(
            execution, stored_name=stored_name, rows_done=rows_done, size=size
        )
    except Exception as error:
        if isinstance(error, ReportTooLongForPdf):
            message = str(error)
        elif isinstance(error, ValidationError):
            message = " ".join(error.messages)
        else:
            message = UNEXPECTED_FAILURE
            logger.error(
                "Report execution %s (%s) failed: %r",
                execution.pk,
                execution.report_key,
                error,
                exc_info=error,
            )
        if stored_name:
            default_storage.delete(stored_name)
        return _execution_fail(execution, message=message)


def _execution_complete(
    execution: ReportExecution, *, stored_name: str, rows_done: int, size: int
) -> ReportExecution:
    with transaction.atomic(durable=True):
        execution = ReportExecution.objects.select_for_update().get(pk=execution.pk)
        execution.complete()
        execution.completed_at = timezone.now()
        execution.expires_at = execution.completed_at + timedelta(
            days=data_protection_settings().report_expiry_days
        )
        execution.result_file_path = stored_name
        execution.result_size = size
        execution.rows_done = rows_done
        execution.save(
            update_fields=[
                "status",
                "completed_at",
                "expires_at",
                "result_file_path",
                "result_size",
                "rows_done",
            ]
        )
        audit_record(
            action="reports.execution_complete",
            entity=execution,
            new_values={"status": execution.status, "rows": rows_done, "size": size},
        )
        if execution.definition_id is not None and execution.requested_by_id is None:
            _recipients_tell(execution)
    return execution


def _execution_fail(execution: ReportExecution, *, message: str) -> ReportExecution:
    with transaction.atomic(durable=True):
        execution = ReportExecution.objects.select_for_update().get(pk=execution.pk)
        if execution.status == ExecutionStatus.FAILED:  # the sweep gave up on it meanwhile
            return execution
        _execution_failed(execution, message=message)
    return execution


def _execution_failed(execution: ReportExecution, *, message: str) -> None:
    """Fail the locked `execution` with `message` for its page."""
    execution.fail()
    execution.completed_at = timezone.now()
    execution.error_message = message
    execution.save(update_fields=["status", "completed_at", "error_message"])
    audit_record(
        action="reports.execution_fail",
        entity=execution,
        new_values={"status": execution.status},
    )


def _recipients_tell(execution: ReportExecution) -> None:
    """E-mail each recipient of a scheduled definition a link to the execution's page (never
    the data or the file); someone who may no longer run the report gets nothing."""
    definition = execution.definition
    assert definition is not None
    report = report_for(execution.report_key)
    url = institution_url(
        tenant_connection.tenant, reverse("reports:execution", args=[execution.pk])
    )
    for recipient in definition.recipients.filter(is_active=True).order_by("pk"):
        if not may_run(recipient, report):
            continue
        email_enqueue(
            recipient=recipient.email,
            template="report_ready",
            context={
                "full_name": recipient.full_name,
                "definition_name": definition.name,
                "report_title": report.title,
                "expires": moment_text(execution.expires_at),
                "url": url,
            },
        )


def report_execution_download(*, actor: User, execution: ReportExecution) -> ReportExecution:
    """Record that `actor` downloads the result: they asked for it, or may run the report."""
    permission_check(
        actor=actor,
        action="reports.execution_download",
        allowed=may_see_execution(actor, execution),
    )
    if not report_execution_downloadable(execution):
        raise ValidationError("This result is no longer kept: run the report again.")
    with transaction.atomic(durable=True):
        audit_record(
            actor=actor,
            action="reports.execution_download",
            entity=execution,
            new_values={"report": execution.report_key, "execution": execution.pk},
        )
    return execution


def report_executions_expire(*, now: datetime | None = None) -> int:
    """Delete the files of expired executions (the rows stay, marked expired by their
    expires_at); returns how many files were deleted. Each under its row's lock, so two runs
    never delete one twice."""
    now = now or timezone.now()
    deleted = 0
    for pk in list(report_executions_expired(now).values_list("pk", flat=True)):
        with transaction.atomic(durable=True):
            execution = (
                report_executions_expired(now)
                .select_for_update(skip_locked=True)
                .filter(pk=pk)
                .first()
            )
            if execution is None:
                continue
            name = execution.result_file_path
            execution.result_file_path = ""
            execution.save(update_fields=["result_file_path"])
            audit_record(
                action="reports.execution_expire",
                entity=execution,
                new_values={"report": execution.report_key},
            )
            file_delete_on_commit(default_storage, name)
        deleted += 1
    return deleted


def report_executions_sweep(*, now: datetime | None = None) -> int:
    """Keep runs moving (Celery beat): queue again a run still waiting REQUEUE_AFTER after it
    was asked for (its task never reached the broker, or was lost with it; running is
    idempotent, so a second task does nothing), and fail, removing any partial file, a run
    still processing EXECUTION_TIME_LIMIT after it started (Celery has killed its task by then,
    or its worker died). Returns how many runs it acted on."""
    from reports.tasks import report_execution_run as run_task

    now = now or timezone.now()
    waiting = ReportExecution.objects.filter(
        status=ExecutionStatus.PENDING, created_at__lt=now - REQUEUE_AFTER
    )
    acted = 0
    for pk in list(waiting.values_list("pk", flat=True)):
        run_task.delay(pk)
        acted += 1
    stuck = ReportExecution.objects.filter(
        status=ExecutionStatus.PROCESSING, started_at__lt=now - EXECUTION_TIME_LIMIT
    )
    for pk in list(stuck.values_list("pk", flat=True)):
        with transaction.atomic(durable=True):
            execution = stuck.select_for_update(skip_locked=True).filter(pk=pk).first()
            if execution is None:
                continue
            logger.warning("Report execution %s lost its worker; failed", pk)
            _execution_failed(execution, message=WORKER_LOST)
            for name in _stored_names(f"reports/{pk}"):
                file_delete_on_commit(default_storage, name)
        acted += 1
    return acted


def _stored_names(folder: str) -> list[str]:
    try:
        return [f"{folder}/{name}" for name in default_storage.listdir(folder)[1]]
    except FileNotFoundError:
        return []


def report_definitions_run_due(*, now: datetime | None = None) -> int:
    """Start the scheduled definitions whose time has come and move each to its next time, in
    one transaction with their rows locked: a concurrent beat skips them, a later one finds
    them no longer due. Returns how many runs were started."""
    now = now or timezone.now()
    started = 0
    with transaction.atomic(durable=True):
        for definition in report_definitions_due(now):
            execution = ReportExecution.objects.create(
                definition=definition,
                report_key=definition.query,
                parameters=definition.parameters,
                columns=definition.columns,
                format=definition.format,
                requested_by=None,
            )
            definition.next_run_at = report_next_run_at(definition.schedule, now)
            definition.save(update_fields=["next_run_at", "updated_at"])
            _execution_queue(execution, actor=None, action="reports.execution_schedule")
            started += 1
    return started
