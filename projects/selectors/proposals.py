"""Reads for the proposal pages: a person's own projects (My projects) and the reason a
proposal was last sent back or rejected."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from accounts.models import User
from projects.access import FINISHED
from projects.models import (
    InnovationProject,
    MilestoneStatus,
    ProjectMember,
    ProjectStatus,
    ProjectStatusChange,
)


@dataclass(frozen=True)
class MyProject:
    """A project as its own person sees it in My projects."""

    project: InnovationProject
    roles: list[str]
    is_leader: bool
    delayed: int

    @property
    def sent_back(self) -> bool:
        return self.project.status == ProjectStatus.DRAFT and self.project.round > 0


def my_projects(user: User) -> list[MyProject]:
    """The projects `user` is or was on (any role) or proposed, most recently changed first."""
    mine = ProjectMember.objects.filter(user=user).order_by("left_date", "role")
    projects = (
        InnovationProject.objects.filter(
            Q(created_by=user)
            | Exists(ProjectMember.objects.filter(project=OuterRef("pk"), user=user))
        )
        .select_related("programme", "cohort")
        .annotate(
            delayed_count=Count(
                "milestones", filter=Q(milestones__status=MilestoneStatus.DELAYED), distinct=True
            )
        )
        .prefetch_related(Prefetch("members", queryset=mine, to_attr="my_memberships"))
        .order_by("-updated_at", "-pk")
    )
    rows = []
    for project in projects:
        memberships = project.my_memberships
        current = [member for member in memberships if member.left_date is None]
        if current:
            roles = [member.get_role_display() for member in current]
        elif memberships:
            roles = [f"Former {memberships[0].get_role_display().lower()}"]
        else:
            roles = ["Proposer"]
        rows.append(
            MyProject(
                project=project,
                roles=roles,
                is_leader=any(member.role == "leader" for member in current),
                delayed=project.delayed_count,
            )
        )
    return rows


def my_projects_grouped(user: User) -> tuple[list[MyProject], list[MyProject]]:
    """`user`'s projects still going and those finished (rejected or completed)."""
    rows = my_projects(user)
    return (
        [row for row in rows if row.project.status not in FINISHED],
        [row for row in rows if row.project.status in FINISHED],
    )


def latest_return(project: InnovationProject) -> ProjectStatusChange | None:
    """Why the proposal is being reworked: the last time it was sent back or rejected (None
    for a proposal never returned)."""
    if project.round == 0 or project.status not in (ProjectStatus.DRAFT, ProjectStatus.REJECTED):
        return None
    return (
        ProjectStatusChange.objects.filter(project=project)
        .filter(
            Q(to_status=ProjectStatus.REJECTED)
            | Q(
                to_status=ProjectStatus.DRAFT,
                from_status__in=[ProjectStatus.SUBMITTED, ProjectStatus.IN_REVIEW],
            )
        )
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )
