"""Reading an uploaded file: its type judged by content, its size, its header row, its cells."""

import io

import pytest
from openpyxl import Workbook

from cohorts.imports.reading import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    SpreadsheetError,
    spreadsheet_read,
    spreadsheet_template,
)
from cohorts.imports.validation import rows_check
from tests.imports.support import HTML_BYTES, PNG_BYTES, csv_bytes, student_row, xlsx_bytes


def read_all(content: bytes) -> list[tuple[int, dict]]:
    return list(spreadsheet_read(content).rows)


def test_a_csv_file_is_read_with_row_numbers_as_a_spreadsheet_shows_them():
    rows = [student_row(full_name="Thandi Nkosi"), student_row(full_name="Sipho Dlamini")]
    content = csv_bytes(rows[:1]) + b"\r\n" + csv_bytes(rows[1:]).split(b"\r\n", 1)[1]

    spreadsheet = spreadsheet_read(content)

    assert spreadsheet.kind == "csv"
    read = list(spreadsheet.rows)
    # Row 1 is the header, row 3 is blank and skipped.
    assert [number for number, _ in read] == [2, 4]
    assert read[0][1] == rows[0]
    assert read[1][1]["full_name"] == "Sipho Dlamini"


def test_an_xlsx_file_is_read_and_numeric_id_numbers_keep_every_digit():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Full name", "E-mail", "ID number", "Gender"])
    sheet.append(["Thandi Nkosi", "thandi@example.org", 9506120001084, "Female"])
    sheet.append([])
    sheet.append(["  Sipho  Dlamini ", "SIPHO@example.org", None, None])
    output = io.BytesIO()
    workbook.save(output)

    spreadsheet = spreadsheet_read(output.getvalue())

    assert spreadsheet.kind == "xlsx"
    assert spreadsheet.columns == ["full_name", "email", "id_number", "gender"]
    read = list(spreadsheet.rows)
    assert read[0] == (
        2,
        {
            "full_name": "Thandi Nkosi",
            "email": "thandi@example.org",
            "id_number": "9506120001084",
            "gender": "Female",
        },
    )
    assert read[1][0] == 4
    assert read[1][1]["full_name"] == "Sipho  Dlamini"


def test_a_semicolon_separated_csv_from_excel_with_a_bom_is_read():
    content = "\ufeff".encode() + csv_bytes([student_row(full_name="Zoë Botha")], delimiter=";")

    ((_, row),) = read_all(content)

    assert row["full_name"] == "Zoë Botha"


def test_a_csv_saved_in_the_windows_code_page_is_read():
    content = "full_name,email\r\nZoë Botha,zoe@example.org\r\n".encode("cp1252")

    ((_, row),) = read_all(content)

    assert row == {"full_name": "Zoë Botha", "email": "zoe@example.org"}


def test_only_the_required_columns_are_needed():
    ((_, row),) = read_all(b"email,full_name\nzoe@example.org,Zoe Botha\n")

    assert row == {"email": "zoe@example.org", "full_name": "Zoe Botha"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (HTML_BYTES, "web page"),
        (PNG_BYTES, "not a spreadsheet: the file is image/png"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "the file is application/pdf"),
        (b"\x00\x01\x02binary\x00data", "not a spreadsheet"),
    ],
    ids=["html", "png", "pdf", "binary"],
)
def test_a_file_that_is_not_a_spreadsheet_is_refused_whatever_its_name(content, message):
    with pytest.raises(SpreadsheetError) as refused:
        spreadsheet_read(content)

    assert message in refused.value.messages[0]


def test_a_zip_that_is_not_an_xlsx_is_refused():
    import zipfile

    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("students.csv", "full_name,email\n")

    with pytest.raises(SpreadsheetError, match="not a spreadsheet"):
        spreadsheet_read(output.getvalue())


def test_a_damaged_xlsx_is_refused_with_a_clear_message():
    content = xlsx_bytes([student_row()])
    damaged = content[:2000]

    with pytest.raises(SpreadsheetError) as refused:
        read_all(damaged)

    assert "cannot be read" in refused.value.messages[0]


@pytest.mark.parametrize(
    "content",
    [b"", b"   \n\r\n", b",,,\n,,\n"],
    ids=["no bytes", "blank lines", "empty cells"],
)
def test_an_empty_file_is_refused(content):
    with pytest.raises(SpreadsheetError, match="The file is empty"):
        spreadsheet_read(content)


def test_an_xlsx_without_any_value_is_empty():
    output = io.BytesIO()
    Workbook().save(output)

    with pytest.raises(SpreadsheetError, match="The file is empty"):
        spreadsheet_read(output.getvalue())


@pytest.mark.parametrize("build", [csv_bytes, xlsx_bytes], ids=["csv", "xlsx"])
def test_a_header_without_students_is_refused(build):
    with pytest.raises(SpreadsheetError, match="a header row but no students"):
        spreadsheet_read(build([]))


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (("full_name", "id_number"), "missing column: email"),
        (("name_of_student", "mail"), "missing columns: full_name, email"),
        (("full_name", "email", "gendre"), "unknown column: “gendre”"),
        (("full_name", "email", "Email"), "repeated column: email"),
    ],
    ids=["missing email", "nothing recognised", "unknown", "repeated"],
)
def test_wrong_columns_are_refused_naming_the_columns(columns, expected):
    content = csv_bytes([{}], columns=columns)

    with pytest.raises(SpreadsheetError) as refused:
        spreadsheet_read(content)

    message = refused.value.messages[0]
    assert expected in message
    assert "full_name, email, id_number, gender, race, disability" in message
    assert "template" in message


def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    content = b"full_name,email\n" + b"x" * MAX_FILE_BYTES

    with pytest.raises(SpreadsheetError, match="too large"):
        spreadsheet_read(content)


def test_a_file_with_more_students_than_the_limit_is_refused(institution, cohort):
    lines = "".join(f"S{n},s{n}@example.org\n" for n in range(MAX_ROWS + 1))
    spreadsheet = spreadsheet_read(("full_name,email\n" + lines).encode())

    with pytest.raises(SpreadsheetError, match="more than 20,000 students"):
        rows_check(cohort=cohort, rows=spreadsheet.rows)


def test_a_sheet_of_mostly_blank_rows_is_not_read_to_its_end():
    content = b"full_name,email\n" + b",\n" * MAX_ROWS * 2 + b"A B,ab@example.org\n"

    with pytest.raises(SpreadsheetError, match="more than 20,000 students"):
        read_all(content)


def test_a_malformed_csv_row_is_reported_by_number():
    content = b'full_name,email\nok,ok@example.org\n"unclosed' + b"x" * 200_000 + b"\n"

    with pytest.raises(SpreadsheetError, match="Row 3"):
        read_all(content)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_template_reads_as_an_import_file_with_every_column(kind):
    template = spreadsheet_template(kind)

    with pytest.raises(SpreadsheetError, match="a header row but no students"):
        spreadsheet_read(template)
    filled = template + b"Zoe Botha,zoe@example.org,,,,\r\n" if kind == "csv" else None
    if filled:
        ((_, row),) = read_all(filled)
        assert row["email"] == "zoe@example.org"
