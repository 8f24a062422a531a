"""The reports pages: the reports a person may run with the saved definitions and recent runs,
a report's page (its parameters, a preview with its chart, and running it as a file), saved
definitions, and an execution's page with its progress and download."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check, permission_required
from reports.access import MANAGE_REPORTS, VIEW_REPORTS, may_run, may_see_execution
from reports.forms import ReportDefinitionForm, ReportRunForm
from reports.models import ExecutionStatus, ReportDefinition, ReportExecution
from reports.registry import (
    Report,
    UnknownReport,
    parameters_to_json,
    report_for,
)
from reports.selectors import (
    PREVIEW_ROWS,
    report_areas_for_user,
    report_definition_for_user,
    report_definitions_for_user,
    report_execution_content_type,
    report_execution_downloadable,
    report_execution_filename,
    report_execution_for_page,
    report_executions_for_user,
    report_preview,
    report_title,
)
from reports.services import (
    report_definition_create,
    report_definition_delete,
    report_definition_update,
    report_execution_download,
    report_execution_request,
)

# Recent runs on the reports page, one page at a time.
EXECUTIONS_PER_PAGE = 15


def _report(request: AuthenticatedRequest, key: str) -> Report:
    """The report `key` if the person may run it; 404 (audited) otherwise."""
    try:
        report = report_for(key)
    except UnknownReport:
        raise Http404 from None
    permission_check(
        actor=request.user,
        action=f"view:reports.report:{key}",
        allowed=may_run(request.user, report),
    )
    return report


def _execution(request: AuthenticatedRequest, pk: int) -> ReportExecution:
    """The execution `pk` if the person may see it; 404 (audited) otherwise."""
    execution = report_execution_for_page(pk)
    permission_check(
        actor=request.user,
        action=f"view:reports.execution:{pk}",
        allowed=may_see_execution(request.user, execution),
    )
    return execution


def _errors_show(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal shown on the form: on its field when it names one, else above."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@permission_required(VIEW_REPORTS)
def report_index(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "reports/index.html",
        {
            "areas": report_areas_for_user(user),
            "definitions": report_definitions_for_user(user),
            "page": list_page(
                request, report_executions_for_user(user), per_page=EXECUTIONS_PER_PAGE
            ),
            "may_manage": user.may(MANAGE_REPORTS),
            "now": timezone.now(),
        },
    )


@permission_required(VIEW_REPORTS)
def report_detail(request: AuthenticatedRequest, key: str) -> HttpResponse:
    """GET: the report's forms. POST with action "preview": the first rows on the page, with
    the chart; with action "run": an execution, then its page."""
    report = _report(request, key)
    data = request.POST if request.method == "POST" else None
    parameters_form = report.parameters_form(data)
    run_form = ReportRunForm(data, report=report)
    preview = None
    if data is not None and parameters_form.is_valid() and run_form.is_valid():
        parameters = parameters_to_json(report, parameters_form.cleaned_data)
        if request.POST.get("action") == "run":
            try:
                execution = report_execution_request(
                    actor=request.user,
                    report_key=report.key,
                    parameters=parameters,
                    columns=run_form.cleaned_data["columns"],
                    format=run_form.cleaned_data["format"],
                )
            except ValidationError as error:
                _errors_show(parameters_form, error)
            else:
                messages.success(request, f"{report.title} is being produced.")
                return redirect("reports:execution", execution.pk)
        else:
            preview = report_preview(report, parameters, run_form.cleaned_data["columns"])
    return render(
        request,
        "reports/report.html",
        {
            "report": report,
            "parameters_form": parameters_form,
            "run_form": run_form,
            "preview": preview,
            "preview_limit": PREVIEW_ROWS,
            "may_manage": request.user.may(MANAGE_REPORTS),
        },
        status=400 if data is not None and preview is None else 200,
    )


def _definition_page(
    request: AuthenticatedRequest,
    *,
    report: Report,
    parameters_form: forms.Form,
    form: ReportDefinitionForm,
    definition: ReportDefinition | None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "reports/definition_form.html",
        {
            "report": report,
            "parameters_form": parameters_form,
            "form": form,
            "definition": definition,
        },
        status=status,
    )


def _definition_values(
    report: Report, parameters_form: forms.Form, form: ReportDefinitionForm
) -> dict[str, Any]:
    cleaned = form.cleaned_data
    return {
        "name": cleaned["name"],
        "description": cleaned["description"],
        "parameters": parameters_to_json(report, parameters_form.cleaned_data),
        "columns": cleaned["columns"],
        "format": cleaned["format"],
        "schedule": cleaned["schedule"],
        "recipients": cleaned["recipients"],
    }


@permission_required(MANAGE_REPORTS)
def definition_create(request: AuthenticatedRequest, key: str) -> HttpResponse:
    report = _report(request, key)
    data = request.POST if request.method == "POST" else None
    parameters_form = report.parameters_form(data)
    form = ReportDefinitionForm(data, report=report)
    if data is not None and parameters_form.is_valid() and form.is_valid():
        try:
            definition = report_definition_create(
                actor=request.user,
                report_key=report.key,
                **_definition_values(report, parameters_form, form),
            )
        except ValidationError as error:
            _errors_show(form, error)
        else:
            messages.success(request, f"“{definition.name}” is saved.")
            return redirect("reports:index")
    return _definition_page(
        request,
        report=report,
        parameters_form=parameters_form,
        form=form,
        definition=None,
        status=400 if data is not None else 200,
    )


@permission_required(MANAGE_REPORTS)
def definition_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    definition = report_definition_for_user(request.user, pk)
    report = _report(request, definition.query)
    if request.method == "POST":
        parameters_form = report.parameters_form(request.POST)
        form = ReportDefinitionForm(request.POST, report=report, definition=definition)
        if parameters_form.is_valid() and form.is_valid():
            try:
                definition = report_definition_update(
                    actor=request.user,
                    definition=definition,
                    **_definition_values(report, parameters_form, form),
                )
            except ValidationError as error:
                _errors_show(form, error)
            else:
                messages.success(request, f"“{definition.name}” is saved.")
                return redirect("reports:index")
        return _definition_page(
            request,
            report=report,
            parameters_form=parameters_form,
            form=form,
            definition=definition,
            status=400,
        )
    parameters_form = report.parameters_form()
    parameters_form.initial = dict(definition.parameters)
    form = ReportDefinitionForm(
        report=report,
        definition=definition,
        initial={
            "name": definition.name,
            "description": definition.description,
            "columns": definition.columns or list(report.column_keys),
            "format": definition.format,
            "schedule": definition.schedule,
            "recipients": list(definition.recipients.all()),
        },
    )
    return _definition_page(
        request, report=report, parameters_form=parameters_form, form=form, definition=definition
    )


@permission_required(MANAGE_REPORTS)
@require_POST
def definition_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    definition = report_definition_for_user(request.user, pk)
    report_definition_delete(actor=request.user, definition=definition)
    messages.success(request, f"“{definition.name}” is deleted; its past runs stay listed.")
    return redirect("reports:index")


@permission_required(VIEW_REPORTS)
@require_POST
def definition_run(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Run a saved definition now, with its parameters as saved."""
    definition = report_definition_for_user(request.user, pk)
    try:
        execution = report_execution_request(
            actor=request.user,
            report_key=definition.query,
            parameters=definition.parameters,
            columns=definition.columns,
            format=definition.format,
            definition=definition,
        )
    except ValidationError as error:
        messages.error(
            request,
            f"“{definition.name}” cannot run as saved: {' '.join(error.messages)} Edit it first.",
        )
        return redirect("reports:index")
    messages.success(request, f"“{definition.name}” is being produced.")
    return redirect("reports:execution", execution.pk)


