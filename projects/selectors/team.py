"""Reads for a project's team and milestones: who may be added to a team, the members and the
timeline of one project, and the milestones the daily task looks at."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet

from accounts.models import SystemRole, User, UserRole
from enrolments.models import CohortEnrollment, EnrollmentState
from learners.models import Learner
from projects.access import is_manager
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
# A manager searches everyone who may join, by name or e-mail.
MANAGER_SEARCH_LIMIT = 20
# A leader searches only their own circle, by name, with a few letters at least, and sees a
# short list: the search is not a way to list the institution's people.
LEADER_SEARCH_LIMIT = 10
LEADER_SEARCH_MIN_LENGTH = 3
# Projects whose milestones are expected to move on.
RUNNING_STATUSES = (ProjectStatus.APPROVED, ProjectStatus.IN_PROGRESS)


def _staff_or_organisation() -> Exists:
    """Has a role that makes them staff (any but a student's or an outside contact's; custom
    roles are staff's) or a host organisation's member."""
    return Exists(
        UserRole.objects.filter(user=OuterRef("pk")).filter(
            Q(role__key__isnull=True) | ~Q(role__key__in=OUTSIDE_ROLES)
        )
    )


def _in_service() -> QuerySet[User]:
    return User.objects.filter(is_active=True, deleted_at__isnull=True)


def people_who_may_join() -> QuerySet[User]:
    """People in service who are learners (a learner record), staff or host organisations'
    members."""
    return _in_service().filter(
        Exists(Learner.objects.filter(user=OuterRef("pk"))) | _staff_or_organisation()
    )


def _team_cohort_ids(project: InnovationProject) -> QuerySet[CohortEnrollment, int]:
    """The project's cohort, or the cohorts its current leader is enrolled in when it has none."""
    enrolled = CohortEnrollment.objects.exclude(state=EnrollmentState.WITHDRAWN)
    if project.cohort_id is not None:
        enrolled = enrolled.filter(cohort_id=project.cohort_id)
    else:
        enrolled = enrolled.filter(
            learner__user__in=project.members.filter(
                role=MemberRole.LEADER, left_date__isnull=True
            ).values("user_id")
        )
    return enrolled.values_list("cohort_id", flat=True)


def people_one_may_add(actor: User, project: InnovationProject) -> QuerySet[User]:
    """Whom `actor` may add to `project`'s team or hand its lead to: a manager, anyone who may
    join; the leader, the learners of the project's cohort (of their own cohorts when it has
    none), staff and host organisations' members."""
    if is_manager(actor):
        return people_who_may_join()
    in_cohort = CohortEnrollment.objects.filter(
        learner__user=OuterRef("pk"), cohort_id__in=_team_cohort_ids(project)
    ).exclude(state=EnrollmentState.WITHDRAWN)
    return _in_service().filter(Exists(in_cohort) | _staff_or_organisation())


@dataclass(frozen=True)
class FoundPerson:
    """A search result: whom to choose and what they are. `email` is only a manager's to see."""

    pk: int
    name: str
    kind: str
    email: str


def _kind(person: Any) -> str:
    if person.is_learner:
        return "learner"
    return "host organisation" if person.is_organisation else "staff"


def people_found(query: str, *, actor: User, project: InnovationProject) -> list[FoundPerson]:
    """The first people `actor` may add whose name (or, for a manager, e-mail) holds every word
    of `query`. Nobody for an empty or, for a leader, too short query: the list is never
    everyone."""
    words = query.split()
    manager = is_manager(actor)
    if not words or (not manager and len(query.strip()) < LEADER_SEARCH_MIN_LENGTH):
        return []
    people = people_one_may_add(actor, project).annotate(
        is_learner=Exists(Learner.objects.filter(user=OuterRef("pk"))),
        is_organisation=Exists(
            UserRole.objects.filter(user=OuterRef("pk"), role__key=SystemRole.ORGANISATION_MEMBER)
        ),
    )
    for word in words:
        matches = Q(full_name__icontains=word)
        if manager:
            matches |= Q(email__icontains=word)
        people = people.filter(matches)
    limit = MANAGER_SEARCH_LIMIT if manager else LEADER_SEARCH_LIMIT
    return [
        FoundPerson(
            pk=person.pk,
            # A leader finds people by name only, so theirs always have one.
            name=person.full_name or person.email,
            kind=_kind(person),
            email=person.email if manager else "",
        )
        for person in people.order_by("full_name", "email")[:limit]
    ]


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
