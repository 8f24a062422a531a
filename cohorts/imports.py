"""Importing a cohort's students from a spreadsheet (CSV or XLSX): reading the file, checking
every row, and enrolling the valid rows in bulk, in one transaction.

The same reading and checking serve the upload pages (through `StudentImport`, with a preview
before anything is written) and the `import_students` command. Race and disability are special
personal information: they go into `CohortEnrollment.student_data` and nowhere else (not into
row errors, audit values, logs or e-mails).
"""

import codecs
import csv
import functools
import io
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import filetype
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.postgres.fields import ArrayField
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.validators import validate_email
from django.db import DatabaseError, OperationalError, connection, models, transaction
from django.db.models import F, Func, Q, Value
from django.urls import reverse
from django.utils import timezone
from redis.exceptions import RedisError
from tenant_schemas_celery.task import headers_with_schema

from accounts.models import Invitation, Role, User, normalise_email
from accounts.permissions import COHORT_MANAGERS, permission_check
from accounts.services import token_hash
from audit.bulk import AuditEntry, audit_record_many, rows_copy
from audit.services import audit_record
from cohorts.models import (
    STUDENT_IMPORT_RUNNING,
    Cohort,
    CohortState,
    StudentImport,
    StudentImportStatus,
)
from enrolments.choices import (
    Disability,
    Gender,
    IdNumberError,
    Race,
    choice_value,
    id_number_clean,
)
from enrolments.models import CohortEnrollment, EnrollmentState
from enrolments.services import enrollment_agreements_send_on_commit
from integrations.services import sync_enqueue_many
from notifications.models import OutboundEmail
from tenants.models import InstitutionDirectoryEntry
from tenants.services import email_directory_hash, institution_url

logger = logging.getLogger(__name__)

COLUMNS = ("full_name", "email", "id_number", "gender", "race", "disability")
REQUIRED_COLUMNS = ("full_name", "email")
STUDENT_DATA_COLUMNS = ("id_number", "gender", "race", "disability")
# Headings people commonly write instead of the template's, after normalisation.
COLUMN_ALIASES = {
    "name": "full_name",
    "e_mail": "email",
    "email_address": "email",
    "e_mail_address": "email",
    "id": "id_number",
    "id_no": "id_number",
    "population_group": "race",
}
CHOICES = {"gender": Gender, "race": Race, "disability": Disability}
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# Rows of a sheet read at most, blank ones included.
MAX_SHEET_ROWS = 2 * MAX_ROWS
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
ENROLLING_STATES = (CohortState.DRAFT, CohortState.ACTIVE)
# Delivery tasks queued per import: one per chunk of e-mails, not one per e-mail.
EMAIL_CHUNK = 250
EMAIL_QUEUE = "notifications"
SNIFF_BYTES = 8192
PROGRESS_EVERY = 500
# Below these sizes the pages read or import in the request; above them a task does it.
SYNCHRONOUS_MAX_BYTES = 64 * 1024
SYNCHRONOUS_MAX_ROWS = 1000
PROGRESS_CACHE_SECONDS = 60 * 60

FORMATS_HINT = "Upload a CSV or Excel (.xlsx) file; download the template for the columns."


class SpreadsheetError(ValidationError):
    """The whole file is refused (not a spreadsheet, empty, wrong columns, too large); the
    message says why, for the person who uploaded it."""


# --- Reading -------------------------------------------------------------------------------


@dataclass
class Spreadsheet:
    """A file's rows as text, keyed by the template's column names. `rows` is read lazily and
    skips blank rows; each comes with its row number as a spreadsheet program shows it."""

    kind: str
    columns: list[str]
    rows: Iterator[tuple[int, dict[str, str]]]
    estimated_rows: int


def _too_many_rows() -> SpreadsheetError:
    return SpreadsheetError(
        f"The file has more than {MAX_ROWS:,} students, the most one import takes. Split it "
        "into several files."
    )


