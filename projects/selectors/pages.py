"""What staff's pages and a project's Overview and Activity tabs read: the projects list with
its counts and current leader (a fixed number of queries whatever the rows), a project's team
and milestones in short, its latest decision, and its timeline built from its own rows."""

import datetime
from dataclasses import dataclass

from django.db.models import (
    CharField,
    Count,
    Exists,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from academics.models import Programme
from accounts.models import User
from cohorts.models import Cohort
from projects.models import (
    InnovationProject,
    MemberRole,
    MilestoneStatus,
    ProjectMember,
    ProjectMilestone,
    ProjectStatus,
    ProjectStatusChange,
)


def current_leaders(project: str = "pk") -> QuerySet[ProjectMember]:
    """The current leader of the outer query's project (its field `project`), for subqueries."""
    return ProjectMember.objects.filter(
        project=OuterRef(project), role=MemberRole.LEADER, left_date__isnull=True
    )


def leader_name_subquery(project: str = "pk") -> Subquery:
    """The current leader's name (their e-mail when they gave no name) of the outer query's
    project (its field `project`)."""
    return Subquery(
        current_leaders(project)
        .annotate(
            name=Coalesce(
                NullIf("user__full_name", Value("")), "user__email", output_field=CharField()
            )
        )
        .values("name")[:1]
    )


def project_list(
    *,
    status: str | None = None,
    programme: Programme | None = None,
    cohort: Cohort | None = None,
    search: str | None = None,
) -> QuerySet[InnovationProject]:
    """Every project, last changed first, with its programme and cohort, its current leader's
    name (`leader_name`) and its milestones counted (`milestones_total`, `milestones_completed`,
    `milestones_delayed`): one query for any number of rows. `search` looks in the title and
    the current leader's name."""
    projects = InnovationProject.objects.select_related("programme", "cohort").annotate(
        leader_name=leader_name_subquery(),
        milestones_total=Count("milestones"),
        milestones_completed=Count(
            "milestones", filter=Q(milestones__status=MilestoneStatus.COMPLETED)
        ),
        milestones_delayed=Count(
            "milestones", filter=Q(milestones__status=MilestoneStatus.DELAYED)
        ),
    )
    if status:
        projects = projects.filter(status=status)
    if programme is not None:
        projects = projects.filter(programme=programme)
    if cohort is not None:
        projects = projects.filter(cohort=cohort)
    if search:
        projects = projects.filter(
            Q(title__icontains=search)
            | Exists(current_leaders().filter(user__full_name__icontains=search))
        )
    return projects.order_by("-updated_at", "-pk")


@dataclass(frozen=True)
class TeamSummary:
    leader: User | None
    mentors: list[User]
    members: int  # everyone on the project now, in any role


@dataclass(frozen=True)
class MilestoneSummary:
    total: int
    completed: int
    delayed: int
    next_due: datetime.date | None  # the earliest due date of those not completed


def project_team_summary(project: InnovationProject) -> TeamSummary:
    """The project's current people in short: one query."""
    current = list(
        ProjectMember.objects.filter(project=project, left_date__isnull=True).select_related("user")
    )
    leader = next((member.user for member in current if member.role == MemberRole.LEADER), None)
    mentors = [member.user for member in current if member.role == MemberRole.MENTOR]
    return TeamSummary(leader=leader, mentors=mentors, members=len(current))


def project_milestone_summary(project: InnovationProject) -> MilestoneSummary:
    """The project's milestones in short: one query."""
    counts = ProjectMilestone.objects.filter(project=project).aggregate(
        total=Count("pk"),
        completed=Count("pk", filter=Q(status=MilestoneStatus.COMPLETED)),
        delayed=Count("pk", filter=Q(status=MilestoneStatus.DELAYED)),
        next_due=Min("due_date", filter=~Q(status=MilestoneStatus.COMPLETED)),
    )
    return MilestoneSummary(**counts)


# The moves that carry the institution's word to the team: a decision or a sending back.
_DECISIONS = Q(to_status__in=[ProjectStatus.APPROVED, ProjectStatus.REJECTED]) | Q(
    to_status=ProjectStatus.DRAFT,
    from_status__in=[ProjectStatus.SUBMITTED, ProjectStatus.IN_REVIEW],
)


def project_latest_decision(project: InnovationProject) -> ProjectStatusChange | None:
    """The latest decision on the project or its latest sending back, with who made it."""
    return (
        ProjectStatusChange.objects.filter(_DECISIONS, project=project)
        .select_related("actor")
        .order_by("-at", "-pk")
        .first()
    )


def sees_decisions(user: User, project: InnovationProject, *, manager: bool) -> bool:
    """The reasons given to a project are for its team (its proposer and current members) and
    managers, not for its reviewers."""
    return (
        manager
        or project.created_by_id == user.pk
        or ProjectMember.objects.filter(project=project, user=user, left_date__isnull=True).exists()
    )


class ActivityKind:
    STATUS = "status"
    JOINED = "joined"
    LEFT = "left"
    MILESTONE_COMPLETED = "milestone_completed"
    MILESTONE_DELAYED = "milestone_delayed"


@dataclass(frozen=True)
class ActivityEvent:
    """One thing that happened to a project. `on` is its day; `at` the moment when the row
    keeps one (status moves), which orders the events of one day."""

    kind: str
    on: datetime.date
    at: datetime.datetime | None = None
    change: ProjectStatusChange | None = None
    member: ProjectMember | None = None
    milestone: ProjectMilestone | None = None

    @property
    def sort_key(self) -> tuple[datetime.date, datetime.datetime]:
        moment = self.at or datetime.datetime.combine(self.on, datetime.time.min, datetime.UTC)
        return (self.on, moment)


def project_activity(project: InnovationProject) -> list[ActivityEvent]:
    """The project's timeline, newest first, from its status moves, its members joining and
    leaving, and its milestones completed or now delayed (milestones keep no history: a
    delayed one shows on its missed due date). Three queries, whatever the rows."""
    events = [
        ActivityEvent(
            kind=ActivityKind.STATUS,
            on=timezone.localdate(change.at),
            at=change.at,
            change=change,
        )
        for change in ProjectStatusChange.objects.filter(project=project).select_related("actor")
    ]
    for member in ProjectMember.objects.filter(project=project).select_related("user"):
        events.append(ActivityEvent(kind=ActivityKind.JOINED, on=member.joined_date, member=member))
        if member.left_date is not None:
            events.append(ActivityEvent(kind=ActivityKind.LEFT, on=member.left_date, member=member))
    for milestone in ProjectMilestone.objects.filter(
        Q(status=MilestoneStatus.COMPLETED, completed_date__isnull=False)
        | Q(status=MilestoneStatus.DELAYED),
        project=project,
    ):
        if milestone.status == MilestoneStatus.COMPLETED:
            assert milestone.completed_date is not None
            events.append(
                ActivityEvent(
                    kind=ActivityKind.MILESTONE_COMPLETED,
                    on=milestone.completed_date,
                    milestone=milestone,
                )
            )
        else:
            events.append(
                ActivityEvent(
                    kind=ActivityKind.MILESTONE_DELAYED, on=milestone.due_date, milestone=milestone
                )
            )
    return sorted(events, key=lambda event: event.sort_key, reverse=True)
