"""Signers' links: issuing one (each new link ends the signer's earlier ones), a fresh one
asked for from an old link, and the one reminder before a link expires. Only the SHA-256 of a
link's token is stored."""

import datetime
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import token_hash
from notifications.services import email_enqueue
from signing.models import SigningLink, SubmissionStatus, Submitter
from signing.services.trail import submission_audit_record, submission_event_record, submission_lock
from tenants.db import tenant_connection
from tenants.sites import institution_url
from tenants.zones import moment_text


def link_ttl() -> datetime.timedelta:
    """How long a new signing link works: the current institution's own setting."""
    return datetime.timedelta(days=tenant_connection.tenant.signing_link_days)


def signing_url(token: str) -> str:
    return institution_url(tenant_connection.tenant, reverse("signing_public:sign", args=[token]))


def link_issue(
    submitter: Submitter, *, notify: bool, reminder_of: SigningLink | None = None
) -> str:
    """Revoke the signer's earlier links and make a new one; returns its full URL. With
    `reminder_of`, the new link replaces that one as a reminder: it keeps its expiry, is marked
    reminded, and the e-mail says the deadline is close. Composable: the caller has locked the
    submission in its transaction and records its own audit event."""
    now = timezone.now()
    kind = "reminded" if reminder_of else "resent" if submitter.links.exists() else "sent"
    submitter.links.filter(revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)  # 256 bits
    link = SigningLink.objects.create(
        submitter=submitter,
        token_hash=token_hash(token),
        expires_at=reminder_of.expires_at if reminder_of else now + link_ttl(),
        reminded_at=now if reminder_of else None,
        emailed=notify,
    )
    url = signing_url(token)
    submitter.sent_at = now
    submitter.save(update_fields=["sent_at"])
    submission = submitter.submission
    submission_event_record(submission, kind, submitter, to=submitter.email, notified=notify)
    if notify:
        email_enqueue(
            recipient=submitter.email,
            template="signing_reminder" if reminder_of else "signing_request",
            context={
                "full_name": submitter.name,
                "title": submission.title,
                "role": submitter.get_role_display(),
                "sign_url": url,
                "expires_at": moment_text(link.expires_at),
            },
        )
    return url


def link_resend(*, link: SigningLink) -> None:
    """From an expired or replaced link: e-mail a fresh one to the same address."""
    with transaction.atomic(durable=True):
        submission = submission_lock(link.submitter.submission)
        submitter = Submitter.objects.get(pk=link.submitter_id)
        if submission.status != SubmissionStatus.PENDING:
            raise ValidationError(
                f"This agreement is {submission.get_status_display().lower()}: "
                "there is nothing left to sign."
            )
        if submitter.is_done:
            raise ValidationError("You have already acted on this agreement.")
        if submitter.user is not None and submitter.user.is_deleted:
            raise ValidationError("This link no longer works: the account it was for is deleted.")
        link_issue(submitter, notify=True)
        submission_audit_record(
            "link_resent",
            submission,
            concerning=submitter,
            submitter=submitter.pk,
            role=submitter.role,
        )


def _links_due_reminder(now: datetime.datetime) -> models.QuerySet[SigningLink]:
    """Usable e-mailed links, not yet reminded, that expire within the reminder window, of
    pending submissions whose signer is next in line (no earlier signer still to sign). A link
    is also past half its life, so that a short lifetime (an institution may choose one day)
    does not bring a reminder right after the first e-mail. A link made for a signer already on
    the page (the portal's, the admin's) was never e-mailed: a reminder of it would be news."""
    earlier_unsigned = Submitter.objects.filter(
        submission=models.OuterRef("submitter__submission"),
        order__lt=models.OuterRef("submitter__order"),
        signed_at__isnull=True,
    )
    half_life = models.ExpressionWrapper(
        (models.F("expires_at") - models.F("created_at")) / 2, output_field=models.DurationField()
    )
    halfway = models.F("created_at") + half_life
    return (
        SigningLink.objects.alias(halfway=halfway)
        .filter(
            halfway__lte=now,
            emailed=True,
            revoked_at__isnull=True,
            reminded_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + settings.SIGNING_REMINDER_BEFORE,
            submitter__signed_at__isnull=True,
            submitter__declined_at__isnull=True,
            submitter__submission__status=SubmissionStatus.PENDING,
        )
        .exclude(models.Exists(earlier_unsigned))
        .exclude(submitter__user__deleted_at__isnull=False)
    )


def link_remind(*, link: SigningLink, now: datetime.datetime | None = None) -> bool:
    """Remind the signer that their link is about to expire, with a fresh link (the token is
    stored hashed, so the old URL cannot be repeated). The new link keeps the old one's expiry:
    a reminder is a nudge, not an extension, and a full new period would bring the link back
    into the window again and again. Returns False when, re-checked under the submission's
    lock, the link is no longer due (already reminded, signed, replaced or expired)."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        submission = submission_lock(link.submitter.submission)
        due = _links_due_reminder(now).select_related("submitter").filter(pk=link.pk).first()
        if due is None:
            return False
        submitter = due.submitter
        submitter.submission = submission
        link_issue(submitter, notify=True, reminder_of=due)
        submission_audit_record(
            "link_reminded",
            submission,
            concerning=submitter,
            submitter=submitter.pk,
            role=submitter.role,
            expires_at=due.expires_at.isoformat(),
        )
    return True


def links_revoke_of_deleted_account(sender: object, *, user: User, **kwargs: object) -> int:
    """When an account is deleted (accounts.signals.account_deleted, inside its transaction):
    the open links of the signers who are that person stop working, so that nobody signs or
    declines in their name from an old e-mail. Returns how many were revoked."""
    return SigningLink.objects.filter(
        submitter__user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).update(revoked_at=timezone.now())


def links_remind_expiring(*, now: datetime.datetime | None = None) -> int:
    """Remind every signer in this schema whose link expires within SIGNING_REMINDER_BEFORE;
    returns how many were reminded. Each link is re-checked under its own lock, so running it
    twice, or twice at once, reminds nobody twice."""
    now = now or timezone.now()
    due = _links_due_reminder(now).select_related("submitter__submission").order_by("pk")
    return sum(link_remind(link=link, now=now) for link in list(due))
