"""Browser tests: Playwright drives Debian's Chromium against the live server (DESIGN:
development and tests). The platform answers on localhost:<port>, an institution on
<code>.localhost:<port>; e-mail goes through the outbox and a real Celery worker thread."""

import io
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import redis
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connections
from django_tenants.utils import tenant_context

from accounts.models import SystemRole, User
from tenants.models import Institution
from tenants.services import institution_provision
from tests.browser.support import PASSWORD


@dataclass(frozen=True)
class Site:
    port: int

    def platform(self, path: str = "/") -> str:
        return f"http://{django_settings.PLATFORM_DOMAIN}:{self.port}{path}"

    def institution(self, code: str, path: str = "/") -> str:
        return f"http://{code}.{django_settings.PLATFORM_DOMAIN}:{self.port}{path}"


@pytest.fixture
def site(committed_db, live_server_port, settings) -> Iterator[Site]:
    """URLs on the live server; links in e-mails point at it too. The test's own database
    connection is closed afterwards: left open, it would stop the test database being dropped."""
    settings.PLATFORM_PORT = str(live_server_port)
    yield Site(port=live_server_port)
    connections.close_all()


@pytest.fixture
def unique() -> str:
    """A suffix for codes and addresses: the committed database keeps every test's rows."""
    return secrets.token_hex(4)


@pytest.fixture
def operator(committed_db, unique) -> User:
    email = f"operator-{unique}@cohortly.example"
    call_command("create_operator", email=email, password=PASSWORD, stdout=io.StringIO())
    return User.objects.get(email=email)


@pytest.fixture
def make_institution(committed_db, unique) -> Callable[..., Institution]:
    """Provision an institution of the test's own, for tests that change its state."""

    def make(prefix: str = "inst") -> Institution:
        code = f"{prefix}-{unique}"
        return institution_provision(
            name=f"{prefix.title()} Institute {unique}",
            code=code,
            admin_email=f"head@{code}.example",
        )

    return make


@pytest.fixture
def make_person(committed_db, unique) -> Callable[..., User]:
    """A person who has accepted their invitation and signs in with PASSWORD."""

    def make(institution: Institution, *roles: str, name: str = "Pat Example") -> User:
        with tenant_context(institution):
            return User.objects.create_user(
                email=f"{name.split()[0].lower()}-{unique}@{institution.code}.example",
                password=PASSWORD,
                full_name=name,
                roles=list(roles or [SystemRole.ADMIN]),
            )

    return make


@pytest.fixture
def ratelimit_reset(committed_db):
    """Forget this process's per-address request counts (django-ratelimit's `rl:` cache keys):
    every browser request comes from 127.0.0.1, so other tests' requests count against ours."""
    prefix = django_settings.CACHES["default"].get("KEY_PREFIX", "")
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    for key in client.scan_iter(match=f"*{prefix}*:rl:*"):
        client.delete(key)