def _execution_context(execution: ReportExecution) -> dict[str, Any]:
    total = execution.rows_total
    percent = min(100, execution.rows_done * 100 // total) if total else None
    if execution.status == ExecutionStatus.COMPLETED:
        percent = 100
    return {
        "execution": execution,
        "report_title": report_title(execution.report_key),
        "now": timezone.now(),
        "running": execution.status in (ExecutionStatus.PENDING, ExecutionStatus.PROCESSING),
        "downloadable": report_execution_downloadable(execution),
        "percent": percent,
    }


@permission_required(VIEW_REPORTS)
def execution_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    execution = _execution(request, pk)
    return render(request, "reports/execution.html", _execution_context(execution))


@permission_required(VIEW_REPORTS)
def execution_status(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The status card, polled by htmx while the run goes on; once it is over the whole page
    reloads, to show the download or the error."""
    execution = _execution(request, pk)
    context = _execution_context(execution)
    if request.htmx and not context["running"]:
        return HttpResponseClientRefresh()
    return render(request, "reports/_execution_status.html", context)


@permission_required(VIEW_REPORTS)
def execution_download(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """The result file, streamed from private storage to someone allowed it, and recorded."""
    execution = _execution(request, pk)
    try:
        report_execution_download(actor=request.user, execution=execution)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(reverse("reports:execution", args=[execution.pk]))
    response = FileResponse(
        default_storage.open(execution.result_file_path, "rb"),
        as_attachment=True,
        filename=report_execution_filename(execution),
        content_type=report_execution_content_type(execution),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
