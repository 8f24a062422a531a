"""Pages for importing a cohort's students from a spreadsheet: upload, progress and preview,
confirmation, cancellation, and the template to fill in. The work is in cohorts.imports."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from accounts.http import AuthenticatedRequest
from accounts.permissions import permission_required
from cohorts.imports.reading import CHOICES, MAX_FILE_BYTES, MAX_ROWS, spreadsheet_template
from cohorts.imports.selectors import (
    enrollments_import_plan,
    student_import_for_cohort,
    student_import_progress,
    student_imports_recent,
)
from cohorts.imports.uploads import (
    student_import_cancel,
    student_import_confirm,
    student_import_start,
)
from cohorts.models import Cohort, StudentImport, StudentImportStatus
from learners.models import Learner

PREVIEW_ROWS = 100
TEMPLATE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class StudentImportForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet",
        # An empty file is reported by the import itself, in the same words as other refusals.
        allow_empty_file=True,
        help_text=f"CSV or Excel (.xlsx), at most {MAX_FILE_BYTES // 1024 // 1024} MB and "
        f"{MAX_ROWS:,} students, one per row.",
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet"
            }
        ),
    )


def _cohort(cohort_pk: int) -> Cohort:
    return get_object_or_404(Cohort, pk=cohort_pk)


def _progress_context(student_import: StudentImport) -> dict:
    percent = student_import_progress(student_import)
    return {
        "student_import": student_import,
        "percent": percent,
        # CSP allows no inline style: the bar's width is one of import.css's 5 % steps.
        "width_step": percent // 5 * 5,
    }


def _display_rows(rows: list[dict]) -> list[dict]:
    """Valid rows with the labels of their choices, as the admin wrote them, and their ID
    numbers masked as a learner's are (the rows hold them sealed)."""
    shown = []
    for row in rows[:PREVIEW_ROWS]:
        labelled = dict(row)
        labelled["national_id_masked"] = Learner(
            national_id_last4=row.get("national_id_last4", "")
        ).national_id_masked
        for column, choices in CHOICES.items():
            if row.get(column):
                labelled[column] = choices(row[column]).label
        shown.append(labelled)
    return shown


@permission_required("enrolments.manage_enrolments")
def import_upload(request: AuthenticatedRequest, cohort_pk: int) -> HttpResponse:
    cohort = _cohort(cohort_pk)
    form = StudentImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            student_import = student_import_start(
                cohort=cohort, actor=request.user, upload=form.cleaned_data["file"]
            )
        except ValidationError as error:
            form.add_error("file", error)
        else:
            return redirect("cohort_import:detail", cohort_pk=cohort.pk, pk=student_import.pk)
    recent = student_imports_recent(cohort=cohort)
    return render(
        request,
        "cohorts/import_upload.html",
        {
            "cohort": cohort,
            "form": form,
            "recent": recent,
            "can_import": not cohort.is_closed,
            "choices": {column: choices.labels for column, choices in CHOICES.items()},
        },
    )


@permission_required("enrolments.manage_enrolments")
def import_detail(request: AuthenticatedRequest, cohort_pk: int, pk: int) -> HttpResponse:
    """The import's page: progress while a task works, then the preview (valid rows, invalid
    rows with their reasons, and what confirming will create), then the outcome."""
    cohort = _cohort(cohort_pk)
    student_import = student_import_for_cohort(cohort=cohort, pk=pk)
    context = {"cohort": cohort, **_progress_context(student_import)}
    if student_import.status == StudentImportStatus.PREVIEW:
        context.update(
            valid_rows=_display_rows(student_import.valid_rows),
            more_valid=max(len(student_import.valid_rows) - PREVIEW_ROWS, 0),
            plan=enrollments_import_plan(cohort=cohort, rows=student_import.valid_rows)
            if student_import.valid_rows
            else None,
        )
    return render(request, "cohorts/import_detail.html", context)


@permission_required("enrolments.manage_enrolments")
def import_progress(request: AuthenticatedRequest, cohort_pk: int, pk: int) -> HttpResponse:
    """The progress bar, polled by htmx; once the work is over the whole page reloads to show
    the preview or the outcome."""
    cohort = _cohort(cohort_pk)
    student_import = student_import_for_cohort(cohort=cohort, pk=pk, rows=False)
    if request.htmx and not student_import.is_running:
        return HttpResponseClientRefresh()
    return render(
        request,
        "cohorts/import_progress.html",
        {"cohort": cohort, **_progress_context(student_import)},
    )


@permission_required("enrolments.manage_enrolments")
@require_POST
def import_confirm(request: AuthenticatedRequest, cohort_pk: int, pk: int) -> HttpResponse:
    cohort = _cohort(cohort_pk)
    student_import = student_import_for_cohort(cohort=cohort, pk=pk)
    try:
        student_import = student_import_confirm(student_import=student_import, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if student_import.status == StudentImportStatus.DONE:
            enrolled = student_import.result.get("enrolled", 0)
            messages.success(
                request, f"{enrolled} student{'s' if enrolled != 1 else ''} enrolled and invited."
            )
    return redirect("cohort_import:detail", cohort_pk=cohort.pk, pk=student_import.pk)


@permission_required("enrolments.manage_enrolments")
def import_cancel(request: AuthenticatedRequest, cohort_pk: int, pk: int) -> HttpResponse:
    """Asks first; cancelling forgets the file and its rows."""
    cohort = _cohort(cohort_pk)
    student_import = student_import_for_cohort(cohort=cohort, pk=pk, rows=False)
    if request.method == "POST":
        try:
            student_import_cancel(student_import=student_import, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Import cancelled: nothing was imported from this file.")
        return redirect("cohort_import:detail", cohort_pk=cohort.pk, pk=student_import.pk)
    if not student_import.is_cancellable:
        return redirect("cohort_import:detail", cohort_pk=cohort.pk, pk=student_import.pk)
    return render(
        request,
        "cohorts/import_cancel.html",
        {"cohort": cohort, "student_import": student_import},
    )


@permission_required("enrolments.manage_enrolments")
def import_template(request: AuthenticatedRequest, cohort_pk: int, kind: str) -> HttpResponse:
    _cohort(cohort_pk)
    if kind not in TEMPLATE_TYPES:
        raise Http404
    response = HttpResponse(spreadsheet_template(kind), content_type=TEMPLATE_TYPES[kind])
    response["Content-Disposition"] = f'attachment; filename="students-template.{kind}"'
    return response
