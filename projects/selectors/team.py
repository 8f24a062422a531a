"""Reads for a project's team and milestones: who may be added to a team, the members and the
timeline of one project, and the milestones the daily task looks at."""

import datetime

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from accounts.models import SystemRole, User, UserRole
from learners.models import Learner
from projects.models import (
    InnovationProject,
    MemberRole,
    MilestoneEvidence,
    MilestoneStatus,
    ProjectMember,
    ProjectMilestone,
    ProjectStatus,
)

# Roles that do not make someone staff: students join as learners (by their learner record),
# sponsors' contacts, agents and brokers are outside the institution.
OUTSIDE_ROLES = (
    SystemRole.SPONSOR_CONTACT,
    SystemRole.AGENT,
    SystemRole.BROKER,
    SystemRole.STUDENT,
)
PERSON_SEARCH_LIMIT = 20
# Projects whose milestones are expected to move on.
RUNNING_STATUSES = (ProjectStatus.APPROVED, ProjectStatus.IN_PROGRESS)


def people_who_may_join() -> QuerySet[User]:
    """People in service who are learners (a learner record), staff (any role but a student's
    or an outside contact's; custom roles are staff's) or host organisations' members."""
    staff_or_organisation = UserRole.objects.filter(user=OuterRef("pk")).filter(
        Q(role__key__isnull=True) | ~Q(role__key__in=OUTSIDE_ROLES)
    )
    return User.objects.filter(is_active=True, deleted_at__isnull=True).filter(
        Exists(Learner.objects.filter(user=OuterRef("pk"))) | Exists(staff_or_organisation)
    )


def people_found(query: str) -> list[User]:
    """At most PERSON_SEARCH_LIMIT people who may join, by name or e-mail (nobody for an empty
    query: the list is never everyone)."""
    words = query.split()
    if not words:
        return []
    people = people_who_may_join()
    for word in words:
        people = people.filter(Q(full_name__icontains=word) | Q(email__icontains=word))
    return list(people.order_by("full_name", "email")[:PERSON_SEARCH_LIMIT])


def project_members(project: InnovationProject) -> list[ProjectMember]:
    """Everyone who is or was on the project, current first (by role), with their person."""
    return list(project.members.select_related("user"))


def current_leader(project: InnovationProject) -> ProjectMember | None:
    return (
        project.members.filter(role=MemberRole.LEADER, left_date__isnull=True)
        .select_related("user")
        .first()
    )


def project_timeline(project: InnovationProject) -> list[ProjectMilestone]:
    """The project's milestones by due date, with their evidence files."""
    return list(
        project.milestones.prefetch_related(
            Prefetch("evidence", queryset=MilestoneEvidence.objects.order_by("uploaded_at", "pk"))
        )
    )


def milestones_overdue(today: datetime.date) -> QuerySet[ProjectMilestone]:
    """Not done, due before `today`, on a project that is approved or running."""
    return ProjectMilestone.objects.filter(
        status__in=[MilestoneStatus.PENDING, MilestoneStatus.IN_PROGRESS],
        due_date__lt=today,
        project__status__in=RUNNING_STATUSES,
    )


def milestones_delay_unreported() -> QuerySet[ProjectMilestone]:
    """Delayed milestones of running projects whose missed due date nobody was told of yet."""
    return ProjectMilestone.objects.filter(
        status=MilestoneStatus.DELAYED, project__status__in=RUNNING_STATUSES
    ).filter(Q(delay_notified_for__isnull=True) | ~Q(delay_notified_for=F("due_date")))
