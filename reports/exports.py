"""Writing a report's rows to a file as they are read: CSV through the csv module, XLSX through
openpyxl's write-only workbook (rows go to a temporary file, not a tree in memory). Memory stays
flat however many rows there are.

Exports leave the institution: equity counts under the small-numbers threshold are suppressed
here (`suppressed`), whereas the page, read inside the institution, shows them."""

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.utils import timezone

from enrolments.exports import csv_cell
from reports.registry import Column

# How often (in rows) the progress callback is called.
PROGRESS_EVERY = 1000


def suppressed(value: Any, threshold: int) -> Any:
    """A small count as "<threshold", so that no one can be singled out; zero and counts at or
    above the threshold as they are."""
    if isinstance(value, int) and 0 < value < threshold:
        return f"<{threshold}"
    return value


def cell(value: Any, column: Column, *, threshold: int | None) -> Any:
    if threshold is not None and column.small_count:
        return suppressed(value, threshold)
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _formula_safe(text: str) -> str:
    """Text a spreadsheet would run as a formula kept as text; a negative number as it is."""
    return text if _is_number(text) else csv_cell(text)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_write(
    rows: Iterable[Mapping[str, Any]],
    columns: tuple[Column, ...],
    out: IO[bytes],
    *,
    threshold: int | None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write a header and `rows` as UTF-8 CSV (with a BOM, which Excel needs to read it as
    UTF-8) to `out`; return the number of rows."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=False)
    writer = csv.writer(text)
    writer.writerow([column.label for column in columns])
    count = 0
    for row in rows:
        writer.writerow(
            [
                _formula_safe(_text(cell(row.get(column.key), column, threshold=threshold)))
                for column in columns
            ]
        )
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    text.flush()
    text.detach()
    return count


def xlsx_write(
    rows: Iterable[Mapping[str, Any]],
    columns: tuple[Column, ...],
    out: IO[bytes],
    *,
    title: str,
    threshold: int | None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write a header and `rows` as one XLSX sheet to `out`; return the number of rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Report")
    header = []
    for column in columns:
        heading = WriteOnlyCell(sheet, value=column.label)
        heading.font = Font(bold=True)
        header.append(heading)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append(
            [
                _xlsx_value(cell(row.get(column.key), column, threshold=threshold))
                for column in columns
            ]
        )
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
    workbook.save(out)
    return count


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # Excel has no time zones: the institution's wall-clock time, as on the page.
        return timezone.localtime(value).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, str):
        return _formula_safe(value)
    return value
