import pytest

from tests.factories import CohortFactory


@pytest.fixture(autouse=True)
def private_media(media):
    """Uploaded files go to a temporary directory, not the development media folder."""


@pytest.fixture
def cohort(institution):
    return CohortFactory()
