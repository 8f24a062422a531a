"""Who reaches which project and who may do what to it. Every projects page and service asks
here; anything else is the audited 404 of accounts.permissions.

- Staff with projects.manage_projects reach every project and do everything an institution
  does: send proposals for review, decide, manage members and milestones.
- A project's people reach it while and after they are on it (current or past members, its
  proposer) and its reviewers reach the projects they were asked to review. Everyone else,
  another learner included, gets the 404.
- Learners (anyone with a learner record) and staff with projects.propose_projects propose
  projects; the proposal is edited while it is a draft by its leader (and by managers).
- The current leader (or a manager) manages members and milestones while the project is not
  finished; the leader and members move milestones on while it is in progress."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import User
from learners.models import Learner
from projects.models import (
    InnovationProject,
    MemberRole,
    ProjectMember,
    ProjectStatus,
    ReviewAssignment,
)

MANAGE_PROJECTS = "projects.manage_projects"
PROPOSE_PROJECTS = "projects.propose_projects"

# A finished project's team and milestones are its record: they no longer change.
FINISHED = (ProjectStatus.REJECTED, ProjectStatus.COMPLETED)
# Members who do the work (mentors and advisors guide it).
WORKING_ROLES = (MemberRole.LEADER, MemberRole.MEMBER)


def _in_service(user: User) -> bool:
    return bool(user.is_authenticated and user.is_in_service)


def is_manager(user: User) -> bool:
    return _in_service(user) and user.may(MANAGE_PROJECTS)


def may_propose(user: User) -> bool:
    """Learners always may; staff whose roles allow it."""
    if not _in_service(user):
        return False
    return user.may(PROPOSE_PROJECTS) or Learner.objects.filter(user=user).exists()


def projects_reached(user: User) -> QuerySet[InnovationProject]:
    """The projects `user` may open."""
    projects = InnovationProject.objects.all()
    if not _in_service(user):
        return projects.none()
    if user.may(MANAGE_PROJECTS):
        return projects
    return projects.filter(
        Q(created_by=user)
        | Exists(ProjectMember.objects.filter(project=OuterRef("pk"), user=user))
        | Exists(ReviewAssignment.objects.filter(project=OuterRef("pk"), reviewer=user))
    )


def reaches(user: User, project: InnovationProject) -> bool:
    return projects_reached(user).filter(pk=project.pk).exists()


def current_roles(user: User, project: InnovationProject) -> set[str]:
    """The roles `user` holds on `project` now."""
    if not _in_service(user):
        return set()
    return set(
        ProjectMember.objects.filter(
            project=project, user=user, left_date__isnull=True
        ).values_list("role", flat=True)
    )


def is_leader(user: User, project: InnovationProject) -> bool:
    return MemberRole.LEADER in current_roles(user, project)


def may_lead(user: User, project: InnovationProject) -> bool:
    """What the leader decides (submitting, revising, starting and completing the project) a
    manager may decide too."""
    return is_manager(user) or is_leader(user, project)


def may_edit_proposal(user: User, project: InnovationProject) -> bool:
    """A draft, by its leader (its proposer until a leader is named) or a manager."""
    if project.status != ProjectStatus.DRAFT or not _in_service(user):
        return False
    return (
        is_manager(user)
        or is_leader(user, project)
        or (project.created_by_id == user.pk and not _has_leader(project))
    )


def _has_leader(project: InnovationProject) -> bool:
    return ProjectMember.objects.filter(
        project=project, role=MemberRole.LEADER, left_date__isnull=True
    ).exists()


def may_manage_team(user: User, project: InnovationProject) -> bool:
    """Members and milestones: the current leader or a manager, until the project is done."""
    if project.status in FINISHED:
        return False
    return is_manager(user) or is_leader(user, project)


def may_work_on(user: User, project: InnovationProject) -> bool:
    """Start and complete milestones: the leader, members and managers, while it runs."""
    if project.status != ProjectStatus.IN_PROGRESS:
        return False
    return is_manager(user) or bool(current_roles(user, project) & set(WORKING_ROLES))


def is_reviewer(user: User, project: InnovationProject) -> bool:
    """Asked to review the project's current round."""
    return (
        _in_service(user)
        and ReviewAssignment.objects.filter(
            project=project, round=project.round, reviewer=user
        ).exists()
    )
