"""Importing organisations from a register's extract (a GIAS-like CSV or XLSX: urn, name,
address, postcode, coordinates, e-mail, phone, kind flags), as the catalogue import does it
(and with its reading: academics.imports): the file is judged by its content, its size, rows
and unpacked size are limited, and `organisation_plan` says row by row what confirming
would create or update, and why a row is refused. Nothing here writes:
placements.services.organisations.organisations_import does, from the same rows, skipping
the refused ones."""

import math
from dataclasses import dataclass, field
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db.models import Field
from django.db.models.functions import Lower

from academics.imports import (
    SpreadsheetLimits,
    file_error,
    spreadsheet_numbered,
    spreadsheet_rows,
    spreadsheet_table,
    spreadsheet_template,
)
from placements.geocoding import Coordinates
from placements.models import ADDRESS_FIELDS, GeocodeStatus, Organisation, OrganisationAddress

COLUMNS = (
    "urn",
    "ukprn",
    "code",
    "name",
    *ADDRESS_FIELDS,
    "latitude",
    "longitude",
    "email",
    "phone",
    "school",
    "provider",
    "employer",
)
# A register's own headings (GIAS's, after normalisation) for the template's columns.
COLUMN_ALIASES = {
    "establishmentname": "name",
    "establishment_name": "name",
    "organisation_name": "name",
    "street": "address_1",
    "locality": "address_2",
    "address3": "address_3",
    "county_name": "county",
    "province": "county",
    "postal_code": "postcode",
    "email_address": "email",
    "e_mail": "email",
    "telephonenum": "phone",
    "telephone": "phone",
    "lat": "latitude",
    "lon": "longitude",
    "lng": "longitude",
}
REQUIRED_COLUMNS = ("name",)
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# An extract of MAX_ROWS rows unpacks to a few MB.
MAX_XLSX_UNPACKED_BYTES = 40 * 1024 * 1024
LIMITS = SpreadsheetLimits(
    max_file_bytes=MAX_FILE_BYTES,
    max_rows=MAX_ROWS,
    max_unpacked_bytes=MAX_XLSX_UNPACKED_BYTES,
    holds="an extract of organisations",
)
TOO_LARGE = LIMITS.too_large
YES, NO = {"yes", "y", "true", "1", "x"}, {"no", "n", "false", "0", ""}
KIND_COLUMNS = ("school", "provider", "employer")
ORGANISATION_COLUMNS = {
    "urn": "urn",
    "ukprn": "ukprn",
    "code": "code",
    "name": "name",
    "email": "email_address",
    "phone": "phone",
}
ADDRESS_COLUMNS = ("address_1", "address_2", "address_3", "town", "city", "county", "postcode")


def _column(heading: str) -> str:
    name = "_".join(heading.casefold().replace("-", " ").replace("(", " ").replace(")", " ")
                    .split())  # fmt: skip
    return COLUMN_ALIASES.get(name, name)


def organisation_rows_read(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """The file's non-blank rows, each with its number as a spreadsheet shows it, keyed by the
    template's columns (a register's own headings are understood, columns it has besides are
    ignored). Refuses (ValidationError) a file that is not a spreadsheet, too large, without a
    name column, or without rows."""
    numbered = spreadsheet_numbered(spreadsheet_table(content, LIMITS))
    _, headings = numbered[0]
    columns = [_column(heading) for heading in headings]
    known = [column if column in COLUMNS else "" for column in columns]
    missing = [column for column in REQUIRED_COLUMNS if column not in known]
    if missing or not any(column in known for column in ("urn", "code")):
        raise file_error(
            "The first row must name the columns, with at least name and urn or code. The "
            f"columns: {', '.join(COLUMNS)}."
        )
    return spreadsheet_rows(numbered, known, LIMITS)


def organisation_template(kind: str) -> bytes:
    """An empty import file with the columns, and an example row."""
    example = ["100234", "", "", "Soweto Secondary School", "12 Vilakazi Street", "Orlando West",
               "", "Soweto", "Johannesburg", "Gauteng", "1804", "ZA", "-26.2385", "27.9085",
               "office@soweto-secondary.example", "011 555 0100", "yes", "no", "no"]  # fmt: skip
    return spreadsheet_template(COLUMNS, example, kind, "Organisations")


@dataclass
class PlannedRow:
    number: int
    values: dict[str, str]
    action: str = ""  # "new" or "update"
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)  # the organisation's
    address: dict[str, str] = field(default_factory=dict)
    coordinates: Coordinates | None = None
    existing: Organisation | None = None

    @property
    def name(self) -> str:
        return self.values.get("name") or (self.existing.name if self.existing else "")

    @property
    def reference(self) -> str:
        return self.values.get("urn") or self.values.get("code") or ""

    @property
    def town(self) -> str:
        return self.values.get("town") or self.values.get("city") or ""

    @property
    def result(self) -> str:
        if self.errors:
            return "Refused: " + "; ".join(self.errors)
        said = "New organisation" if self.action == "new" else "Updates the organisation"
        return "; ".join([said, *self.notes])


@dataclass
class OrganisationPlan:
    rows: list[PlannedRow]

    @property
    def refused(self) -> int:
        return sum(1 for row in self.rows if row.errors)

    @property
    def creates(self) -> int:
        return sum(1 for row in self.rows if not row.errors and row.action == "new")

    @property
    def updates(self) -> int:
        return sum(1 for row in self.rows if not row.errors and row.action == "update")

    @property
    def looked_up(self) -> int:
        return sum(1 for row in self.rows if not row.errors and "looked up" in " ".join(row.notes))


