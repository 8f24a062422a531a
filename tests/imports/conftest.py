import pytest

from accounts.models import Role
from tests.factories import CohortFactory, UserFactory


@pytest.fixture(autouse=True)
def private_media(media):
    """Uploaded files go to a temporary directory, not the development media folder."""


@pytest.fixture
def admin(institution):
    return UserFactory(roles=[Role.ADMIN])


@pytest.fixture
def cohort(institution):
    return CohortFactory()
