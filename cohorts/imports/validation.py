"""Checking an import's rows: each row on its own (`row_clean`, no database), against the rows
above it (repeated addresses and ID numbers), against the learners the institution knows (an
ID number and an e-mail address must be the same person's) and against the cohort (students
already in it). Race and disability are special personal information: a refusal never repeats
their values.

From its check on, a row holds its ID number sealed (`national_id_sealed`: encrypted, its keyed
hash and last four digits, in the learner's own field names), never in clear: the rows wait
for confirmation in a StudentImport's JSON. Only writing opens it again."""

import base64
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.db.models.expressions import RawSQL

from accounts.models import User, normalise_email
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
from learners.keys import national_id_decrypt
from learners.models import IdentityType, Learner
from learners.services import national_id_fields, national_id_taken_error

MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 254
# A sealed row's ID number, under the names of the learner's fields it becomes.
SEALED_NUMBER_KEYS = ("national_id_encrypted", "national_id_hash", "national_id_last4")
# A run of seven digits or more (spaces and hyphens between them allowed): an ID number, or
# most of one, typed into any column. A refusal that repeats a value keeps only its last four.
_LONG_NUMBER = re.compile(r"\d(?:[ -]?\d){6,}")


def long_numbers_masked(text: str) -> str:
    """`text` with every long run of digits masked to its last four, as pages mask ID numbers."""
    return _LONG_NUMBER.sub(lambda found: "•••• " + re.sub(r"\D", "", found[0])[-4:], text)


def national_id_sealed(number: str) -> dict[str, str]:
    """A checked ID number as a row keeps it (JSON-ready): encrypted under the institution's
    key (base64), its keyed hash and its last four digits."""
    fields = national_id_fields(kind=IdentityType.SA_ID, country="ZA", number=number)
    return {
        "national_id_encrypted": base64.b64encode(fields["national_id_encrypted"]).decode(),
        "national_id_hash": fields["national_id_hash"],
        "national_id_last4": fields["national_id_last4"],
    }


def national_id_unsealed(row: Mapping[str, Any]) -> dict[str, Any]:
    """A checked row's sealed ID number as the learner's fields (`national_id_fields`), the
    encrypted value as it is: nothing is opened."""
    if not row.get("national_id_hash"):
        return national_id_fields(kind=IdentityType.SA_ID, country="ZA", number="")
    return {
        "national_id_type": IdentityType.SA_ID,
        "national_id_country": "ZA",
        "national_id_encrypted": base64.b64decode(row["national_id_encrypted"]),
        "national_id_hash": row["national_id_hash"],
        "national_id_last4": row["national_id_last4"],
    }


def national_id_opened(row: Mapping[str, Any]) -> str:
    """The ID number in clear of a sealed row, for writing it; "" for a row without one."""
    sealed = row.get("national_id_encrypted")
    return national_id_decrypt(base64.b64decode(sealed)) if sealed else ""


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
    """Check every row on its own and against the rows above it (repeated e-mail addresses and
    ID numbers), and seal its ID number. A sealed row (from storage) is opened to be checked."""
    checked: list[_Row] = []
    first_line_of: dict[str, int] = {}
    first_line_of_number: dict[str, int] = {}
    for count, (line, values) in enumerate(rows, start=1):
        if count > MAX_ROWS:
            raise too_many_rows()
        if values.get("national_id_encrypted"):
            values = {**values, "id_number": national_id_opened(values)}
        cleaned, messages = row_clean(values)
        email = cleaned.get("email")
        if email in first_line_of:
            messages.append(f"Duplicate: the same e-mail address is on row {first_line_of[email]}.")
        elif email:
            first_line_of[email] = line
        if "id_number" in cleaned:
            cleaned.update(national_id_sealed(cleaned.pop("id_number")))
            digest = cleaned["national_id_hash"]
            if digest in first_line_of_number:
                messages.append(
                    f"Duplicate: the same ID number is on row {first_line_of_number[digest]}."
                )
            else:
                first_line_of_number[digest] = line
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


def learner_email(learner: Learner) -> str:
    """The address a learner is known by: their account's, or, without one, their own."""
    return learner.user.email if learner.user is not None else normalise_email(learner.email)


@dataclass
class KnownLearners:
    """The learners that rows' ID numbers (by keyed hash) and e-mail addresses already belong
    to, found in one query (`learners_known`)."""

    by_hash: dict[str, Learner] = field(default_factory=dict)
    by_email: dict[str, Learner] = field(default_factory=dict)

    def match(self, row: Mapping[str, Any]) -> Learner | None:
        """The learner a checked row is (None: a new one). ValidationError, naming the learner
        but never the number, when the row's ID number is another person's or its e-mail
        address is that of a learner with a different number on file."""
        digest = row.get("national_id_hash") or ""
        holder = self.by_hash.get(digest) if digest else None
        owner = self.by_email.get(row["email"])
        if holder is not None and (
            learner_email(holder) != row["email"] or owner not in (None, holder)
        ):
            raise national_id_taken_error(holder)
        if owner is not None and digest and owner.national_id_hash not in ("", digest):
            raise ValidationError(
                "This e-mail address belongs to %(name)s (learner %(pk)s), who has a different "
                "ID number on file: check the number or the address.",
                code="email_taken",
                params={"name": owner.full_name or learner_email(owner), "pk": owner.pk},
            )
        return holder or owner

    def knows(self, row: Mapping[str, Any]) -> bool:
        """Whether the row is a learner the institution has already (without judging it)."""
        digest = row.get("national_id_hash")
        return bool(digest and digest in self.by_hash) or row["email"] in self.by_email


