"""Importing the catalogue from a spreadsheet (CSV or XLSX): one row per course, its programme's
columns on each row (a row without a course sets up the programme alone). Reading judges the
file by its content (filetype, openpyxl, csv: the libraries the student import uses); checking
(`catalogue_plan`) says what confirming would create or change, row by row, and why a row is
refused. Nothing here writes: academics.services.catalogue_import does, from the same rows.
The reading itself (and the upload's wait in the session, and the template download) is
shared with placements' import of organisations: one implementation, each with its limits."""

import csv
import io
import logging
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

import filetype
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.db.models import Field
from django.db.models.functions import Upper
from django.http import HttpResponse

from academics.models import Course, CoursePrerequisite, Programme, QualificationType
from academics.prerequisites import cycle_message, prerequisite_path

logger = logging.getLogger(__name__)

COLUMNS = (
    "programme_code",
    "programme_name",
    "qualification_type",
    "duration_years",
    "total_credits",
    "nqf_level",
    "saqa_qualification_id",
    "course_code",
    "course_name",
    "credits",
    "hours_per_week",
    "core",
    "prerequisites",
)
REQUIRED_COLUMNS = ("programme_code",)
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000
# A catalogue of MAX_ROWS rows unpacks to a few MB.
MAX_XLSX_UNPACKED_BYTES = 20 * 1024 * 1024
HINT = "Upload a CSV or Excel (.xlsx) file; download the template for the columns."
YES, NO = {"yes", "y", "true", "1", "core"}, {"no", "n", "false", "0", "elective"}

# (programme code, course code): a course as the file names it.
CourseKey = tuple[str, str]


# Reading a spreadsheet, shared with the other imports of reference data (placements'
# organisations): the limits differ, the reading does not.


@dataclass(frozen=True)
class SpreadsheetLimits:
    """What one import accepts. `holds` names what the file is, for messages ("a catalogue")."""

    max_file_bytes: int
    max_rows: int
    # An XLSX is a zip: what it unpacks to is checked before it is opened (a small file can
    # unpack to gigabytes).
    max_unpacked_bytes: int
    holds: str

    @property
    def too_large(self) -> str:
        return f"The file is larger than {self.max_file_bytes // 1024 // 1024} MB."


UNREADABLE = "The Excel file cannot be read: it may be damaged or protected with a password."
TEMPLATE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def file_error(message: str) -> ValidationError:
    """A refusal of the whole file (the form shows it beside the file field)."""
    return ValidationError(message, code="file")


def spreadsheet_cell(value: Any) -> str:
    """An XLSX cell as the text a CSV would hold: whole numbers without ".0" (a URN or a code
    typed as a number), booleans as yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value).strip()


def unpacked_size_check(content: bytes, limits: SpreadsheetLimits) -> None:
    """Refuse an XLSX whose parts unpack to more than the limit, from the zip's directory
    alone (nothing is unpacked to find out)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        raise file_error(UNREADABLE) from None
    if unpacked > limits.max_unpacked_bytes:
        raise file_error(
            "The Excel file unpacks to more than "
            f"{limits.max_unpacked_bytes // 1024 // 1024} MB, far more than {limits.holds} "
            "needs: save it again without images or other sheets, or as CSV."
        )


def spreadsheet_table(content: bytes, limits: SpreadsheetLimits) -> list[list[str]]:
    """The file's cells as text, judged CSV or XLSX by its first bytes, never its name."""
    if len(content) > limits.max_file_bytes:
        raise file_error(limits.too_large)
    if not content.strip():
        raise file_error("The file is empty. " + HINT)
    guess = filetype.guess(content[:8192])
    if guess is not None and guess.extension == "xlsx":
        from openpyxl import load_workbook

        unpacked_size_check(content, limits)
        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            rows = [
                [spreadsheet_cell(value) for value in values]
                for values in workbook.worksheets[0].iter_rows(
                    max_row=limits.max_rows + 2, values_only=True
                )
            ]
            workbook.close()
        except Exception:  # openpyxl raises many kinds of error on a malformed file
            logger.info("Unreadable XLSX of %s", limits.holds, exc_info=True)
            raise file_error(UNREADABLE) from None
        return rows
    if guess is not None or b"\x00" in content[:8192]:
        raise file_error("This is not a spreadsheet. " + HINT)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise file_error('The file\'s text encoding is not recognised: save it as "CSV UTF-8".')
    delimiter = max(",;\t", key=text.split("\n", 1)[0].count)
    try:
        return [
            [cell.strip() for cell in cells]
            for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        ]
    except csv.Error as error:
        raise file_error(f"The CSV file cannot be read ({error}). Check its quotes.") from None


