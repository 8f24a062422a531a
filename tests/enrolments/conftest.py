"""Enrolments fixtures: a cohort admin, and students enrolled through enrollment_invite who have
set a password (as after accepting the invitation)."""

from collections.abc import Callable
from pathlib import Path

import pytest

from accounts.models import Role, User
from enrolments.models import CohortEnrollment
from enrolments.services import enrollment_invite
from tests.factories import PASSWORD, CohortFactory, UserFactory


@pytest.fixture(autouse=True)
def _media(media) -> Path:
    """Uploads land in a directory of the test's own, so that "nothing stored" can be checked."""
    return media


@pytest.fixture
def media_files(_media, institution) -> Callable[[], list]:
    """Every file stored under the institution's prefix."""

    def files() -> list:
        root = _media / institution.schema_name
        return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []

    return files


@pytest.fixture
def cohort_admin(institution) -> User:
    return UserFactory(roles=[Role.ADMIN], full_name="Ada Admin")


@pytest.fixture
def enrol(institution, cohort_admin) -> Callable[..., CohortEnrollment]:
    """Enrol a new student in a cohort (a fresh one by default); they have set their password."""
    counter = iter(range(1, 10_000))

    def make(cohort=None, email: str | None = None, full_name: str = "Sipho Student", **kwargs):
        enrollment = enrollment_invite(
            cohort=cohort or CohortFactory(),
            actor=cohort_admin,
            email=email or f"student{next(counter)}@example.org",
            full_name=full_name,
            **kwargs,
        )
        student = enrollment.user
        student.set_password(PASSWORD)
        student.save(update_fields=["password"])
        return enrollment

    return make
