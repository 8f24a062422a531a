import pytest
from django.db import connection

from tests.notifications.support import worker_on_every_queue


@pytest.fixture
def celery_worker(committed_db):
    """Overrides the suite-wide worker, which consumes the default queue only (see support)."""
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail(
            "No test database was set up (no django_db test was selected): refusing to commit "
            f"to {connection.settings_dict['NAME']!r}."
        )
    with worker_on_every_queue() as worker:
        yield worker
