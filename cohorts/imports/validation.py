"""Checking an import's rows: each row on its own (`row_clean`, no database), against the rows
above it (repeated addresses) and against the cohort (students already in it). Race and
disability are special personal information: a refusal never repeats their values."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.models import normalise_email
from cohorts.imports.reading import CHOICES, MAX_ROWS, too_many_rows
from cohorts.models import (
    Cohort,
)
from enrolments.models import CohortEnrollment, EnrollmentState
from learners.choices import (
    IdNumberError,
    choice_value,
    id_number_clean,
)

MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254


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


def rows_clean(
    rows: Iterable[tuple[int, Mapping[str, Any]]], on_row: Callable[[int], None] | None = None
) -> list[_Row]:
    """Check every row on its own and against the rows above it (repeated e-mail addresses)."""
    checked: list[_Row] = []
    first_line_of: dict[str, int] = {}
    for count, (line, values) in enumerate(rows, start=1):
        if count > MAX_ROWS:
            raise too_many_rows()
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
    checked = rows_clean(rows, on_row)
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


def rows_for_import(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The rows, checked again unless `rows_check` has just done it: a caller may hand in
    anything, and time may have passed since the preview. Any invalid row refuses the whole
    import."""
    if isinstance(rows, CheckedRows):
        return [{key: value for key, value in row.items() if key != "line"} for row in rows]
    numbered = ((int(row.get("line") or index), row) for index, row in enumerate(rows, start=1))
    checked = rows_clean(numbered)
    invalid = [row for row in checked if row.messages]
    if invalid:
        # Each row's reasons are sentences already: listed as they are, full stops included.
        counted = f"{len(invalid)} row{'s' if len(invalid) > 1 else ''}"
        shown = " ".join(f"Row {row.line}: {' '.join(row.messages)}" for row in invalid[:5])
        more = f" {len(invalid) - 5} more rows have problems too." if len(invalid) > 5 else ""
        raise ValidationError(f"{counted} cannot be imported. {shown}{more}")
    return [row.cleaned for row in checked]
