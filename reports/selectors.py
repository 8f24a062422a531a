"""What the reports pages and tasks read: the reports a person may run, grouped by area, the
saved definitions and recent executions of those reports, the definitions due to run, and the
data protection settings that apply to exports."""

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby, islice
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import User
from accounts.selectors import users_with_permission
from privacy.models import DataProtectionSettings
from reports.access import VIEW_REPORTS, may_run
from reports.models import (
    ExecutionStatus,
    ReportDefinition,
    ReportExecution,
    ReportFormat,
    ReportSchedule,
)
from reports.registry import (
    Column,
    Report,
    UnknownReport,
    parameters_from_json,
    report_for,
    reports_all,
)
from tenants.zones import institution_zone

CONTENT_TYPES = {
    ReportFormat.CSV: "text/csv; charset=utf-8",
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.PDF: "application/pdf",
}
# Rows shown on a report's page; the export holds them all.
PREVIEW_ROWS = 200


@dataclass(frozen=True)
class ReportArea:
    name: str
    reports: list[Report]


@dataclass(frozen=True)
class Preview:
    """The first rows of a report for its page, each a list of cells (the column, its value), with
    the chart made from them when the report has one."""

    columns: tuple[Column, ...]
    rows: list[list[tuple[Column, Any]]]
    truncated: bool
    chart: dict[str, Any] | None


def reports_runnable(user: User) -> list[Report]:
    return [report for report in reports_all() if may_run(user, report)]


def report_areas_for_user(user: User) -> list[ReportArea]:
    """The reports `user` may run, grouped by area (areas and titles in order)."""
    return [
        ReportArea(name=area, reports=list(reports))
        for area, reports in groupby(reports_runnable(user), key=lambda report: report.area)
    ]


def report_definitions_for_user(user: User) -> QuerySet[ReportDefinition]:
    """The saved definitions of the reports `user` may run."""
    keys = [report.key for report in reports_runnable(user)]
    return ReportDefinition.objects.filter(query__in=keys).select_related("created_by")


def report_definition_for_user(user: User, pk: int) -> ReportDefinition:
    """One definition of a report `user` may run (404 otherwise)."""
    return get_object_or_404(
        report_definitions_for_user(user).prefetch_related("recipients"), pk=pk
    )


def report_executions_for_user(user: User) -> QuerySet[ReportExecution]:
    """Executions of the reports `user` may run, newest first."""
    keys = [report.key for report in reports_runnable(user)]
    executions: QuerySet[ReportExecution] = ReportExecution.objects.filter(
        report_key__in=keys
    ).select_related("definition", "requested_by")
    return executions


def report_execution_for_page(pk: int) -> ReportExecution:
    """One execution with what its page shows (404 when there is none); who may see it is
    reports.access.may_see_execution."""
    execution: ReportExecution = get_object_or_404(
        ReportExecution.objects.select_related("definition", "requested_by"), pk=pk
    )
    return execution


def report_recipients_possible() -> QuerySet[User]:
    """Who may receive a scheduled report's link: the people who may view reports (each run
    checks the report's own permission too)."""
    return users_with_permission(VIEW_REPORTS)


def report_definitions_due(now: datetime) -> QuerySet[ReportDefinition]:
    """Scheduled definitions whose next run has come, locked for the caller's transaction; a
    concurrent caller skips them rather than running them twice."""
    return (
        ReportDefinition.objects.exclude(schedule=ReportSchedule.NONE)
        .filter(next_run_at__lte=now)
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("next_run_at", "pk")
    )


def report_executions_expired(now: datetime) -> QuerySet[ReportExecution]:
    """Executions whose file has expired but is still stored."""
    expired: QuerySet[ReportExecution] = ReportExecution.objects.filter(expires_at__lt=now).exclude(
        result_file_path=""
    )
    return expired


def data_protection_settings() -> DataProtectionSettings:
    """The institution's settings, or their defaults while nobody has saved them."""
    return DataProtectionSettings.objects.filter(pk=1).first() or DataProtectionSettings(pk=1)


def report_preview(
    report: Report, stored_parameters: dict[str, Any], column_keys: list[str] | None
) -> Preview:
    """The first PREVIEW_ROWS rows, read inside the institution: nothing suppressed."""
    rows = list(
        islice(report.rows(parameters_from_json(report, stored_parameters)), PREVIEW_ROWS + 1)
    )
    shown = rows[:PREVIEW_ROWS]
    columns = report.columns_chosen(column_keys)
    return Preview(
        columns=columns,
        rows=[[(column, row.get(column.key)) for column in columns] for row in shown],
        truncated=len(rows) > PREVIEW_ROWS,
        chart=report.chart(shown) if report.chart and shown else None,
    )


def report_title(key: str) -> str:
    """The title of the report `key`, or the key of one no longer built in."""
    try:
        return report_for(key).title
    except UnknownReport:
        return key


def report_execution_filename(execution: ReportExecution) -> str:
    """<report key>-<yyyy-mm-dd>-<id>.<format>, the day in the institution's time zone."""
    day = timezone.localdate(execution.created_at, institution_zone())
    return f"{execution.report_key}-{day:%Y-%m-%d}-{execution.pk}.{execution.format}"


def report_execution_content_type(execution: ReportExecution) -> str:
    return CONTENT_TYPES[ReportFormat(execution.format)]


def report_execution_downloadable(execution: ReportExecution) -> bool:
    return (
        execution.status == ExecutionStatus.COMPLETED
        and bool(execution.result_file_path)
        and (execution.expires_at is None or execution.expires_at > timezone.now())
    )
