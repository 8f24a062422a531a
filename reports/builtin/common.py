"""What the built-in reports share: the parameters that narrow a report to a cohort, a
programme or a year, and turning stored choices into the labels people read."""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db import models
from django.db.models import Q

from academics.models import Programme
from cohorts.models import Cohort
from reports.registry import Parameter, date_from_json, date_to_json

# Rows are read from the database this many at a time (a server-side cursor), so that an
# export of 100,000 rows never holds them all.
CHUNK = 2000
NOT_RECORDED = "Not recorded"


def _model_parameter(
    name: str, label: str, model: type[models.Model], empty_label: str, help_text: str
) -> Parameter:
    """A choice of one `model` row, stored as its primary key. A stored key whose row is gone
    fails the run rather than quietly widening the report to every row."""
    return Parameter(
        name=name,
        label=label,
        field=lambda: forms.ModelChoiceField(
            queryset=model._default_manager.all(), required=False, empty_label=empty_label
        ),
        to_json=lambda chosen: chosen.pk,
        from_json=lambda pk: model._default_manager.get(pk=pk),
        help_text=help_text,
    )


COHORT = _model_parameter("cohort", "Cohort", Cohort, "All cohorts", "Only this cohort's learners.")
PROGRAMME = _model_parameter(
    "programme", "Programme", Programme, "All programmes", "Only cohorts of this programme."
)
YEAR = Parameter(
    name="year",
    label="Year",
    field=lambda: forms.IntegerField(
        required=False,
        min_value=2000,
        max_value=2100,
        error_messages={
            "min_value": "Choose a year from 2000.",
            "max_value": "Choose a year up to 2100.",
        },
    ),
    help_text="Only cohorts that started in this year.",
)


def date_parameter(name: str, label: str, help_text: str) -> Parameter:
    return Parameter(
        name=name,
        label=label,
        field=lambda: forms.DateField(
            required=False, widget=forms.DateInput(attrs={"type": "date"})
        ),
        to_json=date_to_json,
        from_json=date_from_json,
        help_text=help_text,
    )


def choice_parameter(
    name: str,
    label: str,
    choices: list[tuple[str, str]],
    help_text: str,
    *,
    any_label: str = "",
) -> Parameter:
    """A choice among `choices`: required, the first offered first; or, with `any_label`,
    optional, offered first as that label (no filter)."""
    offered = [("", any_label), *choices] if any_label else choices
    return Parameter(
        name=name,
        label=label,
        field=lambda: forms.ChoiceField(
            choices=offered, initial=offered[0][0], required=not any_label
        ),
        help_text=help_text,
    )


def cohort_scope(params: Mapping[str, Any], *, cohort: str = "cohort") -> Q:
    """The rows whose cohort (reached through the path `cohort`) the parameters cohort,
    programme and year keep; every row when none is given."""
    scope = Q()
    if params.get("cohort") is not None:
        scope &= Q(**{cohort: params["cohort"]})
    if params.get("programme") is not None:
        scope &= Q(**{f"{cohort}__programme": params["programme"]})
    if params.get("year") is not None:
        scope &= Q(**{f"{cohort}__start_date__year": params["year"]})
    return scope


def label_of(choices: type[models.TextChoices], value: str) -> str:
    """The label people read for a stored choice; "Not recorded" for none."""
    if not value:
        return NOT_RECORDED
    return str(choices(value).label) if value in choices.values else value


def percent(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
