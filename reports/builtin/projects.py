"""Innovation projects: one row per project (where it stands, its review and its milestones)
and one row per delayed milestone. Each is one query, its leader, latest decision and
milestone counts read as subqueries and aggregates of that query, whatever the number of
projects."""

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from numbers import Real
from typing import Any

from django.db.models import (
    CharField,
    Count,
    F,
    JSONField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from projects.models import (
    InnovationProject,
    MemberRole,
    MilestoneStatus,
    ProjectKind,
    ProjectMember,
    ProjectMilestone,
    ProjectStatus,
    ProjectStatusChange,
)
from reports.builtin.common import (
    CHUNK,
    COHORT,
    PROGRAMME,
    choice_parameter,
    date_parameter,
    label_of,
)
from reports.registry import Column, Report, Rows, register

MANAGE_PROJECTS = "projects.manage_projects"
DECISIONS = (ProjectStatus.APPROVED, ProjectStatus.REJECTED)

PROJECT_PROGRAMME = dataclasses.replace(PROGRAMME, help_text="Only projects of this programme.")
PROJECT_COHORT = dataclasses.replace(COHORT, help_text="Only projects of this cohort.")


def _leader_name(project: str) -> Subquery:
    """The current leader's name (their e-mail address when they gave no name) of the project
    at the path `project` of the outer query."""
    return Subquery(
        ProjectMember.objects.filter(
            project=OuterRef(project), role=MemberRole.LEADER, left_date__isnull=True
        )
        .annotate(
            name=Coalesce(
                NullIf(F("user__full_name"), Value("")),
                F("user__email"),
                output_field=CharField(),
            )
        )
        .values("name")[:1],
        output_field=CharField(),
    )


def _scores_mean(values: list[Any]) -> Decimal | None:
    numbers = [value for value in values if isinstance(value, Real) and not isinstance(value, bool)]
    if not numbers:
        return None
    mean = Decimal(str(sum(float(number) for number in numbers) / len(numbers)))
    return mean.quantize(Decimal("0.01"), ROUND_HALF_UP)


def panel_mean(panel_scores: Any) -> Decimal | None:
    """The mean of the criteria's mean scores kept with a decision (ProjectStatusChange.
    panel_scores), or None when none is there. Read defensively: the criteria may be a mapping
    or a list, under "criteria" or at the top level, each entry with its "mean"; anything else
    (reviewers' totals, the round, the decision) is left aside."""
    if not isinstance(panel_scores, dict):
        return None
    criteria = panel_scores.get("criteria", panel_scores)
    if isinstance(criteria, dict):
        entries = list(criteria.values())
    elif isinstance(criteria, list):
        entries = criteria
    else:
        return None
    return _scores_mean([entry.get("mean") for entry in entries if isinstance(entry, dict)])


def _local_date(moment: datetime | None) -> Any:
    return timezone.localdate(moment) if moment is not None else None


def projects_chosen(params: Mapping[str, Any]) -> QuerySet[InnovationProject]:
    projects = InnovationProject.objects.all()
    if params.get("status"):
        projects = projects.filter(status=params["status"])
    if params.get("programme") is not None:
        projects = projects.filter(programme=params["programme"])
    if params.get("cohort") is not None:
        projects = projects.filter(cohort=params["cohort"])
    if params.get("submitted_from") is not None:
        projects = projects.filter(submitted_at__date__gte=params["submitted_from"])
    if params.get("submitted_to") is not None:
        projects = projects.filter(submitted_at__date__lte=params["submitted_to"])
    return projects


def innovation_projects_rows(params: Mapping[str, Any]) -> Rows:
    latest_decision = (
        ProjectStatusChange.objects.filter(project=OuterRef("pk"), to_status__in=DECISIONS)
        .order_by("-at", "-pk")
        .values("panel_scores")[:1]
    )
    projects = (
        projects_chosen(params)
        .annotate(
            leader_name=_leader_name("pk"),
            decision_scores=Subquery(latest_decision, output_field=JSONField()),
            milestones_total=Count("milestones"),
            milestones_completed=Count(
                "milestones", filter=Q(milestones__status=MilestoneStatus.COMPLETED)
            ),
            milestones_delayed=Count(
                "milestones", filter=Q(milestones__status=MilestoneStatus.DELAYED)
            ),
        )
        .values(
            "title",
            "kind",
            "programme__name",
            "cohort__name",
            "leader_name",
            "status",
            "submitted_at",
            "decided_at",
            "round",
            "decision_scores",
            "milestones_total",
            "milestones_completed",
            "milestones_delayed",
            "start_date",
            "end_date",
        )
        .order_by("title", "pk")
    )
    for row in projects.iterator(chunk_size=CHUNK):
        yield {
            "title": row["title"],
            "kind": label_of(ProjectKind, row["kind"]),
            "programme": row["programme__name"] or "",
            "cohort": row["cohort__name"] or "",
            "leader": row["leader_name"] or "",
            "status": label_of(ProjectStatus, row["status"]),
            "submitted_on": _local_date(row["submitted_at"]),
            "decided_on": _local_date(row["decided_at"]),
            "rounds": row["round"],
            "panel_mean": panel_mean(row["decision_scores"]),
            "milestones_total": row["milestones_total"],
            "milestones_completed": row["milestones_completed"],
            "milestones_delayed": row["milestones_delayed"],
            "start_date": row["start_date"],
            "end_date": row["end_date"],
        }


def innovation_projects_count(params: Mapping[str, Any]) -> int:
    return projects_chosen(params).count()


INNOVATION_PROJECTS = register(
    Report(
        key="innovation_projects",
        title="Innovation projects",
        description="Each innovation project: its kind, programme, cohort and leader, where it "
        "stands, when it was submitted and decided, its review rounds and the panel's mean "
        "score at the latest decision, and its milestones (completed, delayed).",
        permission=MANAGE_PROJECTS,
        area="Projects",
        parameters=(
            choice_parameter(
                "status",
                "Status",
                ProjectStatus.choices,
                "Only projects in this status.",
                any_label="Any status",
            ),
            PROJECT_PROGRAMME,
            PROJECT_COHORT,
            date_parameter("submitted_from", "Submitted from", "Last submitted on or after."),
            date_parameter("submitted_to", "Submitted until", "Last submitted on or before."),
        ),
        columns=(
            Column("title", "Project"),
            Column("kind", "Kind"),
            Column("programme", "Programme"),
            Column("cohort", "Cohort"),
            Column("leader", "Leader"),
            Column("status", "Status"),
            Column("submitted_on", "Submitted on", "date"),
            Column("decided_on", "Decided on", "date"),
            Column("rounds", "Rounds", "int"),
            Column("panel_mean", "Panel mean score", "decimal"),
            Column("milestones_total", "Milestones", "int"),
            Column("milestones_completed", "Completed", "int"),
            Column("milestones_delayed", "Delayed", "int"),
            Column("start_date", "Starts", "date"),
            Column("end_date", "Ends", "date"),
        ),
        rows=innovation_projects_rows,
        count=innovation_projects_count,
    )
)


def delayed_milestones_chosen(params: Mapping[str, Any]) -> QuerySet[ProjectMilestone]:
    milestones = ProjectMilestone.objects.filter(status=MilestoneStatus.DELAYED)
    if params.get("programme") is not None:
        milestones = milestones.filter(project__programme=params["programme"])
    if params.get("cohort") is not None:
        milestones = milestones.filter(project__cohort=params["cohort"])
    return milestones


def delayed_milestones_rows(params: Mapping[str, Any]) -> Rows:
    today = timezone.localdate()
    milestones = (
        delayed_milestones_chosen(params)
        .annotate(leader_name=_leader_name("project_id"))
        .values("project__title", "title", "due_date", "leader_name", "project__programme__name")
        .order_by("due_date", "project__title", "pk")
    )
    for row in milestones.iterator(chunk_size=CHUNK):
        yield {
            "project": row["project__title"],
            "milestone": row["title"],
            "due_date": row["due_date"],
            "days_late": max((today - row["due_date"]).days, 0),
            "leader": row["leader_name"] or "",
            "programme": row["project__programme__name"] or "",
        }


def delayed_milestones_count(params: Mapping[str, Any]) -> int:
    return delayed_milestones_chosen(params).count()


DELAYED_MILESTONES = register(
    Report(
        key="delayed_milestones",
        title="Delayed milestones",
        description="Every milestone of an innovation project marked delayed (past its due "
        "date and not completed): its project, due date, days late, leader and programme, "
        "the longest overdue first.",
        permission=MANAGE_PROJECTS,
        area="Projects",
        parameters=(PROJECT_PROGRAMME, PROJECT_COHORT),
        columns=(
            Column("project", "Project"),
            Column("milestone", "Milestone"),
            Column("due_date", "Due", "date"),
            Column("days_late", "Days late", "int"),
            Column("leader", "Leader"),
            Column("programme", "Programme"),
        ),
        rows=delayed_milestones_rows,
        count=delayed_milestones_count,
    )
)
