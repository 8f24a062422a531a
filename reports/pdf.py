"""A report's result as a PDF table, rendered with WeasyPrint as the project's other PDFs are.
A PDF is for reading, not for data: it holds at most REPORTS_PDF_MAX_ROWS rows (the whole
table is laid out in memory), and a longer report is refused with a message pointing to CSV or
XLSX, which stream any number of rows."""

from collections.abc import Iterable, Mapping
from itertools import islice
from typing import IO, Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from reports.exports import cell
from reports.registry import Column
from signing.documents import html_to_pdf
from tenants.db import tenant_connection


class ReportTooLongForPdf(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This report has more than {limit:,} rows, too many for a PDF: run it as CSV or "
            "Excel (XLSX), which hold any number of rows, or narrow its parameters."
        )


def pdf_write(
    rows: Iterable[Mapping[str, Any]],
    columns: tuple[Column, ...],
    out: IO[bytes],
    *,
    title: str,
    threshold: int | None,
) -> int:
    """Write `rows` as a PDF table to `out`; return the number of rows. Raises
    ReportTooLongForPdf past the limit, before rendering anything."""
    limit: int = settings.REPORTS_PDF_MAX_ROWS
    kept = list(islice(rows, limit + 1))
    if len(kept) > limit:
        raise ReportTooLongForPdf(limit)
    html = render_to_string(
        "reports/pdf/report.html",
        {
            "title": title,
            "institution_name": tenant_connection.tenant.name,
            "produced_at": timezone.localtime(),
            "headings": [column.label for column in columns],
            # Each cell with whether it is a number (right-aligned).
            "rows": [
                [
                    (cell(row.get(column.key), column, threshold=threshold), column.kind != "text")
                    for column in columns
                ]
                for row in kept
            ],
        },
    )
    out.write(html_to_pdf(html))
    return len(kept)
