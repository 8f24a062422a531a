"""Fixtures of the attendance tests: a trainer's course run with a month behind and ahead of
it, its sessions and four learners."""

import datetime
from collections.abc import Callable

import pytest
from django.utils import timezone

from delivery.models import CourseEnrollment, CourseRun, Session, Trainer
from tests.delivery.attendance.support import learners_enrol
from tests.factories import CourseRunFactory, SessionFactory, TrainerFactory


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
