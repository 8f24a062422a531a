"""The e-mail outbox: written in the service's transaction, sent after commit by a task, exactly
once, retried on failure, swept when its task was lost. Real PostgreSQL, Redis and worker; only
the mail server is faked."""

import smtplib
import threading
import uuid
from datetime import timedelta

import pytest
from celery.signals import before_task_publish, task_prerun
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from notifications.models import OutboundEmail
from notifications.services import MAX_ATTEMPTS, email_deliver, email_enqueue, email_render
from notifications.tasks import deliver_email, sweep_outbox
from tenants.models import Institution
from tests.notifications.support import wait_for

INVITATION_CONTEXT = {
    "full_name": "Nomsa Dlamini",
    "accept_url": "https://alpha.example/accounts/invitation/abc/",
    "expires_at": "Friday",
}


class RefusingSMTPBackend(BaseEmailBackend):
    """A mail server that refuses every message (the only thing faked here)."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPException("421 service not available")


def unique_address(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}@example.org"


def messages_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


class TaskRecorder:
    """Records, through Celery's own signals, which deliver_email calls were published (in
    this thread) and which ran (in the worker)."""

    def __init__(self) -> None:
        self.published: list[int] = []
        self.ran: list[int] = []

    def _on_publish(self, sender=None, body=None, **kwargs) -> None:
        if sender == deliver_email.name:
            self.published.append(body[0][0])

    def _on_run(self, sender=None, args=None, **kwargs) -> None:
        if sender is deliver_email or getattr(sender, "name", "") == deliver_email.name:
            self.ran.append(args[0])

    def __enter__(self) -> "TaskRecorder":
        before_task_publish.connect(self._on_publish, weak=False)
        task_prerun.connect(self._on_run, weak=False)
        return self

    def __exit__(self, *exc_info) -> None:
        before_task_publish.disconnect(self._on_publish)
        task_prerun.disconnect(self._on_run)


# --- Exactly once ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_redelivered_task_sends_the_email_once(institution):
    email = email_enqueue(
        recipient=unique_address("once"), template="invitation", context=INVITATION_CONTEXT
    )

    first = deliver_email.apply(args=[email.pk])
    second = deliver_email.apply(args=[email.pk])  # the broker delivered the task again

    assert first.get() is True
    assert second.get() is False
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT
    assert email.attempts == 1
    assert email.sent_at is not None
    assert email.last_error == ""


def test_a_delivery_skips_an_email_that_another_delivery_is_sending(committed_db):
    """Two copies of the task at the same moment: the second finds the row locked and leaves
    it to the first instead of sending it too."""
    alpha = Institution.objects.get(code="alpha")
    with tenant_context(alpha), transaction.atomic():
        email = email_enqueue(
            recipient=unique_address("locked"), template="invitation", context=INVITATION_CONTEXT
        )
    locked = threading.Event()
    release = threading.Event()

    def first_delivery_in_progress():
        try:
            with tenant_context(alpha), transaction.atomic():
                OutboundEmail.objects.select_for_update().get(pk=email.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=first_delivery_in_progress)
    holder.start()
    try:
        assert locked.wait(10)
        with tenant_context(alpha):
            assert email_deliver(email_id=email.pk) is False
        assert messages_to(email.recipient) == []
    finally:
        release.set()
        holder.join(10)
    with tenant_context(alpha):
        assert email_deliver(email_id=email.pk) is True
        assert OutboundEmail.objects.get(pk=email.pk).attempts == 1
    assert len(messages_to(email.recipient)) == 1


# --- Only after commit ---------------------------------------------------------------------


def test_a_rolled_back_transaction_sends_nothing(celery_worker):
    alpha = Institution.objects.get(code="alpha")
    recipient = unique_address("rolled-back")
    marker = unique_address("marker")

    queued = []

    def service_that_fails_after_queueing():
        with transaction.atomic():
            email = email_enqueue(
                recipient=recipient, template="invitation", context=INVITATION_CONTEXT
            )
            queued.append(email)
            raise RuntimeError("the service failed after queueing its e-mail")

    with TaskRecorder() as tasks:
        with tenant_context(alpha):
            with pytest.raises(RuntimeError):
                service_that_fails_after_queueing()
            (doomed,) = queued
            assert tasks.published == []
            assert not OutboundEmail.objects.filter(recipient=recipient).exists()

            # A committed e-mail queued afterwards goes through the same queue to the same
            # single worker: once it has arrived, anything queued before it has been handled.
            with transaction.atomic():
                marker_email = email_enqueue(
                    recipient=marker, template="invitation", context=INVITATION_CONTEXT
                )
        wait_for(lambda: messages_to(marker))

    # The recorder does see tasks: the committed one was published and run.
    assert marker_email.pk in tasks.published
    assert marker_email.pk in tasks.ran
    assert doomed.pk not in tasks.published
    assert doomed.pk not in tasks.ran
    assert messages_to(recipient) == []
    with tenant_context(alpha):
        assert not OutboundEmail.objects.filter(recipient=recipient).exists()


# --- Failures and retries ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_send_is_recorded_and_raised_until_the_last_attempt_fails_for_good(
    institution, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingSMTPBackend"
    email = email_enqueue(
        recipient=unique_address("refused"), template="invitation", context=INVITATION_CONTEXT
    )

    for attempt in range(1, MAX_ATTEMPTS + 1):
        with pytest.raises(smtplib.SMTPException, match="421"):
            email_deliver(email_id=email.pk)  # raised, so that Celery retries the task
        email.refresh_from_db()
        assert email.attempts == attempt
        assert email.last_error == "SMTPException: 421 service not available"
        assert email.sent_at is None
        expected = OutboundEmail.Status.FAILED if attempt == MAX_ATTEMPTS else "queued"
        assert email.status == expected

    # A failed e-mail is left alone by later deliveries (and by the sweep).
    assert email_deliver(email_id=email.pk) is False
    email.refresh_from_db()
    assert email.attempts == MAX_ATTEMPTS
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_task_retries_a_failed_send_as_many_times_as_the_outbox_allows(institution, settings):
    """Celery gives up after max_retries; by then the outbox must have marked the e-mail failed,
    or it would sit queued for ever."""
    assert deliver_email.max_retries + 1 == MAX_ATTEMPTS
    assert Exception in deliver_email.autoretry_for
    settings.EMAIL_BACKEND = f"{__name__}.RefusingSMTPBackend"
    email = email_enqueue(
        recipient=unique_address("retried"), template="invitation", context=INVITATION_CONTEXT
    )

    result = deliver_email.apply(args=[email.pk])  # eager: Celery runs each retry at once

    assert result.failed()
    email.refresh_from_db()
    assert email.attempts == MAX_ATTEMPTS
    assert email.status == OutboundEmail.Status.FAILED
    assert "421" in email.last_error


def test_a_failed_send_in_the_worker_stays_queued_with_its_error(celery_worker, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingSMTPBackend"
    alpha = Institution.objects.get(code="alpha")
    recipient = unique_address("worker-refused")
    with tenant_context(alpha), transaction.atomic():
        email = email_enqueue(
            recipient=recipient, template="invitation", context=INVITATION_CONTEXT
        )

    def first_attempt_recorded():
        """the worker's first attempt"""
        with tenant_context(alpha):
            return OutboundEmail.objects.filter(pk=email.pk, attempts__gte=1).first()

    failed_once = wait_for(first_attempt_recorded)

    assert failed_once.status == OutboundEmail.Status.QUEUED
    assert failed_once.last_error == "SMTPException: 421 service not available"
    assert messages_to(recipient) == []
    # Do not leave it for a later test's worker to retry with a working backend.
    with tenant_context(alpha):
        OutboundEmail.objects.filter(pk=email.pk).delete()


