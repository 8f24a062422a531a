"""Tenant fixtures: one migrated template, the platform row and two institutions, created once
per test session (DESIGN: tests); each test then runs inside one of them and is rolled back."""

import os
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery.signals import task_postrun
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, expect

from accounts.models import SystemRole, User
from cohorts.models import Cohort
from cohorts.services import cohort_activate, cohort_record_admin_signature
from config.celery import app
from tenants.models import Institution
from tenants.services import institution_domain, institution_provision
from tests.browser.support import DESKTOP, AccessibilityAudit
from tests.factories import CohortFactory, UserFactory
from tests.processes import own_redis  # noqa: F401 (a fixture for every folder)

# Playwright's sync API runs an event loop in the test thread; Django's ORM must still work there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last (in each xdist worker too, which runs its share in this order):
    once Playwright's sync API has started, its event loop stays marked as running in the test
    thread, and code that calls asyncio.run there (pyHanko, sealing an agreement) refuses."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def _institution(code: str, name: str) -> Institution:
    existing = Institution.objects.filter(code=code).first()
    return existing or institution_provision(
        name=name, code=code, admin_email=f"founder@{code}.example", admin_name=f"{name} Founder"
    )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, django_db_keepdb, django_db_createdb):
    from django.test.utils import setup_databases, teardown_databases

    created = None
    with django_db_blocker.unblock():
        if not connection.settings_dict["NAME"].startswith("test_"):
            # pytest-django creates the test database only if a collected test is marked for
            # it; a run of committed_db tests alone (tests/browser) has none, so create it here.
            keepdb = django_db_keepdb and not django_db_createdb
            created = setup_databases(
                verbosity=0, interactive=False, aliases={"default"}, keepdb=keepdb
            )
        if not connection.settings_dict["NAME"].startswith("test_"):
            pytest.fail(
                f"No test database: refusing to set up {connection.settings_dict['NAME']!r}"
            )
        call_command("migrate_platform", verbosity=0)
        _institution("alpha", "Alpha College")
        _institution("beta", "Beta Academy")
        connection.set_schema_to_public()
    yield
    if created and not django_db_keepdb:
        with django_db_blocker.unblock():
            try:
                teardown_databases(created, verbosity=0)
            except Exception as error:  # as pytest-django does: a warning, not a failed test
                warnings.warn(f"The test database was not dropped: {error!r}", stacklevel=1)


@pytest.fixture
def scratch_schema(institution) -> Iterator[str]:
    """A new, empty schema made current for a migration's test (tests.migrating), gone with
    the test's transaction when it rolls back."""
    name = f"scratch_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{name}"')
    connection.set_schema(name)
    yield name
    connection.set_tenant(institution)


@pytest.fixture
def institution(db) -> Institution:
    """The institution a test runs in; the connection is switched to its schema."""
    institution = Institution.objects.get(code="alpha")
    connection.set_tenant(institution)
    yield institution
    connection.set_schema_to_public()


@pytest.fixture
def other_institution(db) -> Institution:
    connection.set_schema_to_public()
    return Institution.objects.get(code="beta")


@pytest.fixture
def client_for():
    """A test client addressed to an institution's host (or the platform's, for None)."""

    def make(institution: Institution | None = None) -> Client:
        host = institution_domain(institution.code) if institution else settings.PLATFORM_DOMAIN
        return Client(HTTP_HOST=host)

    return make


@pytest.fixture
def client_of(institution, client_for) -> Callable[[User], Client]:
    """A client for the institution, signed in as `user` (without the sign-in form)."""

    def make(user: User) -> Client:
        client = client_for(institution)
        client.force_login(user, backend="accounts.backends.RoleBackend")
        return client

    return make


@pytest.fixture
def admin(institution) -> User:
    """An institution admin, named as the agreement pages and e-mails show them."""
    return UserFactory(roles=[SystemRole.ADMIN], full_name="Ada Admin")


@pytest.fixture
def admin_client(client_of, admin) -> Client:
    return client_of(admin)


@pytest.fixture
def super_admin(institution) -> User:
    return UserFactory(roles=[SystemRole.SUPER_ADMIN])


@pytest.fixture
def super_admin_client(client_of, super_admin) -> Client:
    return client_of(super_admin)


