import pytest

from accounts.models import Role
from tests.factories import CohortFactory, UserFactory


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Uploaded files go to a temporary directory, not the development media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # TenantFileSystemStorage caches its root and resets it only when this setting changes.
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"


@pytest.fixture
def admin(institution):
    return UserFactory(roles=[Role.ADMIN])


@pytest.fixture
def cohort(institution):
    return CohortFactory()