def spreadsheet_numbered(table: list[list[str]]) -> list[tuple[int, list[str]]]:
    """The non-blank rows, each with its number as a spreadsheet program shows it; refuses a
    file without any."""
    numbered = [(number, cells) for number, cells in enumerate(table, 1) if any(cells)]
    if not numbered:
        raise file_error("The file is empty. " + HINT)
    return numbered


def spreadsheet_rows(
    numbered: list[tuple[int, list[str]]], columns: list[str], limits: SpreadsheetLimits
) -> list[tuple[int, dict[str, str]]]:
    """The rows under the header, keyed by `columns` (one per heading, "" for a column left
    out); refuses a file without rows or with too many."""
    rows = [
        (
            number,
            {
                column: (cells[i] if i < len(cells) else "")
                for i, column in enumerate(columns)
                if column
            },
        )  # fmt: skip
        for number, cells in numbered[1:]
    ]
    if not rows:
        raise file_error("The file has a header row but no rows under it.")
    if len(rows) > limits.max_rows:
        raise file_error(f"The file has more than {limits.max_rows:,} rows: split it.")
    return rows


def spreadsheet_template(columns: tuple[str, ...], example: list[str], kind: str, title: str
                         ) -> bytes:  # fmt: skip
    """An empty import file with the columns and an example row, as CSV or XLSX."""
    if kind == "csv":
        return ("\ufeff" + ",".join(columns) + "\r\n" + ",".join(example) + "\r\n").encode()
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None  # a new workbook has its sheet
    sheet.title = title
    sheet.append(list(columns))
    sheet.append(example)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


ImportRows = list[tuple[int, dict[str, str]]]


def import_rows_keep(session: SessionBase, key: str, name: str, rows: ImportRows) -> None:
    """An uploaded file's rows wait in the session for the preview and the confirmation."""
    session[key] = {"name": name[:200], "rows": rows}


def import_rows_kept(session: SessionBase, key: str) -> tuple[str, ImportRows] | None:
    """The file's name and rows kept by `import_rows_keep`, or None when none wait."""
    stored = session.get(key)
    if not stored:
        return None
    return stored["name"], [(number, values) for number, values in stored["rows"]]


def template_download(content: bytes, kind: str, filename: str) -> HttpResponse:
    """The template as an attachment (`kind` one of TEMPLATE_TYPES)."""
    response = HttpResponse(content, content_type=TEMPLATE_TYPES[kind])
    response["Content-Disposition"] = f'attachment; filename="{filename}.{kind}"'
    return response


CATALOGUE_LIMITS = SpreadsheetLimits(
    max_file_bytes=MAX_FILE_BYTES,
    max_rows=MAX_ROWS,
    max_unpacked_bytes=MAX_XLSX_UNPACKED_BYTES,
    holds="a catalogue",
)
TOO_LARGE = CATALOGUE_LIMITS.too_large


def catalogue_rows_read(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """The file's non-blank rows, each with its number as a spreadsheet shows it, keyed by
    the template's columns. Refuses (ValidationError) a file that is not a spreadsheet, too
    large, has unknown or missing columns, or no rows."""
    numbered = spreadsheet_numbered(spreadsheet_table(content, CATALOGUE_LIMITS))
    _, headings = numbered[0]
    columns = ["_".join(heading.casefold().replace("-", " ").split()) for heading in headings]
    unknown = [heading for heading, column in zip(headings, columns, strict=True)
               if column and column not in COLUMNS]  # fmt: skip
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if unknown or missing:
        problems = [f"unknown: {', '.join(unknown[:5])}"] if unknown else []
        problems += [f"missing: {', '.join(missing)}"] if missing else []
        raise file_error(
            f"The file has the wrong columns ({'; '.join(problems)}). The first row names the "
            f"columns: {', '.join(COLUMNS)}."
        )
    return spreadsheet_rows(numbered, columns, CATALOGUE_LIMITS)


def catalogue_template(kind: str) -> bytes:
    """An empty import file with the columns, and an example row."""
    example = ["EE-N4", "Electrical Engineering N4", "Occupational certificate", "1", "120",
               "4", "", "EL101", "Wiring basics", "12", "6", "yes", ""]  # fmt: skip
    return spreadsheet_template(COLUMNS, example, kind, "Catalogue")


@dataclass
class PlannedRow:
    number: int
    values: dict[str, str]
    action: str = ""  # what confirming does with the row's course (or programme)
    errors: list[str] = field(default_factory=list)


@dataclass
class CataloguePlan:
    """What confirming the rows would do. `programmes` and `courses` hold the fields to write
    per code (`existing` for an update), `prerequisites` the links to add."""

    rows: list[PlannedRow]
    programmes: dict[str, dict[str, Any]] = field(default_factory=dict)
    courses: dict[CourseKey, dict[str, Any]] = field(default_factory=dict)
    prerequisites: list[tuple[CourseKey, CourseKey]] = field(default_factory=list)
    existing_programmes: dict[str, Programme] = field(default_factory=dict)
    existing_courses: dict[CourseKey, Course] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for row in self.rows if row.errors)

    def counts(self) -> dict[str, int]:
        new_programmes = sum(code not in self.existing_programmes for code in self.programmes)
        new_courses = sum(key not in self.existing_courses for key in self.courses)
        return {
            "new_programmes": new_programmes,
            "changed_programmes": len(self.programmes) - new_programmes,
            "new_courses": new_courses,
            "changed_courses": len(self.courses) - new_courses,
            "prerequisites": len(self.prerequisites),
        }


