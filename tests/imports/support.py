"""Building import files in tests: CSV and XLSX from rows, and valid South African ID numbers."""

import csv
import io
import itertools
import uuid

from openpyxl import Workbook
from stdnum import luhn

from cohorts.imports.reading import COLUMNS

_sequence = itertools.count(1)


def id_number(birth_date: str = "950612", *, female: bool = True) -> str:
    """A valid 13-digit ID number (date of birth, gender digits, citizen, check digit)."""
    serial = next(_sequence) % 5000 + (0 if female else 5000)
    body = f"{birth_date}{serial:04d}08"
    return body + luhn.calc_check_digit(body)


DIGITS_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def unique_email(label: str = "student") -> str:
    """A new address, its random part in letters only: a long run of digits in a refused row
    is masked like an ID number would be, and the tests compare the refusals' text."""
    letters = uuid.uuid4().hex[:12].translate(DIGITS_AS_LETTERS)
    return f"{label}-{letters}@example.org"


def student_row(**values) -> dict:
    row = {
        "full_name": "Thandi Nkosi",
        "email": unique_email(),
        "id_number": id_number(),
        "gender": "female",
        "race": "african",
        "disability": "none",
    }
    row.update(values)
    return row


def csv_bytes(rows: list[dict], columns=COLUMNS, *, delimiter: str = ",") -> bytes:
    output = io.StringIO()
    writer = csv.writer(output, delimiter=delimiter)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return output.getvalue().encode()


def xlsx_bytes(rows: list[dict], columns=COLUMNS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(columns))
    for row in rows:
        sheet.append([row.get(column, "") for column in columns])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
HTML_BYTES = b"<!DOCTYPE html>\n<html><head><title>Students</title></head><body>x</body></html>\n"
