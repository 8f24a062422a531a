"""Fixtures of the attendance tests: a course run whose learners are set up in bulk (as a
large cohort would be; the set-up is not what is tested), a session held today, and the
register's marks."""

import datetime
from collections.abc import Callable

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import Role, SystemRole, User, UserRole
from delivery.models import CourseEnrollment, CourseRun, Session, Trainer
from delivery.services.attendance import Mark
from enrolments.models import CohortEnrollment
from learners.models import Learner
from tests.factories import CourseRunFactory, SessionFactory, TrainerFactory


def learners_enrol(run: CourseRun, count: int, *, start: int = 0) -> list[CourseEnrollment]:
    """`count` learners with accounts (the student role) enrolled in `run`'s cohort and in
    `run`, surnames in alphabetical order ("Learner0000", ...)."""
    unusable = make_password(None)
    users = User.objects.bulk_create(
        User(
            email=f"learner{index}@run{run.pk}.example",
            full_name=f"Thandi Learner{index:04d}",
            password=unusable,
        )
        for index in range(start, start + count)
    )
    student = Role.objects.get(key=SystemRole.STUDENT)
    UserRole.objects.bulk_create(UserRole(user=user, role=student) for user in users)
    learners = Learner.objects.bulk_create(
        Learner(
            user=user,
            first_name="Thandi",
            last_name=user.full_name.split()[-1],
            email=user.email,
        )
        for user in users
    )
    enrollments = CohortEnrollment.objects.bulk_create(
        CohortEnrollment(cohort=run.cohort, user=user, learner=learner)
        for user, learner in zip(users, learners, strict=True)
    )
    return CourseEnrollment.objects.bulk_create(
        CourseEnrollment(
            enrollment=enrollment,
            course=run.course,
            course_run=run,
            enrollment_date=run.start_date,
        )
        for enrollment in enrollments
    )


def session_today(run: CourseRun, hour: int) -> Session:
    """A session of `run` today, from `hour` for 50 minutes."""
    return SessionFactory(
        course_run=run,
        session_date=timezone.localdate(),
        start_time=datetime.time(hour, 0),
        end_time=datetime.time(hour, 50),
    )


def all_marked(enrolments: list[CourseEnrollment], status: str = "present") -> dict[int, Mark]:
    return {enrolment.pk: Mark(status=status) for enrolment in enrolments}


@pytest.fixture
def trainer(institution) -> Trainer:
    return TrainerFactory(user__full_name="Tumi Trainer")


@pytest.fixture
def run(trainer) -> CourseRun:
    """A run of a course that started a month ago and ends in a month, taught by `trainer`."""
    today = timezone.localdate()
    return CourseRunFactory(
        trainer=trainer,
        start_date=today - datetime.timedelta(days=30),
        end_date=today + datetime.timedelta(days=30),
        title="Business communication",
    )


@pytest.fixture
def session_on(run) -> Callable[..., Session]:
    """A session of `run`, `days` from today (0: today; negative: past)."""
    hour = iter(range(6, 22))

    def make(days: int = 0, **fields) -> Session:
        start = next(hour)
        return SessionFactory(
            course_run=run,
            session_date=timezone.localdate() + datetime.timedelta(days=days),
            start_time=datetime.time(start, 0),
            end_time=datetime.time(start, 50),
            **fields,
        )

    return make


@pytest.fixture
def session(session_on) -> Session:
    return session_on(0)


@pytest.fixture
def learners(run) -> list[CourseEnrollment]:
    """Four learners in `run`."""
    return learners_enrol(run, 4)