# --- The sweep -----------------------------------------------------------------------------


def test_the_sweep_sends_emails_whose_task_was_lost(celery_worker):
    """E-mails committed while Redis was down never got a task; the sweep finds those queued
    for over a minute and dispatches them, in their own institution's schema."""
    alpha = Institution.objects.get(code="alpha")
    lost = unique_address("lost")
    recent = unique_address("recent")
    marker = unique_address("marker")
    with tenant_context(alpha):
        # Written without email_enqueue: no task was ever queued for these.
        lost_email = OutboundEmail.objects.create(
            recipient=lost,
            template="invitation",
            context=INVITATION_CONTEXT,
            created_at=timezone.now() - timedelta(minutes=5),
        )
        recent_email = OutboundEmail.objects.create(
            recipient=recent, template="invitation", context=INVITATION_CONTEXT
        )
        sweep_outbox.delay()

    (message,) = wait_for(lambda: messages_to(lost))

    assert "Alpha College" in message.body
    # Everything the sweep queued is handled before a task queued after it.
    with tenant_context(alpha), transaction.atomic():
        email_enqueue(recipient=marker, template="invitation", context=INVITATION_CONTEXT)
    wait_for(lambda: messages_to(marker))
    with tenant_context(alpha):
        lost_email.refresh_from_db()
        assert lost_email.status == OutboundEmail.Status.SENT
        assert lost_email.attempts == 1
        # Younger than a minute: its own task may still be on its way, so the sweep leaves it.
        recent_email.refresh_from_db()
        assert recent_email.status == OutboundEmail.Status.QUEUED
        assert recent_email.attempts == 0
        recent_email.delete()
    assert messages_to(recent) == []


# --- Rendering ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_email_renders_html_and_text_with_the_institutions_name(institution):
    email = email_enqueue(
        recipient="nomsa@example.org",
        template="invitation",
        context={**INVITATION_CONTEXT, "full_name": "Nomsa <b>Dlamini</b>"},
    )

    message = email_render(email)

    assert message.subject == "You're invited to Alpha College on Cohortly"
    assert message.to == ["nomsa@example.org"]
    assert "Alpha College" in message.body
    assert INVITATION_CONTEXT["accept_url"] in message.body
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert "<strong>Alpha College</strong>" in html
    assert institution.brand_colour in html
    assert INVITATION_CONTEXT["accept_url"] in html
    # Values are escaped in the HTML part.
    assert "Nomsa &lt;b&gt;Dlamini&lt;/b&gt;" in html
    assert "<b>Dlamini</b>" not in html


@pytest.mark.django_db
def test_each_institution_brands_its_own_emails_and_the_platform_its_own(other_institution):
    with tenant_context(other_institution):
        beta = email_render(
            email_enqueue(recipient="a@example.org", template="invitation", context={})
        )
    with schema_context("public"):
        platform = email_render(
            email_enqueue(recipient="b@example.org", template="invitation", context={})
        )

    assert "Beta Academy" in beta.subject
    assert "Beta Academy" in beta.alternatives[0][0]
    assert "Alpha College" not in beta.body + beta.alternatives[0][0]
    assert "Cohortly" in platform.subject
    assert "Beta Academy" not in platform.body + platform.alternatives[0][0]
