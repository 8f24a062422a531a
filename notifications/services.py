"""The e-mail outbox. `email_enqueue` is called inside a service's transaction; the message is
rendered and sent by a task after commit, at most once."""

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import Context, Engine
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import OutboundEmail
from tenants.db import tenant_connection
from tenants.zones import institution_time

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


def email_enqueue(*, recipient: str, template: str, context: dict[str, Any]) -> OutboundEmail:
    """Queue a templated e-mail; it is handed to the worker only if the transaction commits."""
    from notifications.tasks import deliver_email

    email = OutboundEmail.objects.create(recipient=recipient, template=template, context=context)
    deliver_email.delay_on_commit(email.pk)
    return email


def _branding() -> dict[str, Any]:
    tenant = tenant_connection.tenant
    institution = tenant if tenant.schema_name != "public" else None
    return {
        "institution_name": institution.name if institution else "Cohortly",
        "brand_colour": institution.brand_colour if institution else "#1f5f8b",
    }


def _render_text(name: str, context: dict[str, Any]) -> str:
    """Plain text is not HTML: rendered without autoescaping, "Smith & O'Neil" reads as typed
    rather than as "Smith &amp; O&#x27;Neil". Only the .html part is escaped."""
    return Engine.get_default().get_template(name).render(Context(context, autoescape=False))


def email_render(email: OutboundEmail) -> EmailMultiAlternatives:
    """The message, rendered in the institution's time zone. A time in the queued context is
    already text written with tenants.zones.moment_text, which labels it with that zone."""
    context = {**_branding(), **email.context}
    prefix = f"emails/{email.template}"
    with institution_time():
        subject = " ".join(_render_text(f"{prefix}_subject.txt", context).split())
        body = _render_text(f"{prefix}.txt", context)
        html = render_to_string(f"{prefix}.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[email.recipient]
    )
    message.attach_alternative(html, "text/html")
    # Attachments are named by their path in the (tenant-prefixed) default storage, never
    # copied into the outbox row: {"path": ..., "filename": ..., "mimetype": ...}.
    for attachment in email.context.get("attachments", []):
        with default_storage.open(attachment["path"], "rb") as stored:
            message.attach(attachment["filename"], stored.read(), attachment["mimetype"])
    return message


def email_deliver(*, email_id: int) -> bool:
    """Send one queued e-mail. The row is locked while sending, so two deliveries of the same
    task cannot both send it; returns False when there was nothing to do. Raises when sending
    failed, for the task to retry."""
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutboundEmail.Status.QUEUED)
            .first()
        )
        if email is None:
            return False
        email.attempts += 1
        failure = None
        try:
            email_render(email).send()
        except Exception as error:
            failure = error
            email.last_error = f"{type(error).__name__}: {error}"[:2000]
            if email.attempts >= MAX_ATTEMPTS:
                email.status = OutboundEmail.Status.FAILED
            logger.warning("E-mail %s (%s) failed: %s", email.pk, email.template, error)
        else:
            email.status = OutboundEmail.Status.SENT
            email.sent_at = timezone.now()
        email.save(update_fields=["attempts", "last_error", "status", "sent_at"])
    if failure is not None:
        raise failure
    return True


def outbound_emails_forget(*, recipients: Iterable[str]) -> int:
    """Delete the e-mails kept for `recipients` (sent, failed or still queued): their contexts
    hold the person's name and more. For anonymising a person, inside the caller's
    transaction; returns how many."""
    addresses = [address for address in recipients if address]
    deleted, _by_model = OutboundEmail.objects.filter(recipient__in=addresses).delete()
    return deleted