def _qualification(text: str) -> str:
    for value, label in QualificationType.choices:
        if text.casefold() in (value, str(label).casefold()):
            return value
    raise ValueError(
        "qualification_type must be one of: "
        + ", ".join(str(label) for label in QualificationType.labels)
    )


def _number(text: str, column: str, *, whole: bool = True) -> Any:
    try:
        value = Decimal(text.replace(",", "."))
    except ArithmeticError:  # InvalidOperation and its kin
        value = Decimal("NaN")
    if not value.is_finite():
        raise ValueError(f"{column} must be a number, not “{text[:20]}”")
    if value.adjusted() > 15:  # "1e999999999": rounding it would take the machine's memory
        raise ValueError(f"{column} is too large")
    if value <= 0 or (whole and value != value.to_integral_value()):
        raise ValueError(f"{column} must be a {'whole ' if whole else ''}number above 0")
    return int(value) if whole else value


PROGRAMME_COLUMNS = {
    "programme_name": ("name", str),
    "qualification_type": ("degree_type", _qualification),
    "duration_years": ("duration_years", lambda text: _number(text, "duration_years", whole=False)),
    "total_credits": ("total_credits", lambda text: _number(text, "total_credits")),
    "nqf_level": ("nqf_level", lambda text: _number(text, "nqf_level")),
    "saqa_qualification_id": ("saqa_qualification_id", str),
}
PROGRAMME_REQUIRED = ("programme_name", "qualification_type", "duration_years", "total_credits")
COURSE_COLUMNS = {
    "course_name": ("name", str),
    "credits": ("credits", lambda text: _number(text, "credits")),
    "hours_per_week": ("hours_per_week", lambda text: _number(text, "hours_per_week")),
}
COURSE_REQUIRED = ("course_name", "credits")


def _core(text: str) -> bool:
    if text.casefold() in YES:
        return True
    if text.casefold() in NO:
        return False
    raise ValueError("core must be yes (core) or no (elective)")


def _model_check(
    row: PlannedRow, model: type[Programme] | type[Course], fields: dict[str, Any]
) -> None:
    """The model's own rules for each value (NQF level 1 to 10, duration with one decimal up
    to 99.9, lengths), named by the file's column, so that the preview refuses what saving
    would."""
    given = PROGRAMME_COLUMNS if model is Programme else COURSE_COLUMNS
    columns = {name: column for column, (name, _parse) in given.items()}
    code_column = "programme_code" if model is Programme else "course_code"
    for name, value in fields.items():
        try:
            cast(Field, model._meta.get_field(name)).clean(value, None)
        except ValidationError as error:
            column = code_column if name == "code" else columns.get(name, name)
            row.errors.extend(f"{column}: {message}" for message in error.messages)


def _codes_matched(rows: list[PlannedRow]) -> None:
    """Codes match whatever their case, as the catalogue's services match them: each row's
    programme, course and prerequisite codes are spelt as the catalogue (or else the first row
    giving them) spells them."""
    given = {row.values.get("programme_code", "").upper() for row in rows} - {""}
    programmes = {
        code.upper(): code
        for code in Programme.objects.annotate(key=Upper("code"))
        .filter(key__in=given)
        .values_list("code", flat=True)
    }
    courses = {
        (programme.upper(), code.upper()): code
        for programme, code in Course.objects.annotate(key=Upper("programme__code"))
        .filter(key__in=given)
        .values_list("programme__code", "code")
    }
    for row in rows:
        code = row.values.get("programme_code", "")
        if code:
            code = row.values["programme_code"] = programmes.setdefault(code.upper(), code)
        course = row.values.get("course_code", "")
        if code and course:
            row.values["course_code"] = courses.setdefault((code.upper(), course.upper()), course)
    for row in rows:
        code, listed = row.values.get("programme_code", ""), row.values.get("prerequisites", "")
        if code and listed:
            row.values["prerequisites"] = "; ".join(
                courses.get((code.upper(), text.strip().upper()), text.strip())
                for text in listed.replace(",", ";").split(";")
                if text.strip()
            )


