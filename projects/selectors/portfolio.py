"""The staff portfolio: how many projects stand in each status (cards, a chart and a table per
programme), the delayed milestones and the projects ending soon, for one programme or cohort or
for all. A fixed number of queries whatever the number of projects."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import (
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
)
from django.utils import timezone

from academics.models import Programme
from accounts.charts import Chart
from cohorts.models import Cohort
from projects.models import InnovationProject, MilestoneStatus, ProjectMilestone, ProjectStatus
from projects.selectors.pages import leader_name_subquery

# How far ahead "ending soon" looks.
ENDING_WITHIN_DAYS = 30


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class ProgrammeRow:
    """One programme's projects in each status (each status's label and count, in
    ProjectStatus order), and their total."""

    programme: str
    counts: list[tuple[str, int]]
    total: int


@dataclass(frozen=True)
class Portfolio:
    statuses: list[StatusCount]
    total: int
    chart: Chart
    programmes: list[ProgrammeRow]
    ending_soon: Sequence[InnovationProject]


def _projects(programme: Programme | None, cohort: Cohort | None) -> QuerySet[InnovationProject]:
    projects = InnovationProject.objects.all()
    if programme is not None:
        projects = projects.filter(programme=programme)
    if cohort is not None:
        projects = projects.filter(cohort=cohort)
    return projects


def portfolio(*, programme: Programme | None = None, cohort: Cohort | None = None) -> Portfolio:
    """The portfolio's counts and the projects ending within ENDING_WITHIN_DAYS days (those
    approved or running): two queries."""
    projects = _projects(programme, cohort)
    per_programme: dict[str, dict[str, int]] = {}
    for row in (
        projects.values("programme__name", "status")
        .annotate(count=Count("pk"))
        .order_by("programme__name")
    ):
        name = row["programme__name"] or "No programme"
        per_programme.setdefault(name, {})[row["status"]] = row["count"]
    statuses = [
        StatusCount(
            status=value,
            label=str(label),
            count=sum(counts.get(value, 0) for counts in per_programme.values()),
        )
        for value, label in ProjectStatus.choices
    ]
    programmes = [
        ProgrammeRow(
            programme=name,
            counts=[(str(label), counts.get(value, 0)) for value, label in ProjectStatus.choices],
            total=sum(counts.values()),
        )
        for name, counts in per_programme.items()
    ]
    today = timezone.localdate()
    ending_soon = list(
        projects.filter(
            status__in=[ProjectStatus.APPROVED, ProjectStatus.IN_PROGRESS],
            end_date__gte=today,
            end_date__lte=today + datetime.timedelta(days=ENDING_WITHIN_DAYS),
        )
        .select_related("programme")
        .annotate(
            leader_name=leader_name_subquery(),
            milestones_open=Count(
                "milestones", filter=~Q(milestones__status=MilestoneStatus.COMPLETED)
            ),
        )
        .order_by("end_date", "pk")
    )
    return Portfolio(
        statuses=statuses,
        total=sum(status.count for status in statuses),
        chart={
            "id": "projects-by-status",
            "type": "bar",
            "title": "Projects by status",
            "labels": [status.label for status in statuses],
            "datasets": [{"label": "Projects", "data": [status.count for status in statuses]}],
            "stacked": False,
            "unit": "",
        },
        programmes=programmes,
        ending_soon=ending_soon,
    )


def delayed_milestones(
    *, programme: Programme | None = None, cohort: Cohort | None = None
) -> QuerySet[ProjectMilestone]:
    """Delayed milestones, longest late first, with their project, the project's current
    leader's name (`leader_name`) and the time since they were due (`late_by`)."""
    return (
        ProjectMilestone.objects.filter(
            status=MilestoneStatus.DELAYED, project__in=_projects(programme, cohort)
        )
        .select_related("project")
        .annotate(
            leader_name=leader_name_subquery("project"),
            late_by=ExpressionWrapper(
                Value(timezone.localdate(), DateField()) - F("due_date"),
                output_field=DurationField(),
            ),
        )
        .order_by("due_date", "pk")
    )
