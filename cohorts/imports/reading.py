"""Reading an import file: a CSV or XLSX file's type judged by its content, its size and
header row checked, its rows read lazily as text keyed by the template's columns; and the
empty template people fill in. Needs no database."""

import codecs
import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import filetype
from django.core.exceptions import ValidationError
from django.db import models

from learners.choices import (
    Disability,
    Gender,
    Race,
)

logger = logging.getLogger(__name__)

COLUMNS = ("full_name", "email", "id_number", "gender", "race", "disability")
REQUIRED_COLUMNS = ("full_name", "email")
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
CHOICES: dict[str, type[models.TextChoices]] = {
    "gender": Gender,
    "race": Race,
    "disability": Disability,
}
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# Rows of a sheet read at most, blank ones included.
MAX_SHEET_ROWS = 2 * MAX_ROWS
SNIFF_BYTES = 8192

FORMATS_HINT = "Upload a CSV or Excel (.xlsx) file; download the template for the columns."


class SpreadsheetError(ValidationError):
    """The whole file is refused (not a spreadsheet, empty, wrong columns, too large); the
    message says why, for the person who uploaded it."""


@dataclass
class Spreadsheet:
    """A file's rows as text, keyed by the template's column names. `rows` is read lazily and
    skips blank rows; each comes with its row number as a spreadsheet program shows it."""

    kind: str
    columns: list[str]
    rows: Iterator[tuple[int, dict[str, str]]]
    estimated_rows: int


def too_many_rows() -> SpreadsheetError:
    return SpreadsheetError(
        f"The file has more than {MAX_ROWS:,} students, the most one import takes. Split it "
        "into several files."
    )


def size_check(size: int) -> None:
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
    encodings: tuple[str, ...]
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
    size_check(len(content))
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
                raise too_many_rows()
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
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.worksheet import Worksheet

    workbook = Workbook()
    sheet = workbook.active
    # A new workbook's active sheet is the worksheet it was made with.
    assert isinstance(sheet, Worksheet)
    sheet.title = "Students"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEF", (30, 34, 16, 20, 20, 20), strict=True):
        sheet.column_dimensions[letter].width = width
    # ID numbers are text: as numbers, Excel would show 13 digits in scientific notation.
    sheet.column_dimensions["C"].number_format = "@"
    for column, choices in CHOICES.items():
        letter = get_column_letter(COLUMNS.index(column) + 1)
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
