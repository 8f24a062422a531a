"""The demographic and equity breakdown that SETA and employment-equity reports ask for:
learners counted by population group, gender and disability, per cohort, programme or year,
in one GROUP BY query. Its counts are equity counts: an export suppresses the small ones
(reports.exports), so that nobody can be singled out."""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import Count, F, Q
from django.db.models.functions import ExtractYear

from enrolments.models import CohortEnrollment, EnrollmentState, ProgrammeOutcome
from learners.choices import Disability, Gender, Race
from reports.builtin.common import (
    COHORT,
    NOT_RECORDED,
    PROGRAMME,
    YEAR,
    choice_parameter,
    cohort_scope,
    label_of,
)
from reports.registry import Column, Parameter, Report, Rows, register

GROUPINGS = [("cohort", "Cohort"), ("programme", "Programme"), ("year", "Year")]
# What each grouping groups by, and the label the group's row shows.
_START_YEAR = ExtractYear("cohort__start_date")
_GROUP_BY: dict[str, dict[str, Any]] = {
    "cohort": {"group_key": F("cohort_id"), "group": F("cohort__name")},
    "programme": {"group_key": F("cohort__programme_id"), "group": F("cohort__programme__name")},
    "year": {"group_key": _START_YEAR, "group": _START_YEAR},
}
NO_PROGRAMME = "No programme"

INCLUDE_WITHDRAWN = Parameter(
    name="include_withdrawn",
    label="Include withdrawn learners",
    field=lambda: forms.BooleanField(required=False),
    help_text="Count learners who withdrew too (left out unless ticked).",
)


def equity_rows(params: Mapping[str, Any]) -> Rows:
    enrollments = CohortEnrollment.objects.filter(cohort_scope(params))
    if not params.get("include_withdrawn"):
        enrollments = enrollments.exclude(state=EnrollmentState.WITHDRAWN)
    completed = Q(programme_outcome=ProgrammeOutcome.COMPLETED)
    # A learner in two cohorts of one programme or year is one learner there.
    grouped = (
        enrollments.values(
            **_GROUP_BY[params.get("group_by") or "cohort"],
            race=F("learner__race"),
            gender=F("learner__gender"),
            disability=F("learner__disability"),
        )
        .annotate(
            learners=Count("learner_id", distinct=True),
            completed=Count("learner_id", distinct=True, filter=completed),
        )
        .order_by("group", "group_key", "race", "gender", "disability")
    )
    for row in grouped:
        group = row["group"]
        yield {
            "group": NO_PROGRAMME if group is None else str(group),
            "race": label_of(Race, row["race"]),
            "gender": label_of(Gender, row["gender"]),
            "disability": label_of(Disability, row["disability"]),
            "learners": row["learners"],
            "completed": row["completed"],
        }


def _ordered_labels(choices: type[Race] | type[Gender], found: set[str]) -> list[str]:
    """The labels of `choices` found in the rows, in the choices' own order, "Not recorded"
    last."""
    labels = [str(label) for label in choices.labels if str(label) in found]
    return labels + ([NOT_RECORDED] if NOT_RECORDED in found else [])


def equity_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Learners by population group, a stacked bar per gender (all groups together)."""
    races = _ordered_labels(Race, {row["race"] for row in rows})
    genders = _ordered_labels(Gender, {row["gender"] for row in rows})
    totals: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["race"], row["gender"])
        totals[key] = totals.get(key, 0) + row["learners"]
    return {
        "id": "equity-chart",
        "type": "bar",
        "title": "Learners by population group and gender",
        "labels": races,
        "datasets": [
            {"label": gender, "data": [totals.get((race, gender), 0) for race in races]}
            for gender in genders
        ],
        "stacked": True,
        "unit": "",
    }


EQUITY = register(
    Report(
        key="equity",
        title="Demographic and equity breakdown",
        description="How many learners there are of each population group, gender and "
        "disability, per cohort, programme or year, and how many of them completed. Counts "
        "under the small-numbers threshold are suppressed in exports.",
        permission="cohorts.access_all_cohorts",
        area="Equity",
        parameters=(
            choice_parameter(
                "group_by", "Group by", GROUPINGS, "Count per cohort, programme or start year."
            ),
            COHORT,
            PROGRAMME,
            YEAR,
            INCLUDE_WITHDRAWN,
        ),
        columns=(
            Column("group", "Group"),
            Column("race", "Population group"),
            Column("gender", "Gender"),
            Column("disability", "Disability"),
            Column("learners", "Learners", "int", small_count=True),
            Column("completed", "Completed", "int", small_count=True),
        ),
        rows=equity_rows,
        chart=equity_chart,
    )
)
