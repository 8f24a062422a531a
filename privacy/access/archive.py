"""The access request's ZIP: index.html (readable on its own: no scripts, no external
resources), one JSON and one CSV file per area, and the files themselves. Written to a
temporary file and copied in pieces, so that a learner with many documents never sits in
memory."""

import csv
import io
import json
import shutil
import zipfile
from typing import IO, Any

from django.template.loader import render_to_string
from django.utils import timezone

from enrolments.exports import csv_cell
from learners.models import Learner
from privacy.access.holdings import Area

COPY_CHUNK = 1024 * 1024


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.writer(buffer)
        writer.writerow(list(rows[0]))
        for row in rows:
            writer.writerow([csv_cell(_text(value)) for value in row.values()])
    # With a byte-order mark, spreadsheet programs read the file as UTF-8.
    return "\ufeff" + buffer.getvalue()


def access_archive_write(
    *, archive: IO[bytes], learner: Learner, areas: list[Area], reference: str
) -> None:
    """Write the ZIP into `archive` (a temporary file) and rewind it."""
    missing: list[str] = []
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zip_file:
        for area in areas:
            zip_file.writestr(
                f"{area.key}.json",
                json.dumps(area.rows, ensure_ascii=False, indent=2, default=str),
            )
            zip_file.writestr(f"{area.key}.csv", _csv(area.rows))
            for held in area.files:
                try:
                    with held.file.open("rb") as source, zip_file.open(held.name, "w") as target:
                        shutil.copyfileobj(source, target, COPY_CHUNK)
                except FileNotFoundError:
                    missing.append(held.name)
        zip_file.writestr(
            "index.html",
            render_to_string(
                "privacy/access/index.html",
                {
                    "learner": learner,
                    "reference": reference,
                    "made_at": timezone.now(),
                    "areas": [
                        {
                            "area": area,
                            "headings": list(area.rows[0]) if area.rows else [],
                            "rows": [[_text(value) for value in row.values()] for row in area.rows],
                        }
                        for area in areas
                    ],
                    "missing": missing,
                },
            ),
        )
    archive.seek(0)
