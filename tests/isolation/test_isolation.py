"""Institutions cannot see each other: sessions, cache, background tasks and files are all
scoped to the institution's schema. Real PostgreSQL, Redis and a real Celery worker."""

import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django_tenants.utils import schema_context, tenant_context

from notifications.models import OutboundEmail
from notifications.services import email_enqueue
from tenants.models import Institution
from tenants.services import institution_provision
from tests.factories import UserFactory
from tests.notifications.support import wait_for

# --- Sessions --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_session_cookie_of_one_institution_does_not_sign_in_at_another(
    institution, other_institution, client_for
):
    connection.set_tenant(institution)
    user = UserFactory()
    alpha = client_for(institution)
    alpha.force_login(user)
    session_key = alpha.cookies[django_settings.SESSION_COOKIE_NAME].value
    # The cookie works where it was issued ...
    assert alpha.get("/").status_code == 200

    # ... but not on the other institution's host: its schema has no such session.
    beta = client_for(other_institution)
    beta.cookies[django_settings.SESSION_COOKIE_NAME] = session_key
    response = beta.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    with tenant_context(other_institution):
        assert not Session.objects.filter(session_key=session_key).exists()
    with tenant_context(institution):
        assert Session.objects.filter(session_key=session_key).exists()


# --- Cache -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cache_entries_are_not_shared_between_institutions(institution, other_institution):
    key = f"isolation-{uuid.uuid4().hex}"
    with tenant_context(institution):
        cache.set(key, "alpha's secret", 60)
    try:
        with tenant_context(other_institution):
            assert cache.get(key) is None
            cache.set(key, "beta's own", 60)
        with tenant_context(institution):
            assert cache.get(key) == "alpha's secret"

        raw = redis.Redis.from_url(django_settings.REDIS_URL)
        stored = sorted(name.decode() for name in raw.scan_iter(match=f"*{key}"))
        prefix = django_settings.CACHES["default"]["KEY_PREFIX"]
        assert stored == [
            f"{institution.schema_name}:{prefix}:1:{key}",
            f"{other_institution.schema_name}:{prefix}:1:{key}",
        ]
    finally:
        for tenant in (institution, other_institution):
            with tenant_context(tenant):
                cache.delete(key)


# --- Celery ------------------------------------------------------------------------------------


def test_a_task_queued_in_one_institution_runs_in_that_institutions_schema(celery_worker):
    alpha = Institution.objects.get(code="alpha")
    beta = Institution.objects.get(code="beta")
    recipient = f"isolation-{uuid.uuid4().hex[:12]}@example.org"

    with tenant_context(alpha), transaction.atomic():
        email = email_enqueue(
            recipient=recipient,
            template="invitation",
            context={"full_name": "Iso Lation", "accept_url": "https://x.example/accept"},
        )

    def delivered():
        """the e-mail to be sent by the worker"""
        with tenant_context(alpha):
            sent = OutboundEmail.objects.filter(
                pk=email.pk, recipient=recipient, status=OutboundEmail.Status.SENT
            ).exists()
        return sent and [message for message in mail.outbox if message.to == [recipient]]

    messages = wait_for(delivered)

    assert len(messages) == 1
    # The worker rendered it with connection.tenant set to alpha: alpha's name and colour.
    body = messages[0].body
    html = messages[0].alternatives[0][0]
    assert "Alpha College" in body
    assert "Alpha College" in html
    assert alpha.brand_colour in html
    assert "Beta Academy" not in body + html
    with tenant_context(beta):
        assert not OutboundEmail.objects.filter(recipient=recipient).exists()
    with schema_context("public"):
        assert not OutboundEmail.objects.filter(recipient=recipient).exists()
    with tenant_context(alpha):
        assert OutboundEmail.objects.get(pk=email.pk).attempts == 1


# --- Files -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_files_are_stored_under_the_schema_name(institution, other_institution, media):
    name = f"isolation/{uuid.uuid4().hex}.txt"
    saved = {}
    try:
        for tenant in (institution, other_institution):
            with tenant_context(tenant):
                saved[tenant.schema_name] = default_storage.save(
                    name, ContentFile(f"belongs to {tenant.name}".encode())
                )
        paths = {}
        for tenant in (institution, other_institution):
            with tenant_context(tenant):
                paths[tenant.schema_name] = Path(default_storage.path(saved[tenant.schema_name]))
                with default_storage.open(saved[tenant.schema_name]) as stored:
                    assert stored.read() == f"belongs to {tenant.name}".encode()

        alpha_path = paths[institution.schema_name]
        beta_path = paths[other_institution.schema_name]
        assert alpha_path != beta_path
        assert alpha_path.is_relative_to(media / institution.schema_name)
        assert beta_path.is_relative_to(media / other_institution.schema_name)
        assert alpha_path.read_text() == "belongs to Alpha College"
        assert beta_path.read_text() == "belongs to Beta Academy"

        only_alpha = f"isolation/{uuid.uuid4().hex}.txt"
        with tenant_context(institution):
            saved["only-alpha"] = default_storage.save(only_alpha, ContentFile(b"x"))
        with tenant_context(other_institution):
            assert not default_storage.exists(saved["only-alpha"])
    finally:
        for tenant in (institution, other_institution):
            with tenant_context(tenant):
                for stored_name in saved.values():
                    default_storage.delete(stored_name)
    assert not any(path.is_file() for path in media.rglob("*"))


def test_an_email_queued_in_an_institution_inside_a_platform_transaction_runs_there(
    celery_worker,
):
    """Provisioning queues the invitation inside the new institution's schema but commits after
    switching back to the platform's: the task must still carry the institution's schema."""
    code = f"iso{uuid.uuid4().hex[:8]}"
    recipient = f"founder-{code}@example.org"

    institution = institution_provision(name=f"Isolation {code}", code=code, admin_email=recipient)
    assert connection.schema_name == "public"

    def delivered():
        """the new institution's invitation to be sent by the worker"""
        return [message for message in mail.outbox if message.to == [recipient]]

    (message,) = wait_for(delivered)
    assert f"Isolation {code}" in message.subject
    assert "/accounts/invitation/" in message.body

    def marked_sent():
        """the worker to record the invitation as sent, in the new institution's schema"""
        with tenant_context(institution):
            return OutboundEmail.objects.filter(
                recipient=recipient, status=OutboundEmail.Status.SENT
            ).exists()

    wait_for(marked_sent)
    for schema in ("public", "inst_alpha", "inst_beta"):
        with schema_context(schema):
            assert not OutboundEmail.objects.filter(recipient=recipient).exists()
