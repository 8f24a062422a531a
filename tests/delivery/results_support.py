"""Course runs with learners for the results tests: learners, their accounts, cohort
enrolments and course enrolments written in bulk (test setup, not the enrolment services), so
that a run of 200 learners is quick to make."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from accounts.models import Role, SystemRole, User, UserRole
from delivery.models import CourseEnrollment, CourseRun
from enrolments.models import CohortEnrollment, EnrollmentState
from learners.models import Learner
from tests.factories import CourseRunFactory, UserFactory


@dataclass
class RunWithLearners:
    run: CourseRun
    enrolments: list[CourseEnrollment]

    @property
    def trainer(self) -> User:
        assert self.run.trainer is not None
        return self.run.trainer.user


def learners_enrol(run: CourseRun, count: int, *, start: int = 0) -> list[CourseEnrollment]:
    """`count` learners (with student accounts) in `run`'s cohort and in `run`."""
    student = Role.objects.get(key=SystemRole.STUDENT)
    tag = f"{run.pk}-{start}"
    users = User.objects.bulk_create(
        User(email=f"learner{tag}-{n}@example.org", full_name=f"Learner {n:03}")
        for n in range(count)
    )
    UserRole.objects.bulk_create(UserRole(user=user, role=student) for user in users)
    learners = Learner.objects.bulk_create(
        Learner(user=user, first_name="Learner", last_name=f"{start + n:03}", email=user.email)
        for n, user in enumerate(users)
    )
    enrollments = CohortEnrollment.objects.bulk_create(
        CohortEnrollment(
            cohort=run.cohort, user=user, learner=learner, state=EnrollmentState.IN_PROGRESS
        )
        for user, learner in zip(users, learners, strict=True)
    )
    return CourseEnrollment.objects.bulk_create(
        CourseEnrollment(
            enrollment=enrollment,
            course=run.course,
            academic_session=run.academic_session,
            course_run=run,
            enrollment_date=run.start_date,
        )
        for enrollment in enrollments
    )


@pytest.fixture
def run_with(institution) -> Callable[..., RunWithLearners]:
    """A run of a fresh active cohort with `learners` learners and a trainer."""

    def make(learners: int = 3, **fields) -> RunWithLearners:
        run = CourseRunFactory(**fields)
        return RunWithLearners(run=run, enrolments=learners_enrol(run, learners))

    return make


@pytest.fixture
def moderator(institution) -> User:
    return UserFactory(roles=[SystemRole.MODERATOR], full_name="Mo Moderator")
