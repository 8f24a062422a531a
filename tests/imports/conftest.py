import pytest
from django.conf import settings as django_settings
from django.db import connection, connections

from accounts.models import Role
from tests.factories import CohortFactory, UserFactory


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Uploaded files go to a temporary directory, not the development media folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def admin(institution):
    return UserFactory(roles=[Role.ADMIN])


@pytest.fixture
def cohort(institution):
    return CohortFactory()


def _close_connections(**kwargs) -> None:
    connections.close_all()


@pytest.fixture
def celery_worker(committed_db):
    """A worker thread consuming every queue the app routes to (imports run on the default
    queue, their e-mails on `notifications`), started on empty queues so that nothing queued
    by earlier tests runs here."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    from config.celery import app

    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail(
            "No test database was set up (no django_db test was selected): refusing to commit "
            f"to {connection.settings_dict['NAME']!r}."
        )
    routed = {route["queue"] for route in django_settings.CELERY_TASK_ROUTES.values()}
    queues = sorted({django_settings.CELERY_TASK_DEFAULT_QUEUE, *routed})
    with app.connection_for_write() as broker:
        for queue in queues:
            broker.default_channel.queue_purge(queue)
    # As a real worker does: close the thread's database connection after each task, or it
    # outlives the thread and blocks dropping the test database.
    task_postrun.connect(_close_connections, weak=False)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=queues
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_connections)