def _fields(
    row: PlannedRow, columns: dict[str, tuple[str, Any]], required: tuple[str, ...], new: bool
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for column, (name, parse) in columns.items():
        text = row.values.get(column, "")
        if not text:
            continue
        try:
            fields[name] = parse(text)
        except ValueError as error:
            row.errors.append(str(error))
    if new:
        missing = [column for column in required if not row.values.get(column)]
        if missing:
            row.errors.append(f"a new {'course' if 'credits' in required else 'programme'} "
                              f"needs {', '.join(missing)}")  # fmt: skip
    return fields


def catalogue_plan(rows: list[tuple[int, dict[str, str]]]) -> CataloguePlan:
    """Check every row against the rows above it and the catalogue as it stands: what would be
    created, what changed, and each row's refusals (a missing value, a programme given two
    ways, a prerequisite that is not a course of the programme, or that would close a cycle,
    named by its path)."""
    plan = CataloguePlan(rows=[PlannedRow(number, dict(values)) for number, values in rows])
    _codes_matched(plan.rows)
    codes = {row.values.get("programme_code", "") for row in plan.rows}
    plan.existing_programmes = {p.code: p for p in Programme.objects.filter(code__in=codes)}
    plan.existing_courses = {
        (course.programme.code, course.code): course
        for course in Course.objects.filter(programme__code__in=codes).select_related("programme")
    }
    edges: set[tuple[CourseKey, CourseKey]] = {
        ((link.course.programme.code, link.course.code), (link.course.programme.code,
                                                          link.prerequisite_course.code))
        for link in CoursePrerequisite.objects.filter(
            course__programme__code__in=codes
        ).select_related("course__programme", "prerequisite_course")
    }  # fmt: skip
    wanted: list[tuple[PlannedRow, CourseKey, str]] = []
    seen_courses: dict[CourseKey, int] = {}
    for row in plan.rows:
        code = row.values.get("programme_code", "")
        if not code:
            row.errors.append("programme_code is empty")
            continue
        existing = plan.existing_programmes.get(code)
        fields = _fields(
            row,
            PROGRAMME_COLUMNS,
            PROGRAMME_REQUIRED if code not in plan.programmes else (),
            new=existing is None,
        )
        _model_check(row, Programme, {"code": code, **fields})
        known = plan.programmes.setdefault(code, {})
        for name, value in fields.items():
            if name in known and known[name] != value:
                row.errors.append(f"{name} differs from the value given above for {code}")
            known.setdefault(name, value)
        course_code = row.values.get("course_code", "")
        if not course_code:
            row.action = "updates programme" if existing else "new programme"
            continue
        key = (code, course_code)
        if key in seen_courses:
            row.errors.append(f"{course_code} is on row {seen_courses[key]} too")
            continue
        seen_courses[key] = row.number
        course_fields = _fields(
            row, COURSE_COLUMNS, COURSE_REQUIRED, new=key not in plan.existing_courses
        )
        _model_check(row, Course, {"code": course_code, **course_fields})
        if row.values.get("core"):
            try:
                course_fields["is_core"] = _core(row.values["core"])
            except ValueError as error:
                row.errors.append(str(error))
        plan.courses[key] = course_fields
        row.action = "updates course" if key in plan.existing_courses else "new course"
        for required in filter(None, (text.strip() for text in
                                      row.values.get("prerequisites", "").replace(",", ";")
                                      .split(";"))):  # fmt: skip
            wanted.append((row, key, required))
    for row, key, required in wanted:
        target = (key[0], required)
        if target == key:
            row.errors.append(f"{key[1]} cannot require itself")
        elif target not in plan.courses and target not in plan.existing_courses:
            row.errors.append(f"prerequisite {required} is not a course of {key[0]}")
        elif (key, target) not in edges:
            path = prerequisite_path(edges, start=target, goal=key)
            if path is not None:
                row.errors.append(cycle_message([key[1], *(course for _, course in path)]))
            else:
                edges.add((key, target))
                plan.prerequisites.append((key, target))
    return plan
