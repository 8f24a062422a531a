"""Learner page fixtures: students enrolled through the enrolment service (tests.enrolments),
learners registered by an admin, and staff of each kind."""

from collections.abc import Callable

import pytest

from accounts.models import SystemRole, User
from accounts.services import role_create
from learners.models import Learner
from learners.services import learner_create
from tests.enrolments.conftest import _media, enrol  # noqa: F401 (fixtures)
from tests.factories import UserFactory
from tests.learners.support import details_of, sa_id_number


@pytest.fixture
def register(admin) -> Callable[..., Learner]:
    """Register a learner as an admin does on the learner form (no account), with an ID number
    of their own unless one is given."""
    serials = iter(range(9000, 10_000))

    def make(first_name: str = "Thandi", last_name: str = "Mokoena", email: str = "", **details):
        details.setdefault("id_number", sa_id_number(next(serials)))
        return learner_create(
            actor=admin,
            names={"first_name": first_name, "last_name": last_name, "email": email},
            details=details_of(**details),
        )

    return make


@pytest.fixture
def verifier(institution) -> User:
    return UserFactory(roles=[SystemRole.VERIFIER], full_name="Vusi Verifier")


@pytest.fixture
def student(institution) -> User:
    return UserFactory(roles=[SystemRole.STUDENT], full_name="Sipho Student")


@pytest.fixture
def records_clerk(super_admin) -> User:
    """Someone whose role lets them see learners and, audited, their numbers, but not change
    them."""
    role = role_create(
        actor=super_admin,
        name="Records desk",
        description="",
        permission_codes=["learners.view_learners", "learners.view_national_id"],
    )
    return UserFactory(roles=[role], full_name="Rika Records")


@pytest.fixture
def learner_reader(super_admin) -> User:
    """Someone whose role lets them see learners but not their full numbers."""
    role = role_create(
        actor=super_admin,
        name="Learner desk",
        description="",
        permission_codes=["learners.view_learners"],
    )
    return UserFactory(roles=[role], full_name="Rea Reader")
