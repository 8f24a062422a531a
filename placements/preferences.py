"""What a placement preference's `placement_details` may hold (seed 003 left it free JSON; here
it is a checked structure, stored as JSON only after this schema accepts it):

    {"places": [{"subject": "MATH", "phase": "secondary", "places": 3}, ...],
     "windows": [{"starts_on": "2027-02-01", "ends_on": "2027-03-26"}, ...],
     "notes": "..."}

`details_validate` turns whatever a form or an import gives into that structure, or raises a
ValidationError whose messages people can act on; `offered_places` reads it back."""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as SchemaError

from placements.models import Appetite, SubjectPhase

MAX_PLACES = 500
MAX_NOTES = 2000
MAX_LINES = 100


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class PlacesOffered(_Strict):
    subject: str = Field(min_length=1, max_length=20)
    phase: SubjectPhase
    places: int = Field(ge=1, le=MAX_PLACES)

    @field_validator("subject")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class DateWindow(_Strict):
    starts_on: datetime.date
    ends_on: datetime.date

    @model_validator(mode="after")
    def _in_order(self) -> "DateWindow":
        if self.ends_on < self.starts_on:
            raise ValueError("a window cannot end before it starts")
        return self


class PlacementDetails(_Strict):
    places: list[PlacesOffered] = Field(default_factory=list, max_length=MAX_LINES)
    windows: list[DateWindow] = Field(default_factory=list, max_length=MAX_LINES)
    notes: str = Field(default="", max_length=MAX_NOTES)

    @model_validator(mode="after")
    def _one_line_per_subject_and_phase(self) -> "PlacementDetails":
        seen = set()
        for line in self.places:
            key = (line.subject, line.phase)
            if key in seen:
                raise ValueError(
                    f"{line.subject} ({line.phase}) is listed twice: give its places once"
                )
            seen.add(key)
        return self


def _schema_message(error: SchemaError) -> list[str]:
    messages = []
    for item in error.errors():
        where = " → ".join(str(part) for part in item["loc"])
        text = item["msg"].removeprefix("Value error, ")
        messages.append(f"{where}: {text}" if where else text)
    return messages


def details_validate(
    raw: Any,
    *,
    appetite: str,
    subject_phases: dict[str, str],
    year_starts_on: datetime.date,
    year_ends_on: datetime.date,
) -> dict[str, Any]:
    """The details as stored (JSON types only), or a ValidationError: the schema's complaints,
    subjects that are not in the subject tree (`subject_phases`: code → phase, active ones) or
    given with a phase that is not theirs (such places would never be found), windows outside
    the academic year, and places offered by an organisation that is not interested."""
    try:
        details = PlacementDetails.model_validate(raw if raw is not None else {})
    except SchemaError as error:
        raise ValidationError(_schema_message(error)) from None
    errors = []
    unknown = sorted({line.subject for line in details.places} - subject_phases.keys())
    if unknown:
        errors.append(f"Not a subject in the subject list: {', '.join(unknown)}.")
    phase_names = dict(SubjectPhase.choices)
    for line in details.places:
        phase = subject_phases.get(line.subject)
        if phase is not None and phase != line.phase:
            errors.append(
                f"{line.subject} is a {phase_names.get(phase, phase).lower()} subject, not "
                f"{phase_names[line.phase].lower()}: give its places under its own phase."
            )
    for window in details.windows:
        if window.starts_on < year_starts_on or window.ends_on > year_ends_on:
            errors.append(
                f"The window {window.starts_on:%-d %b %Y} to {window.ends_on:%-d %b %Y} is not "
                f"within the academic year ({year_starts_on:%-d %b %Y} to "
                f"{year_ends_on:%-d %b %Y})."
            )
    if appetite == Appetite.NOT_INTERESTED and (details.places or details.windows):
        errors.append("An organisation that is not interested offers no places or dates.")
    if errors:
        raise ValidationError(errors)
    return details.model_dump(mode="json")


def offered_places(placement_details: dict[str, Any], *, subject: str, phase: str) -> int:
    """How many places a stored preference offers for one subject code and phase (0: none)."""
    for line in placement_details.get("places", []):
        if line["subject"] == subject and line["phase"] == phase:
            return int(line["places"])
    return 0


def subject_filter(*, subject: str | None, phase: str | None = None) -> dict[str, Any]:
    """A `placement_details__contains` value matching preferences that offer places in a subject
    and/or a phase, served by the preference's GIN index."""
    line: dict[str, Any] = {}
    if subject:
        line["subject"] = subject
    if phase:
        line["phase"] = phase
    return {"places": [line]}