def array_of(values: list[str]) -> RawSQL:
    """For `filter(column__in=array_of(values))`: thousands of values as one array parameter,
    where an IN list's placeholders each cost the driver and the planner time."""
    return RawSQL("SELECT unnest(%s::varchar[])", [values])


def learners_known(rows: Iterable[Mapping[str, Any]], *, lock: bool = False) -> KnownLearners:
    """The learners whom checked rows' ID numbers or e-mail addresses belong to, in one query
    whatever the number of rows; `lock` holds them for the caller's transaction."""
    emails, hashes = [], []
    for row in rows:
        emails.append(row["email"])
        if row.get("national_id_hash"):
            hashes.append(row["national_id_hash"])
    # Each condition on the learners' own indexed columns, so that they combine in one scan.
    found = (
        Learner.objects.filter(
            Q(national_id_hash__in=array_of(hashes))
            | Q(user__in=User.objects.filter(email__in=array_of(emails)).values("pk"))
            | Q(user__isnull=True, email__in=array_of(emails))
        )
        .select_related("user")
        # With the status: the FSM mixin reads it as each learner loads.
        .only(
            "first_name", "last_name", "email", "national_id_hash", "status", "user_id",
            "user__email",
        )
        .order_by("pk")
    )  # fmt: skip
    if lock:
        found = found.select_for_update(of=("self",))
    known = KnownLearners()
    wanted = set(emails)
    for learner in found:
        if learner.national_id_hash:
            known.by_hash[learner.national_id_hash] = learner
        email = learner_email(learner)
        if email not in wanted:
            continue
        # An address with an account is that account's learner, before any record without one.
        current = known.by_email.get(email)
        if current is None or (learner.user_id and not current.user_id):
            known.by_email[email] = learner
    return known


def rows_check(
    *,
    cohort: Cohort,
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    on_row: Callable[[int], None] | None = None,
) -> RowsReport:
    """Check `(row number, values)` pairs for an import into `cohort`: every rule of
    `row_clean`, duplicates within the file, the learners the rows are (one query) and students
    already in the cohort (one query). `on_row(count)` is called after each row, for progress.
    The valid rows hold their ID numbers sealed; the invalid ones none at all."""
    checked = rows_clean(rows, on_row)
    emails = [row.cleaned["email"] for row in checked if "email" in row.cleaned]
    known = learners_known(row.cleaned for row in checked if "email" in row.cleaned)
    in_cohort = dict(
        CohortEnrollment.objects.filter(
            cohort=cohort, user__email__in=array_of(emails)
        ).values_list("user__email", "state")
    )
    report = RowsReport()
    for row in checked:
        if "email" in row.cleaned:
            try:
                known.match(row.cleaned)
            except ValidationError as error:
                row.messages.extend(error.messages)
        state = in_cohort.get(row.cleaned.get("email"))
        only_in_cohort = state is not None and not row.messages
        if state == EnrollmentState.WITHDRAWN:
            row.messages.append("Already in this cohort, withdrawn.")
        elif state is not None:
            row.messages.append("Already enrolled in this cohort.")
        if row.messages:
            full_name = str(row.values.get("full_name") or "")[:MAX_NAME_LENGTH]
            email = str(row.values.get("email") or "")[:MAX_EMAIL_LENGTH]
            report.invalid.append(
                {
                    "line": row.line,
                    "full_name": long_numbers_masked(full_name),
                    "email": long_numbers_masked(email),
                    "messages": [long_numbers_masked(message) for message in row.messages],
                    # Nothing wrong with the row itself: importing the file again skips it.
                    "already_in_cohort": only_in_cohort,
                }
            )
        else:
            report.valid.append({"line": row.line, **row.cleaned})
    return report


def rows_refused(refused: list[tuple[int, list[str]]]) -> ValidationError:
    """One refusal of a whole import for the rows that cannot be imported, each with its
    reasons (sentences already: listed as they are, full stops included)."""
    counted = f"{len(refused)} row{'s' if len(refused) > 1 else ''}"
    shown = " ".join(f"Row {line}: {' '.join(messages)}" for line, messages in refused[:5])
    more = f" {len(refused) - 5} more rows have problems too." if len(refused) > 5 else ""
    return ValidationError(f"{counted} cannot be imported. {shown}{more}")


def rows_for_import(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows (with their row number as "line" and their ID numbers sealed), checked again
    unless `rows_check` has just done it: a caller may hand in anything, and time may have
    passed since the preview. Any invalid row refuses the whole import."""
    if isinstance(rows, CheckedRows):
        return list(rows)
    numbered = ((int(row.get("line") or index), row) for index, row in enumerate(rows, start=1))
    checked = rows_clean(numbered)
    invalid = [(row.line, row.messages) for row in checked if row.messages]
    if invalid:
        raise rows_refused(invalid)
    return [{"line": row.line, **row.cleaned} for row in checked]
