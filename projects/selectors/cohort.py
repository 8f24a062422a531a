"""The cohort page's innovation projects panel (cohorts.panels): how many of the cohort's
projects stand in each status and which of their milestones are delayed. Two queries, however
many projects and milestones the cohort has."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from cohorts.models import Cohort
from projects.access import is_manager
from projects.models import InnovationProject, MilestoneStatus, ProjectMilestone, ProjectStatus

# The delayed milestones listed on the panel (the longest overdue first); the rest are counted
# and reached through the projects list.
DELAYED_SHOWN = 8


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True)
class DelayedMilestone:
    project_id: int
    project_title: str
    title: str
    due_date: date
    days_late: int


def _projects_in(grouped: dict[str, dict[str, Any]], status: str) -> int:
    return int(grouped[status]["projects"]) if status in grouped else 0


def cohort_project_counts(cohort: Cohort) -> tuple[list[StatusCount], int, int]:
    """Per status (every status, in the life cycle's order) the number of the cohort's
    projects; the total; and the number of their delayed milestones. One query."""
    grouped = {
        row["status"]: row
        for row in InnovationProject.objects.filter(cohort=cohort)
        .values("status")
        .annotate(
            projects=Count("pk", distinct=True),
            delayed=Count("milestones", filter=Q(milestones__status=MilestoneStatus.DELAYED)),
        )
        .order_by()
    }
    counts = [
        StatusCount(
            status.value, str(status.label), grouped.get(status.value, {}).get("projects", 0)
        )
        for status in ProjectStatus
    ]
    delayed = sum(row["delayed"] for row in grouped.values())
    return counts, sum(count.count for count in counts), delayed


def cohort_delayed_milestones(cohort: Cohort, *, limit: int) -> list[DelayedMilestone]:
    """The first `limit` delayed milestones of the cohort's projects, the longest overdue
    first. One query."""
    today = timezone.localdate()
    milestones = (
        ProjectMilestone.objects.filter(project__cohort=cohort, status=MilestoneStatus.DELAYED)
        .order_by("due_date", "project__title", "pk")
        .values("project_id", "project__title", "title", "due_date")[:limit]
    )
    return [
        DelayedMilestone(
            project_id=row["project_id"],
            project_title=row["project__title"],
            title=row["title"],
            due_date=row["due_date"],
            days_late=max((today - row["due_date"]).days, 0),
        )
        for row in milestones
    ]


def cohort_projects_panel(cohort: Cohort, user: User) -> dict[str, Any] | None:
    """The panel's context for those who follow every project (projects.manage_projects);
    nothing for anyone else, who reaches only their own projects."""
    if not is_manager(user):
        return None
    counts, total, delayed = cohort_project_counts(cohort)
    return {
        "counts": [count for count in counts if count.count],
        "total": total,
        "delayed_total": delayed,
        "delayed": cohort_delayed_milestones(cohort, limit=DELAYED_SHOWN),
        "delayed_more": max(delayed - DELAYED_SHOWN, 0),
    }