def _flag(text: str, column: str) -> bool:
    if text.casefold() in YES:
        return True
    if text.casefold() in NO:
        return False
    raise ValueError(f"{column} must be yes or no")


def _degrees(text: str, column: str, limit: float) -> float:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        raise ValueError(f"{column} must be a number, not “{text[:20]}”") from None
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise ValueError(f"{column} must be between -{limit:g} and {limit:g}")
    return value


def _model_check(row: PlannedRow, model: type[Organisation] | type[OrganisationAddress],
                 values: dict[str, Any], columns: dict[str, str]) -> None:  # fmt: skip
    """The model's own rules for each value (lengths, e-mail), named by the file's column."""
    for name, value in values.items():
        try:
            cast(Field, model._meta.get_field(name)).clean(value, None)
        except ValidationError as error:
            row.errors.extend(f"{columns.get(name, name)}: {text}" for text in error.messages)


def _row_plan(row: PlannedRow, geocoding: bool) -> None:
    values = row.values
    row.fields = {name: values[column] for column, name in ORGANISATION_COLUMNS.items()
                  if values.get(column)}  # fmt: skip
    kinds_read = True
    for column in KIND_COLUMNS:
        if values.get(column):
            try:
                row.fields[column] = _flag(values[column], column)
            except ValueError as error:
                row.errors.append(str(error))
                kinds_read = False
    if row.action == "new":
        if not values.get("name"):
            row.errors.append("a new organisation needs a name")
        if kinds_read and not any(row.fields.get(kind) for kind in KIND_COLUMNS):
            row.errors.append("say what it is: school, provider or employer must be yes")
    elif (
        row.existing is not None
        and kinds_read
        and not any(row.fields.get(kind, getattr(row.existing, kind)) for kind in KIND_COLUMNS)
    ):
        row.errors.append("it would be neither a school, a provider nor an employer")
    _model_check(row, Organisation, row.fields,
                 {name: column for column, name in ORGANISATION_COLUMNS.items()})  # fmt: skip
    row.address = {column: values[column] for column in ADDRESS_COLUMNS if values.get(column)}
    if values.get("country"):
        row.address["country"] = values["country"].upper()
    _model_check(row, OrganisationAddress, row.address, {})
    latitude, longitude = values.get("latitude", ""), values.get("longitude", "")
    if bool(latitude) != bool(longitude):
        row.errors.append("give both latitude and longitude, or neither")
    elif latitude:
        try:
            row.coordinates = Coordinates(
                _degrees(latitude, "latitude", 90), _degrees(longitude, "longitude", 180)
            )
        except ValueError as error:
            row.errors.append(str(error))
    existing = row.existing
    if row.coordinates is not None:
        if existing is not None and existing.geocode_status == GeocodeStatus.ENTERED:
            row.notes.append("keeps the coordinates entered by hand")
            row.coordinates = None
        else:
            row.notes.append("coordinates imported")
    elif (
        row.address
        and geocoding
        and (existing is None or existing.geocode_status != GeocodeStatus.ENTERED)
    ):
        row.notes.append("the address will be looked up")
    elif existing is None:
        row.notes.append("no coordinates")


def organisation_plan(
    rows: list[tuple[int, dict[str, str]]], *, geocoding: bool
) -> OrganisationPlan:
    """Check every row against the rows above it and the organisations there are: a row with
    a URN or code an organisation has updates it (the URN first), any other creates one. Empty
    cells leave what is there. `geocoding`: whether addresses without coordinates will be
    looked up (a geocoder is configured)."""
    plan = OrganisationPlan(rows=[PlannedRow(number, dict(values)) for number, values in rows])
    urns = {row.values.get("urn", "") for row in plan.rows} - {""}
    codes = {row.values.get("code", "").lower() for row in plan.rows} - {""}
    by_urn = {o.urn: o for o in Organisation.objects.filter(urn__in=urns)}
    by_code = {
        o.code.lower(): o
        for o in Organisation.objects.annotate(lower=Lower("code")).filter(lower__in=codes)
    }
    seen_urns: dict[str, int] = {}
    seen_codes: dict[str, int] = {}
    for row in plan.rows:
        urn, code = row.values.get("urn", ""), row.values.get("code", "").lower()
        if not urn and not code:
            row.errors.append(
                "give a urn or a code, so that importing the file again updates the "
                "organisation rather than adding it twice"
            )
            continue
        if urn in seen_urns or code in seen_codes:
            other = seen_urns.get(urn) or seen_codes[code]
            row.errors.append(f"the same organisation as row {other}")
            continue
        if urn:
            seen_urns[urn] = row.number
        if code:
            seen_codes[code] = row.number
        row.existing = by_urn.get(urn) if urn else None
        by_its_code = by_code.get(code) if code else None
        if row.existing is None:
            row.existing = by_its_code
        elif by_its_code is not None and by_its_code != row.existing:
            row.errors.append(f"the URN is {row.existing.name}'s but the code {by_its_code.name}'s")
            continue
        if row.existing is not None and urn and row.existing.urn and row.existing.urn != urn:
            row.errors.append(f"the code is {row.existing.name}'s, whose URN is {row.existing.urn}")
            continue
        row.action = "update" if row.existing else "new"
        _row_plan(row, geocoding)
    return plan
