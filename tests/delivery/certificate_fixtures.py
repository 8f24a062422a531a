"""Learners who finished a programme of two courses, as the certificate tests need them: the
programme outcome and the course grades are written directly (recording them is the results
area's work)."""

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest

from delivery.models import CourseEnrollmentStatus, CourseRun
from enrolments.models import CohortEnrollment, ProgrammeOutcome
from enrolments.services import enrollment_invite
from tests.factories import (
    PASSWORD,
    CohortFactory,
    CourseEnrollmentFactory,
    CourseFactory,
    CourseRunFactory,
    ProgrammeFactory,
)


@pytest.fixture(autouse=True)
def _media(media):
    """Certificates land in a directory of the test's own."""
    return media


@pytest.fixture
def programme_runs(institution) -> Callable[..., list[CourseRun]]:
    """A cohort (a fresh active one by default) with runs of a two-course programme."""

    def make(cohort=None) -> list[CourseRun]:
        cohort = cohort or CohortFactory(active=True)
        programme = ProgrammeFactory(name="Business Administration NQF 4", nqf_level=4)
        cohort.programme = programme
        cohort.save(update_fields=["programme"])
        first = CourseFactory(programme=programme, code="BA401", name="Business communication")
        second = CourseFactory(programme=programme, code="BA402", name="Office administration")
        return [
            CourseRunFactory(cohort=cohort, course=first),
            CourseRunFactory(cohort=cohort, course=second, trainer=None),
        ]

    return make


@pytest.fixture
def graduate(admin, programme_runs) -> Callable[..., CohortEnrollment]:
    """A learner enrolled through the services, with results in each of the cohort's runs and
    their programme outcome recorded (completed by default)."""
    counter = iter(range(1, 100_000))

    def make(
        runs: list[CourseRun] | None = None,
        *,
        outcome: str = ProgrammeOutcome.COMPLETED,
        full_name: str = "Thandi Mokoena",
        email: str = "",
    ) -> CohortEnrollment:
        runs = runs or programme_runs()
        enrollment = enrollment_invite(
            cohort=runs[0].cohort,
            actor=admin,
            email=email or f"graduate{next(counter)}@example.org",
            full_name=full_name,
        )
        user = enrollment.user
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
        passed = outcome == ProgrammeOutcome.COMPLETED
        for number, run in enumerate(runs):
            CourseEnrollmentFactory(
                enrollment=enrollment,
                course_run=run,
                status=CourseEnrollmentStatus.COMPLETED
                if passed or number == 0
                else CourseEnrollmentStatus.ENROLLED,
                score=Decimal("78.00") if passed or number == 0 else Decimal("41.00"),
                grade="B" if passed or number == 0 else "F",
                grade_points=Decimal("3.00") if passed or number == 0 else Decimal("0.00"),
            )
        enrollment.programme_outcome = outcome
        enrollment.completion_date = datetime.date(2027, 11, 26)
        enrollment.save(update_fields=["programme_outcome", "completion_date"])
        return enrollment

    return make