@pytest.fixture
def active_cohort(admin) -> Callable[..., Cohort]:
    """Make a running cohort as an admin does: its main agreement signed and the cohort activated
    through the services (CohortFactory(active=True) only sets the fields)."""

    def make(**fields) -> Cohort:
        cohort = CohortFactory(created_by=admin, **fields)
        cohort_record_admin_signature(cohort=cohort, actor=admin, signature=admin.full_name)
        return cohort_activate(cohort=cohort, actor=admin)

    return make


@pytest.fixture
def eager(monkeypatch) -> None:
    """Tasks run in place, inside the test's transaction."""
    monkeypatch.setitem(app.conf, "task_always_eager", True)


@pytest.fixture
def media(settings, tmp_path) -> Path:
    """Uploaded files land in a directory of the test's own, not the development media folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # TenantFileSystemStorage caches its root and resets it only when this setting changes.
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
    return tmp_path / "media"


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """Database access without the per-test rollback, for data that another thread (the live
    server, a Celery worker) must see. Nothing is cleaned up: use unique codes and addresses.
    The connection is closed afterwards, or it would stop the test database being dropped."""
    with django_db_blocker.unblock():
        if not connection.settings_dict["NAME"].startswith("test_"):
            pytest.fail(f"Refusing to commit to {connection.settings_dict['NAME']!r}.")
        connection.set_schema_to_public()
        yield
        connection.set_schema_to_public()
        connections.close_all()


def _close_connections(**kwargs) -> None:
    connections.close_all()


@pytest.fixture
def celery_worker(committed_db):
    """A real Celery worker, in a thread, consuming every queue the app routes tasks to. It
    starts on an empty broker, so tasks queued by earlier tests, whose data was rolled back,
    do not run into this one."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    queues = sorted({settings.CELERY_TASK_DEFAULT_QUEUE, *routed})
    with app.connection_for_write() as broker:
        for queue in queues:
            broker.default_channel.queue_purge(queue)
    # As a real worker does (celery.fixups.django): close the thread's database connection
    # after each task, or it outlives the thread and blocks dropping the test database.
    task_postrun.connect(_close_connections, weak=False)
    try:
        with start_worker(
            app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=queues
        ) as worker:
            yield worker
    finally:
        task_postrun.disconnect(_close_connections)


# Chromium as Debian ships it: never a browser downloaded by `playwright install`.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Without motion (Bootstrap then makes no transitions), axe-core never measures a button
    # halfway between two colours.
    return {**browser_context_args, "viewport": DESKTOP, "reduced_motion": "reduce"}


@pytest.fixture
def page(django_db_setup, page: Page, browser: Browser, monkeypatch) -> Iterator[Page]:
    """Playwright's page (at DESKTOP size), which fails a test in seconds, not in 30, when a page
    does not show what it waits for. axe-core checks every page shown in it, and in any other
    browser context the test opens, for serious and critical accessibility violations."""
    page.set_default_timeout(10_000)
    expect.set_options(timeout=10_000)
    audit = AccessibilityAudit()
    audit.watch(page.context)
    new_context = browser.new_context

    def watched_context(**kwargs) -> BrowserContext:
        context = new_context(**{"reduced_motion": "reduce", **kwargs})
        audit.watch(context)
        return context

    monkeypatch.setattr(browser, "new_context", watched_context)
    audit.wrap_actions(monkeypatch)
    yield page
    audit.assert_clean()


@pytest.fixture(scope="session")
def live_server_port(django_db_setup, django_db_blocker):
    """Django served on localhost:<port> in a thread; institutions answer on
    <code>.localhost:<port>, which browsers resolve to the loopback address."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    with django_db_blocker.unblock():
        server = LiveServerThread("localhost", StaticFilesHandler, port=0)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        yield server.port
        server.terminate()
        server.join()


@pytest.fixture
def disk_of(settings, media, monkeypatch) -> Callable[[int], None]:
    """Make the application's storage a disk that holds `capacity` bytes (tests.uploads.storage:
    a write past it stops with ENOSPC, as on a full disk)."""
    from tests.uploads.storage import FullDiskStorage

    def install(capacity: int) -> None:
        monkeypatch.setattr(FullDiskStorage, "capacity", capacity)
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "tests.uploads.storage.FullDiskStorage"},
        }

    return install
