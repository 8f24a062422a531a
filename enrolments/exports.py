"""A cohort's students as a spreadsheet (CSV or XLSX) for the institution's admins: each
student's details, progress, documents and agreement, as the cohort page's students table
shows them and with the filters chosen there.

Personal data leaves the system with a file, so the export is permission-checked and audited
(who, which cohort, which format, how many rows) like a change. A spreadsheet program runs a
cell that starts with = + - or @ as a formula (CSV injection): CSV cells that do are prefixed
with an apostrophe, and XLSX cells are written as text, never as formulas.
"""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from cohorts.models import Cohort, DocumentType
from enrolments.models import (
    AgreementStatus,
    CohortEnrollment,
    DocumentsStatus,
    DocumentStatus,
    StudentDocument,
)
from enrolments.selectors import (
    EnrollmentStep,
    enrollment_document_prefetches,
    enrollment_document_steps,
    enrollment_list_for_cohort,
)
from learners.selectors import DETAILS_SUMMARY, detail_text
from signing.models import signer_party
from tenants.zones import institution_zone

CSV = "csv"
XLSX = "xlsx"
FORMATS = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# What a spreadsheet program takes for the start of a formula (OWASP's list: a tab or a
# carriage return before one counts too).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The filters of the cohort page the export honours (enrolments.selectors.
# enrollment_list_for_cohort's keywords).
FILTERS = ("search", "state", "agreement", "documents", "sort")


@dataclass(frozen=True)
class StudentsExport:
    """The file to hand to the browser."""

    filename: str
    content_type: str
    content: bytes


def csv_cell(value: str) -> str:
    """`value` as a CSV cell no spreadsheet program runs as a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _agreement_text(enrollment: CohortEnrollment) -> tuple[str, str]:
    """The agreement's status as the students table says it, and a decline's reason."""
    status = AgreementStatus(getattr(enrollment, "agreement_status", AgreementStatus.NOT_SENT))
    if status == AgreementStatus.WAITING:
        party = signer_party(getattr(enrollment, "latest_agreement_waiting_role", ""))
        return f"Waiting for {party}", ""
    if status == AgreementStatus.DECLINED:
        party = signer_party(getattr(enrollment, "latest_agreement_declined_role", ""))
        return f"Declined by {party}", getattr(
            enrollment, "latest_agreement_decline_reason", ""
        ) or ""
    return str(status.label), ""


def _document_text(step: EnrollmentStep) -> str:
    """The document that counts for the enrolment, as its step says, and the cohort it was
    verified or uploaded for when that is another."""
    document = step.document
    if step.expired:
        return "Expired"
    if document is None:
        return "Not uploaded"
    if document.status == DocumentStatus.REJECTED and document.rejection_reason:
        text = f"Rejected: {document.rejection_reason}"
    else:
        text = str(DocumentStatus(document.status).label)
    return f"{text} (in {document.enrollment.cohort.name})" if step.reused else text


def _table(
    cohort: Cohort, enrollments: Iterable[CohortEnrollment], document_types: list[DocumentType]
) -> list[list[str]]:
    """The header and one row per enrolment, every cell text."""
    zone = institution_zone()
    header = [
        "Full name",
        "E-mail address",
        "Signed up",
        f"Invited ({zone.key})",
        "Progress",
        "Agreement",
        "Reason for declining",
        "Documents",
        *(f"Document: {document_type.name}" for document_type in document_types),
        "ID or passport number",
        *(label for _name, label, _choices in DETAILS_SUMMARY),
    ]
    rows = [header]
    for enrollment in enrollments:
        student = enrollment.user
        steps = {
            step.document_type.pk: step
            for step in enrollment_document_steps(enrollment)
            if step.document_type is not None
        }
        agreement, decline_reason = _agreement_text(enrollment)
        documents = DocumentsStatus(getattr(enrollment, "documents_status", ""))
        learner = enrollment.learner
        rows.append(
            [
                student.full_name,
                student.email,
                "Yes" if student.has_accepted_invitation else "No",
                timezone.localtime(enrollment.invited_at, zone).strftime("%Y-%m-%d %H:%M"),
                enrollment.get_state_display(),
                agreement,
                decline_reason,
                str(documents.label),
                *(_document_text(steps[kind.pk]) for kind in document_types),
                learner.national_id_masked,
                *(detail_text(learner, name, choices) for name, _label, choices in DETAILS_SUMMARY),
            ]
        )
    return rows


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    # With a byte-order mark, Excel reads the file as UTF-8 (names with accents stay whole).
    return ("\ufeff" + buffer.getvalue()).encode()


def _xlsx_bytes(rows: list[list[str]], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has its one sheet
    # Excel refuses these characters in a sheet's name, and names longer than 31.
    sheet.title = " ".join(re.sub(r"[\\/?*\[\]:]", " ", title).split())[:31] or "Students"
    for row_number, row in enumerate(rows, 1):
        for column_number, text in enumerate(row, 1):
            # Control characters (a pasted name can carry one) are not allowed in the file.
            value = ILLEGAL_CHARACTERS_RE.sub("", text)
            cell = sheet.cell(row=row_number, column=column_number, value=value)
            # openpyxl stores a string that starts with "=" as a formula: keep it text.
            cell.data_type = "s"
            if row_number == 1:
                cell.font = Font(bold=True)
    for column_number, _header in enumerate(rows[0], 1):
        width = max(len(row[column_number - 1]) for row in rows[:200])
        sheet.column_dimensions[get_column_letter(column_number)].width = min(max(width, 8), 50)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def cohort_students_export(
    *, cohort: Cohort, actor: User, file_format: str, filters: dict[str, str] | None = None
) -> StudentsExport:
    """The cohort's students (those the cohort page's `filters` keep, every one without) as a
    CSV or XLSX file, for someone who manages enrolments and reaches the cohort; the export is
    recorded in the audit trail before the file is handed over."""
    permission_check(
        actor=actor,
        permission="enrolments.manage_enrolments",
        obj=cohort,
        action="enrolments.students_export",
    )
    if file_format not in FORMATS:
        raise ValueError(f"Not an export format: {file_format!r}.")
    chosen = {name: value for name, value in (filters or {}).items() if name in FILTERS and value}
    enrollments = (
        enrollment_list_for_cohort(cohort=cohort, **chosen)
        .select_related("cohort", "learner")
        .prefetch_related(
            *enrollment_document_prefetches(StudentDocument.objects.filter(is_current=True))
        )
    )
    document_types = list(cohort.required_document_types.order_by("name"))
    rows = _table(cohort, enrollments, document_types)
    content = _csv_bytes(rows) if file_format == CSV else _xlsx_bytes(rows, cohort.name)
    with transaction.atomic(durable=True):
        audit_record(
            actor=actor,
            action="cohort.students_exported",
            entity=cohort,
            new_values={
                "format": file_format,
                "students": len(rows) - 1,
                # A search may be a person's name: the trail says only that there was one.
                "filters": {
                    name: ("(given)" if name == "search" else value)
                    for name, value in chosen.items()
                    if name != "sort"
                },
            },
        )
    stamp = timezone.localtime(timezone.now(), institution_zone()).strftime("%Y-%m-%d")
    return StudentsExport(
        filename=f"{slugify(cohort.name) or 'cohort'}-students-{stamp}.{file_format}",
        content_type=FORMATS[file_format],
        content=content,
    )
