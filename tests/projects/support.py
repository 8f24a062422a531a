"""Innovation projects' test world: a programme with a running cohort, two learners with
accounts in it (students, with learner records), an admin who manages projects, two trainers
who review, and an organisation member who may mentor. Projects are written directly (test
setup, not the services), so that lists of hundreds are quick to make."""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from academics.models import Programme
from accounts.models import Role, SystemRole, User, UserRole
from cohorts.models import Cohort
from learners.models import Learner
from projects.models import (
    InnovationProject,
    MemberRole,
    ProjectMember,
    ProjectMilestone,
    ProjectStatus,
    ReviewCriterion,
    ReviewPanel,
)
from tests.factories import CohortFactory, ProgrammeFactory, UserFactory

_tag = iter(range(1, 1_000_000))


def learner_user(**fields) -> User:
    """A student with a learner record (and so a learner who may propose projects)."""
    tag = next(_tag)
    user: User = UserFactory(
        roles=[SystemRole.STUDENT],
        email=fields.pop("email", f"project-learner{tag}@example.org"),
        full_name=fields.pop("full_name", f"Thandi Learner {tag}"),
    )
    first, _, last = user.full_name.partition(" ")
    Learner.objects.create(
        user=user, first_name=first, last_name=last or "Learner", email=user.email
    )
    return user


@dataclass
class ProjectWorld:
    admin: User
    programme: Programme
    cohort: Cohort
    learner: User
    other_learner: User
    reviewers: list[User]
    organisation_member: User
    criteria: list[ReviewCriterion] = field(default_factory=list)

    def project(
        self,
        *,
        leader: User | None = None,
        status: str = ProjectStatus.DRAFT,
        title: str = "Solar kiosks for taxi ranks",
        round: int | None = None,
        **fields,
    ) -> InnovationProject:
        """A project of the world's programme and cohort, in `status`, led by `leader` (the
        world's learner unless given), who proposed it."""
        leader = leader or self.learner
        submitted = status != ProjectStatus.DRAFT
        project = InnovationProject(
            title=title,
            kind=fields.pop("kind", "venture"),
            description=fields.pop("description", "Phone charging where commuters wait."),
            problem_statement=fields.pop("problem_statement", "Commuters' phones run flat."),
            objectives=fields.pop("objectives", "Build and run two kiosks."),
            expected_outcomes=fields.pop("expected_outcomes", "Fifty charges a day."),
            programme=fields.pop("programme", self.programme),
            cohort=fields.pop("cohort", self.cohort),
            round=round if round is not None else (1 if submitted else 0),
            created_by=leader,
            **fields,
        )
        # Test setup: the status is written as it would stand, without the transitions.
        project.__dict__["status"] = status
        project.save()
        ProjectMember.objects.create(
            project=project,
            user=leader,
            role=MemberRole.LEADER,
            joined_date=timezone.localdate() - datetime.timedelta(days=30),
        )
        return project

    def milestone(
        self, project: InnovationProject, *, due_date: datetime.date, **fields
    ) -> ProjectMilestone:
        milestone = ProjectMilestone(
            project=project,
            title=fields.pop("title", "Prototype built"),
            due_date=due_date,
            **fields,
        )
        if "status" in fields:
            milestone.__dict__["status"] = fields["status"]
        milestone.save()
        return milestone


def project_world(admin: User) -> ProjectWorld:
    """The world, in the current institution (switch to it first)."""
    programme = ProgrammeFactory(name="Business Practice NQF 4")
    cohort = CohortFactory(name="Business Practice 2027", programme=programme, active=True)
    reviewers = [
        UserFactory(roles=[SystemRole.TRAINER], full_name="Rami Reviewer"),
        UserFactory(roles=[SystemRole.TRAINER], full_name="Sipho Scorer"),
    ]
    panel = ReviewPanel.objects.create(programme=programme)
    panel.reviewers.set(reviewers)
    criteria = [
        ReviewCriterion.objects.create(name="Problem and need", max_score=5, position=1),
        ReviewCriterion.objects.create(name="Feasibility", max_score=5, position=2),
        ReviewCriterion.objects.create(name="Impact", max_score=10, position=3),
    ]
    organisation_member = UserFactory(
        roles=[SystemRole.ORGANISATION_MEMBER], full_name="Olga Organisation"
    )
    return ProjectWorld(
        admin=admin,
        programme=programme,
        cohort=cohort,
        learner=learner_user(full_name="Thandi Nkosi"),
        other_learner=learner_user(full_name="Pieter Other"),
        reviewers=reviewers,
        organisation_member=organisation_member,
        criteria=criteria,
    )


def role_give(user: User, key: str) -> None:
    """Add a system role to `user` (a test's setting)."""
    UserRole.objects.create(user=user, role=Role.objects.get(key=key))
    user.__dict__.pop("permission_codes", None)