def _size_check(size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise SpreadsheetError(
            f"The file is too large ({size / 1024 / 1024:.1f} MB): the limit is "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB and {MAX_ROWS:,} students. Split it into "
            "several files."
        )


def spreadsheet_kind(head: bytes) -> str:
    """The file type, "csv" or "xlsx", judged by the first bytes and never by the name."""
    if not head.strip():
        raise SpreadsheetError("The file is empty. " + FORMATS_HINT)
    guess = filetype.guess(head)
    if guess is not None and guess.extension == "xlsx":
        return "xlsx"
    if guess is not None:
        if guess.extension in ("xls", "doc", "ppt", "msi"):
            raise SpreadsheetError(
                "This is an old Excel (.xls) or password-protected file, which cannot be read. "
                "Save it as .xlsx (without a password) or as CSV."
            )
        raise SpreadsheetError(
            f"This is not a spreadsheet: the file is {guess.mime}. " + FORMATS_HINT
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"
    if any(byte < 32 and byte not in b"\t\n\r\f" for byte in head):
        raise SpreadsheetError("This is not a spreadsheet or a text file. " + FORMATS_HINT)
    text = head.lstrip(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"<"):
        raise SpreadsheetError(
            "This is a web page or an XML file, not a spreadsheet. " + FORMATS_HINT
        )
    return "csv"


def _decode(content: bytes) -> str:
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        # Excel on Windows saves "CSV" in the Windows code page, "CSV UTF-8" with a BOM.
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError(
        'The CSV file\'s text encoding is not recognised: save it as "CSV UTF-8".'
    )


def _csv_rows(content: bytes) -> tuple[Iterator[tuple[int, list[str]]], int]:
    text = _decode(content)
    first_line = text.split("\n", 1)[0]
    # Excel writes ";" where the decimal separator is a comma (as in South African settings).
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 0
        try:
            for number, cells in enumerate(reader, start=1):  # noqa: B007 (read in except)
                yield number, [cell.strip() for cell in cells]
        except csv.Error as error:
            raise SpreadsheetError(
                f"Row {number + 1} of the CSV file cannot be read ({error}). Check its quotes."
            ) from None

    return rows(), text.count("\n")


def _cell_text(value: Any) -> str:
    """Text as the person typed it: ID numbers stored as numbers keep every digit."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _xlsx_rows(content: bytes) -> tuple[Iterator[tuple[int, list[str]]], int]:
    from openpyxl import load_workbook

    unreadable = SpreadsheetError(
        "The Excel file cannot be read: it may be damaged or protected with a password. Open it "
        "and save it again, or save it as CSV."
    )
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        estimated = sheet.max_row or 0
    except Exception:  # openpyxl raises many kinds of error on a malformed file
        logger.info("Unreadable XLSX upload", exc_info=True)
        raise unreadable from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            # From row 1, openpyxl fills the gaps with empty rows: the numbers stay true.
            for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1):
                yield number, [_cell_text(value) for value in values]
        except SpreadsheetError:
            raise
        except Exception:
            logger.info("Unreadable XLSX upload", exc_info=True)
            raise unreadable from None
        finally:
            workbook.close()

    return rows(), estimated


def _column_name(heading: str) -> str:
    name = "_".join(heading.replace("-", " ").replace("_", " ").casefold().split()).strip("*")
    return COLUMN_ALIASES.get(name, name)


def _columns_check(headings: list[str]) -> list[str]:
    columns = [_column_name(heading) for heading in headings]
    named = [column for column in columns if column]
    unknown = [heading for heading, column in zip(headings, columns, strict=True)
               if column and column not in COLUMNS]  # fmt: skip
    repeated = sorted({column for column in named if named.count(column) > 1})
    missing = [column for column in REQUIRED_COLUMNS if column not in named]
    problems = []
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    if unknown:
        problems.append(
            f"unknown column{'s' if len(unknown) > 1 else ''}: "
            + ", ".join(f"“{heading[:40]}”" for heading in unknown[:5])
        )
    if repeated:
        problems.append(f"repeated column{'s' if len(repeated) > 1 else ''}: {', '.join(repeated)}")
    if problems:
        raise SpreadsheetError(
            f"The file has the wrong columns ({'; '.join(problems)}). The first row must name the "
            f"columns {', '.join(COLUMNS)} (only full_name and email are required); download the "
            "template."
        )
    return columns


def spreadsheet_read(content: bytes, *, kind: str | None = None) -> Spreadsheet:
    """Open a CSV or XLSX file's content and check its size, type and header row. Raises
    SpreadsheetError for a file that is too large, not a spreadsheet, empty or has the wrong
    columns. The rows themselves are read (and limited to MAX_ROWS) as they are consumed."""
    _size_check(len(content))
    kind = kind or spreadsheet_kind(content[:SNIFF_BYTES])
    raw_rows, estimated = _xlsx_rows(content) if kind == "xlsx" else _csv_rows(content)
    header = next(((number, cells) for number, cells in raw_rows if any(cells)), None)
    if header is None:
        raise SpreadsheetError("The file is empty. " + FORMATS_HINT)
    header_number, headings = header
    columns = _columns_check(headings)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for number, cells in raw_rows:
            if number > MAX_SHEET_ROWS:
                # A compressed XLSX can hold millions of rows in a few megabytes.
                raise _too_many_rows()
            if not any(cells):
                continue
            yield (
                number,
                {
                    column: cells[index] if index < len(cells) else ""
                    for index, column in enumerate(columns)
                    if column
                },
            )

    data_rows = rows()
    first = next(data_rows, None)
    if first is None:
        raise SpreadsheetError(
            "The file has a header row but no students. Add one student per row under it."
        )

    def all_rows() -> Iterator[tuple[int, dict[str, str]]]:
        yield first
        yield from data_rows

    return Spreadsheet(
        kind=kind,
        columns=[column for column in columns if column],
        rows=all_rows(),
        estimated_rows=max(estimated - header_number, 1),
    )


def spreadsheet_template(kind: str) -> bytes:
    """An empty import file with the columns (and, in XLSX, lists of the accepted values)."""
    if kind == "csv":
        return ("\ufeff" + ",".join(COLUMNS) + "\r\n").encode()
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Students"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEF", (30, 34, 16, 20, 20, 20), strict=True):
        sheet.column_dimensions[letter].width = width
    # ID numbers are text: as numbers, Excel would show 13 digits in scientific notation.
    sheet.column_dimensions["C"].number_format = "@"
    for letter, choices in (("D", Gender), ("E", Race), ("F", Disability)):
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(str(label) for label in choices.labels) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Not an accepted value",
            error="Choose one of the values in the list.",
        )
        validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
        sheet.add_data_validation(validation)
    guide = workbook.create_sheet("Accepted values")
    guide.append(["column", "required", "accepted values"])
    guide.append(["full_name", "yes", "the student's full name"])
    guide.append(["email", "yes", "one address per student; it becomes their sign-in"])
    guide.append(["id_number", "no", "13-digit South African ID number"])
    for column, choices in CHOICES.items():
        guide.append([column, "no", ", ".join(str(label) for label in choices.labels)])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    guide.column_dimensions["C"].width = 80
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


# --- Checking rows -------------------------------------------------------------------------


def row_clean(values: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """One row's values, normalised to what is stored, and the reasons it cannot be imported
    (empty when it can). Needs no database."""
    cleaned: dict[str, str] = {}
    messages: list[str] = []

    full_name = " ".join(str(values.get("full_name") or "").split())
    if not full_name:
        messages.append("Full name is missing.")
    elif len(full_name) > MAX_NAME_LENGTH:
        messages.append(f"Full name is longer than {MAX_NAME_LENGTH} characters.")
    else:
        cleaned["full_name"] = full_name

    email = normalise_email(str(values.get("email") or ""))
    if not email:
        messages.append("E-mail address is missing.")
    else:
        try:
            if len(email) > MAX_EMAIL_LENGTH:
                raise ValidationError("too long")
            validate_email(email)
        except ValidationError:
            messages.append(f"“{email[:80]}” is not a valid e-mail address.")
        else:
            cleaned["email"] = email

    id_number = str(values.get("id_number") or "").strip()
    if id_number:
        try:
            cleaned["id_number"] = id_number_clean(id_number)
        except IdNumberError as error:
            messages.append(str(error))

    for column, choices in CHOICES.items():
        raw = str(values.get(column) or "").strip()
        if not raw:
            continue
        value = choice_value(choices, raw)
        if value is not None:
            cleaned[column] = value
            continue
        accepted = ", ".join(str(label) for label in choices.labels)
        if column == "gender":
            messages.append(f"Gender “{raw[:40]}” is not one of: {accepted}.")
        else:
            # Special personal information: the value is not repeated in the report.
            messages.append(f"{column.capitalize()} is not one of: {accepted}.")
    return cleaned, messages


@dataclass
class _Row:
    line: int
    values: Mapping[str, Any]
    cleaned: dict[str, str]
    messages: list[str]


def _rows_clean(
    rows: Iterable[tuple[int, Mapping[str, Any]]], on_row: Callable[[int], None] | None = None
) -> list[_Row]:
    """Check every row on its own and against the rows above it (repeated e-mail addresses)."""
    checked: list[_Row] = []
    first_line_of: dict[str, int] = {}
    for count, (line, values) in enumerate(rows, start=1):
        if count > MAX_ROWS:
            raise _too_many_rows()
        cleaned, messages = row_clean(values)
        email = cleaned.get("email")
        if email in first_line_of:
            messages.append(f"Duplicate: the same e-mail address is on row {first_line_of[email]}.")
        elif email:
            first_line_of[email] = line
        checked.append(_Row(line, values, cleaned, messages))
        if on_row is not None:
            on_row(count)
    return checked


class CheckedRows(list):
    """Rows that `rows_check` has just checked: `enrollments_import` does not check them again.
    Rows that went through storage (a StudentImport's JSON) are plain lists and are."""


@dataclass
class RowsReport:
    """The rows that can be imported (normalised, with their row number as "line") and those
    that cannot, each with its reasons. Both are JSON-ready; neither holds the raw values of
    special personal information of an invalid row."""

    valid: CheckedRows = field(default_factory=CheckedRows)
    invalid: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.valid) + len(self.invalid)

    @property
    def bad(self) -> list[dict[str, Any]]:
        """The invalid rows that are wrong in themselves, not merely in the cohort already."""
        return [row for row in self.invalid if not row["already_in_cohort"]]


def rows_check(
    *,
    cohort: Cohort,
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    on_row: Callable[[int], None] | None = None,
) -> RowsReport:
    """Check `(row number, values)` pairs for an import into `cohort`: every rule of
    `row_clean`, duplicates within the file and students already in the cohort (one query).
    `on_row(count)` is called after each row, for progress."""
    checked = _rows_clean(rows, on_row)
    emails = [row.cleaned["email"] for row in checked if "email" in row.cleaned]
    in_cohort = dict(
        CohortEnrollment.objects.filter(cohort=cohort, user__email__in=emails).values_list(
            "user__email", "state"
        )
    )
    report = RowsReport()
    for row in checked:
        state = in_cohort.get(row.cleaned.get("email"))
        only_in_cohort = state is not None and not row.messages
        if state == EnrollmentState.WITHDRAWN:
            row.messages.append("Already in this cohort, withdrawn.")
        elif state is not None:
            row.messages.append("Already enrolled in this cohort.")
        if row.messages:
            report.invalid.append(
                {
                    "line": row.line,
                    "full_name": str(row.values.get("full_name") or "")[:MAX_NAME_LENGTH],
                    "email": str(row.values.get("email") or "")[:MAX_EMAIL_LENGTH],
                    "messages": row.messages,
                    # Nothing wrong with the row itself: importing the file again skips it.
                    "already_in_cohort": only_in_cohort,
                }
            )
        else:
            report.valid.append({"line": row.line, **row.cleaned})
    return report


# --- Importing -----------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did (or, from `enrollments_import_plan`, would do)."""

    enrolled: int = 0
    new_accounts: int = 0
    existing_accounts: int = 0
    already_enrolled: int = 0
    invitations: int = 0
    notices: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _check_manager(actor: User | None, action: str) -> None:
    """`actor=None` is the system (an operator's command), which may import anywhere."""
    if actor is None:
        return
    permission_check(actor=actor, allowed=actor.has_role(*COHORT_MANAGERS), action=action)


def _check_enrolling(cohort: Cohort) -> None:
    if cohort.state not in ENROLLING_STATES:
        raise ValidationError(
            f"Students cannot join a {cohort.get_state_display().lower()} cohort."
        )


def _rows_for_import(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The rows, checked again unless `rows_check` has just done it: a caller may hand in
    anything, and time may have passed since the preview. Any invalid row refuses the whole
    import."""
    if isinstance(rows, CheckedRows):
        return [{key: value for key, value in row.items() if key != "line"} for row in rows]
    numbered = ((int(row.get("line") or index), row) for index, row in enumerate(rows, start=1))
    checked = _rows_clean(numbered)
    invalid = [row for row in checked if row.messages]
    if invalid:
        shown = "; ".join(f"row {row.line}: {' '.join(row.messages)}" for row in invalid[:5])
        more = f" (and {len(invalid) - 5} more)" if len(invalid) > 5 else ""
        raise ValidationError(f"{len(invalid)} row(s) cannot be imported: {shown}{more}.")
    return [row.cleaned for row in checked]


def enrollments_import_plan(*, cohort: Cohort, rows: Iterable[Mapping[str, Any]]) -> ImportResult:
    """What `enrollments_import` would create for rows that have been checked (a preview's or
    `rows_check`'s valid rows), without writing: two queries, whatever the number of rows."""
    emails = list(dict.fromkeys(normalise_email(str(row["email"])) for row in rows))
    accounts = dict(User.objects.filter(email__in=emails).values_list("email", "password"))
    enrolled = set(
        CohortEnrollment.objects.filter(cohort=cohort, user__email__in=emails).values_list(
            "user__email", flat=True
        )
    )
    plan = ImportResult(already_enrolled=len(enrolled))
    for email in emails:
        if email in enrolled:
            continue
        plan.enrolled += 1
        password = accounts.get(email)
        if password is None:
            plan.new_accounts += 1
            plan.invitations += 1
        else:
            plan.existing_accounts += 1
            if password.startswith(UNUSABLE_PASSWORD_PREFIX):
                plan.invitations += 1
            else:
                plan.notices += 1
    return plan


def _directory_entries_add(emails: list[str], institution) -> None:
    """What `tenants.services.directory_entry_add` does, for many addresses in one statement
    (one array parameter, not a row of parameters per address); existing entries stay."""
    if not emails:
        return
    meta = InstitutionDirectoryEntry._meta
    quote = connection.ops.quote_name
    hash_column = quote(meta.get_field("email_hash").column)
    institution_column = quote(meta.get_field("institution").column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({hash_column}, {institution_column}) "  # noqa: S608 (names from the model)
            "SELECT unnest(%s::varchar[]), %s ON CONFLICT DO NOTHING",
            [[email_directory_hash(email) for email in emails], institution.pk],
        )


def _emails_dispatch_on_commit(email_ids: list[int]) -> None:
    """Hand the e-mails to the workers after commit, a chunk per task: thousands of broker
    round trips would otherwise hold up the request. They go on the e-mail queue, beside
    single e-mails. The outbox sweep catches any that a lost task leaves queued."""
    from cohorts.tasks import import_emails_deliver

    for start in range(0, len(email_ids), EMAIL_CHUNK):
        import_emails_deliver.apply_async_on_commit(
            (email_ids[start : start + EMAIL_CHUNK],), queue=EMAIL_QUEUE
        )


def enrollments_import(
    *,
    cohort: Cohort,
    actor: User | None,
    rows: Iterable[Mapping[str, Any]],
    reference: str = "",
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Enrol the students of `rows` (dicts with full_name, email and optional id_number,
    gender, race, disability) in `cohort`, all or nothing.

    New addresses get a student account without a password; an address that already has an
    account here is attached to it (and given the student role). Students already in the
    cohort are skipped, so importing the same rows twice adds nobody twice. Each new enrolment
    gets an invitation e-mail (or, for someone who has a password, a notice), queued in the
    outbox and delivered after commit. Writes are bulk (COPY): the number of queries does not grow
    with the number of rows. `progress(percent)` is called between steps."""
    _check_manager(actor, "cohorts.enrollments_import")
    cleaned = _rows_for_import(rows)

    def step(percent: int) -> None:
        if progress is not None:
            progress(percent)

    with transaction.atomic():
        cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
        _check_enrolling(cohort)
        institution = connection.tenant
        now = timezone.now()
        by_email = {row["email"]: row for row in cleaned}
        accounts = {
            user.email: user
            for user in User.objects.select_for_update()
            .filter(email__in=list(by_email))
            .only("pk", "email", "full_name", "roles", "password")
        }
        enrolled_ids = set(
            CohortEnrollment.objects.filter(
                cohort=cohort, user_id__in=[user.pk for user in accounts.values()]
            ).values_list("user_id", flat=True)
        )
        step(10)

        new_users = [
            User(
                email=email,
                full_name=row["full_name"],
                roles=[Role.STUDENT],
                # What set_unusable_password() stores, without its slower random string.
                password=UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30),
                date_joined=now,
            )
            for email, row in by_email.items()
            if email not in accounts
        ]
        rows_copy(User, new_users)
        _directory_entries_add([user.email for user in new_users], institution)
        needing_role = [
            user for user in accounts.values()
            if user.pk not in enrolled_ids and Role.STUDENT not in user.roles
        ]  # fmt: skip
        if needing_role:
            User.objects.filter(pk__in=[user.pk for user in needing_role]).update(
                roles=Func(
                    F("roles"),
                    Value(Role.STUDENT, output_field=models.CharField()),
                    function="array_append",
                    output_field=ArrayField(models.CharField(max_length=20)),
                )
            )
            for user in needing_role:
                user.roles = [*user.roles, Role.STUDENT]
        step(35)

        attached = [user for user in accounts.values() if user.pk not in enrolled_ids]
        students = [*new_users, *attached]
        enrollments = [
            CohortEnrollment(
                cohort=cohort,
                user=student,
                student_data={
                    key: by_email[student.email][key]
                    for key in STUDENT_DATA_COLUMNS
                    if by_email[student.email].get(key)
                },
            )
            for student in students
        ]
        rows_copy(CohortEnrollment, enrollments)
        step(55)

        emails, invitations = _enrollment_emails(
            enrollments=enrollments,
            actor=actor,
            institution=institution,
            existing_ids={user.pk for user in accounts.values()},
            now=now,
        )
        rows_copy(Invitation, invitations)
        rows_copy(OutboundEmail, emails)
        _emails_dispatch_on_commit([email.pk for email in emails])
        step(75)

        result = ImportResult(
            enrolled=len(enrollments),
            new_accounts=len(new_users),
            existing_accounts=len(enrollments) - len(new_users),
            already_enrolled=len(enrolled_ids),
            invitations=len(invitations),
            notices=len(emails) - len(invitations),
        )
        audit_record_many(
            actor=actor,
            entries=[
                *(
                    AuditEntry(
                        action="enrollment.invited",
                        entity_type="enrolments.cohortenrollment",
                        entity_id=enrollment.pk,
                        new_values={
                            "cohort": cohort.pk,
                            "student": enrollment.user.pk,
                            "email": enrollment.user.email,
                            "import": reference,
                        },
                    )
                    for enrollment in enrollments
                ),
                AuditEntry(
                    action="enrollment.imported",
                    entity_type="cohorts.cohort",
                    entity_id=cohort.pk,
                    new_values={"reference": reference, "rows": len(cleaned), **result.as_dict()},
                ),
            ],
        )
        sync_enqueue_many(enrollments)
        enrollment_agreements_send_on_commit(
            cohort=cohort, enrollment_ids=[enrollment.pk for enrollment in enrollments]
        )
        step(100)
    return result


def _enrollment_emails(
    *,
    enrollments: list[CohortEnrollment],
    actor: User | None,
    institution,
    existing_ids: set[int],
    now: datetime,
) -> tuple[list[OutboundEmail], list[Invitation]]:
    """What `enrolments.services._notify_enrolled` sends, for many students at once: an
    invitation to set a password, or, for someone who has one, a notice of the new cohort.
    Earlier unused invitations of those invited again are revoked, as `invitation_issue` does."""
    expires_at = now + settings.INVITATION_TTL
    expires_text = timezone.localtime(expires_at).strftime("%d %B %Y %H:%M")
    invited_by = str(actor) if actor else ""
    # reverse() once: the token is the only part of the link that changes.
    accept_path = reverse("accounts:invitation_accept", args=["TOKEN"])
    accept_base = institution_url(institution, accept_path.replace("TOKEN", "{}"))
    reinvited = [
        enrollment.user.pk
        for enrollment in enrollments
        if enrollment.user.pk in existing_ids and not enrollment.user.has_usable_password()
    ]
    if reinvited:
        Invitation.objects.filter(
            user_id__in=reinvited, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
    role_labels: dict[tuple[str, ...], list[str]] = {}
    emails, invitations = [], []
    for enrollment in enrollments:
        student = enrollment.user
        if student.has_usable_password():
            emails.append(
                OutboundEmail(
                    recipient=student.email,
                    template="enrolled",
                    created_at=now,
                    context={
                        "full_name": student.full_name,
                        "cohort_name": enrollment.cohort.name,
                        "url": institution_url(
                            institution, reverse("enrolments:detail", args=[enrollment.pk])
                        ),
                    },
                )
            )
            continue
        token = secrets.token_urlsafe(32)
        invitations.append(
            Invitation(
                user=student,
                token_hash=token_hash(token),
                invited_by=actor,
                created_at=now,
                expires_at=expires_at,
            )
        )
        emails.append(
            OutboundEmail(
                recipient=student.email,
                template="invitation",
                created_at=now,
                context={
                    "full_name": student.full_name,
                    "invited_by": invited_by,
                    "roles": role_labels.setdefault(
                        tuple(student.roles), [str(label) for label in student.role_labels]
                    ),
                    "accept_url": accept_base.format(token),
                    "expires_at": expires_text,
                },
            )
        )
    return emails, invitations


# --- Uploads through the pages (StudentImport) ---------------------------------------------
#
# Each step a worker performs (parsing, importing) is written to the import's row before its
# task is queued: the row is the task's outbox. `dispatched_at` says the broker took the task,
# `lease_expires_at` that a worker holds the step (renewed as it reads; while importing, the
# row is also locked by the import's transaction, which ends with the worker's connection).
# `student_imports_sweep` (Celery beat) queues again a step whose task was never handed over
# or was lost, takes back one whose worker died, and fails one that keeps dying.

# A worker renews the lease as it reads rows; a step without a renewal for this long has lost
# its worker.
STEP_LEASE = timedelta(seconds=60)
# A queued task no worker has taken within this long was lost (a broker restarted empty): it
# is queued again. Taking a step is atomic, so a late duplicate does nothing.
REDISPATCH_AFTER = timedelta(seconds=60)
# Workers that may die in a step before it is given up, with a message for the admin.
MAX_STEP_ATTEMPTS = 3
GIVEN_UP = {
    StudentImportStatus.PARSING: "Checking the file was interrupted {attempts} times, so it "
    "was stopped. Upload the file again; if it happens again, split it into smaller files.",
    StudentImportStatus.IMPORTING: "The import was interrupted {attempts} times, so it was "
    "stopped; nothing was imported. Upload the file again; if it happens again, split it into "
    "smaller files.",
}
# Redis errors, and the socket errors under them: progress in the cache is a nicety.
CACHE_ERRORS = (RedisError, OSError)


def error_kind(error: Exception) -> str:
    """An error's type and, for a database error, the constraint it broke: never its message,
    which may quote a row's values (special personal information among them)."""
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    return type(error).__name__ + (f" ({constraint})" if constraint else "")


def _progress_key(student_import: StudentImport) -> str:
    # The cache's key function prefixes the schema: one institution cannot read another's.
    return f"cohorts:student-import:{student_import.pk}:progress"


def _progress_save(student_import: StudentImport, percent: int) -> None:
    """Best effort: a cache that cannot be reached never stops an import or fails a page."""
    try:
        cache.set(_progress_key(student_import), percent, PROGRESS_CACHE_SECONDS)
    except CACHE_ERRORS as error:
        logger.warning(
            "Progress of student import %s not saved: %s", student_import.pk, type(error).__name__
        )


def student_import_progress(student_import: StudentImport) -> int:
    """Percent done, for the progress bar: rows read while parsing, steps while importing
    (0 when the cache cannot be reached)."""
    if student_import.status != StudentImportStatus.IMPORTING:
        return student_import.progress_percent
    try:
        return int(cache.get(_progress_key(student_import), 0))
    except CACHE_ERRORS as error:
        logger.warning(
            "Progress of student import %s not read: %s", student_import.pk, type(error).__name__
        )
        return 0


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _step_task(status: str):
    from cohorts.tasks import student_import_parse_task, student_import_run_task

    return {
        StudentImportStatus.PARSING: student_import_parse_task,
        StudentImportStatus.IMPORTING: student_import_run_task,
    }[status]


def _step_dispatch(student_import_id: int, status: str, headers: dict) -> bool:
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


def student_import_start(*, cohort: Cohort, actor: User, upload: File) -> StudentImport:
    """Accept an uploaded file for `cohort`: refuse it at once if it is too large, not a
    spreadsheet, empty or has the wrong columns; otherwise store it and check its rows, in
    this request for a small file, else in a task (the page shows the progress). The import
    is saved waiting for its task: a broker that is down delays the check, and loses nothing."""
    _check_manager(actor, "cohorts.student_import_start")
    _check_enrolling(cohort)
    _size_check(upload.size or 0)
    upload.seek(0)
    content = upload.read()
    spreadsheet = spreadsheet_read(content)
    upload.seek(0)
    with transaction.atomic():
        student_import = StudentImport(
            cohort=cohort,
            original_name=(upload.name or "students")[-255:],
            size=len(content),
            kind=spreadsheet.kind,
            total_rows=spreadsheet.estimated_rows,
            created_by=actor,
        )
        student_import.file.save("upload", upload, save=False)
        student_import.save()
        audit_record(
            actor=actor,
            action="student_import.uploaded",
            entity_type="cohorts.studentimport",
            entity_id=student_import.pk,
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
    _check_manager(actor, "cohorts.student_import_confirm")
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
            refusals = {
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


def _import_fail(student_import: StudentImport, message: str) -> None:
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
        _import_fail(student_import, "The person who confirmed the import no longer exists.")
        return student_import
    try:
        # Before the transaction: a refusal's audit event must outlive the rollback.
        _check_manager(actor, "cohorts.enrollments_import")
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
                storage = locked.file.storage
                transaction.on_commit(lambda: storage.delete(stored_file))
    except (ValidationError, PermissionDenied, DatabaseError) as error:
        if isinstance(error, ValidationError):
            message = " ".join(error.messages)
        elif isinstance(error, PermissionDenied):
            message = "You may no longer import students."
        else:
            # E.g. someone else enrolled one of these students at the same moment.
            logger.error("Student import %s failed: %s", student_import.pk, error_kind(error))
            message = "The import failed and nothing was imported. Upload the file again."
        _import_fail(student_import, message)
        return student_import
    student_import.refresh_from_db()
    return student_import


def student_import_cancel(*, student_import: StudentImport, actor: User) -> StudentImport:
    """Stop an import that has not finished (being checked, waiting for confirmation, or
    queued or stuck importing) and forget its file and rows. Refused while a worker is
    writing its students: that ends in seconds, one way or the other. A task that arrives
    later finds it cancelled and does nothing."""
    _check_manager(actor, "cohorts.student_import_cancel")
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
                entity_type="cohorts.studentimport",
                entity_id=locked.pk,
                old_values={"status": previous},
                new_values={"status": locked.status, "cohort": locked.cohort_id},
            )
            if stored_file:
                storage = locked.file.storage
                transaction.on_commit(lambda: storage.delete(stored_file))
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
            if lost_worker and student_import.attempts >= MAX_STEP_ATTEMPTS:
                message = GIVEN_UP[student_import.status].format(attempts=student_import.attempts)
                logger.warning(
                    "Student import %s given up after %s attempts at %s",
                    pk,
                    student_import.attempts,
                    student_import.status,
                )
                audit_record(
                    action="student_import.failed",
                    entity_type="cohorts.studentimport",
                    entity_id=pk,
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
    for student_import in stale.iterator():
        with transaction.atomic():
            stored_file = student_import.file.name
            student_import.status = StudentImportStatus.FAILED
            student_import.error = "Not confirmed within a week: upload the file again."
            student_import.valid_rows = []
            student_import.row_errors = []
            student_import.file = ""
            student_import.lease_expires_at = None
            student_import.save()
            if stored_file:
                storage = student_import.file.storage
                transaction.on_commit(lambda name=stored_file, store=storage: store.delete(name))
        discarded += 1
    return discarded
