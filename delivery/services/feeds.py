"""Calendar feeds: a trainer's or a learner's sessions as an iCalendar subscription, reached by
an unguessable token that does not expire (a subscription must keep working) but that its
owner can revoke or regenerate. Only the token's SHA-256 is kept: the address is shown once."""

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from accounts.services import token_hash
from audit.services import audit_record
from delivery.access import TEACH
from delivery.models import CalendarFeed, CalendarFeedOwner, CourseEnrollment, Trainer
from tenants.db import schema_lock


def feed_owner_allowed(user: User, owner: str) -> bool:
    """A trainer's feed for an active trainer who may teach; a learner's for someone in a course
    run."""
    if owner == CalendarFeedOwner.TRAINER:
        return user.may(TEACH) and Trainer.objects.filter(user=user, active_status=True).exists()
    if owner == CalendarFeedOwner.LEARNER:
        return CourseEnrollment.objects.filter(enrollment__user=user).exists()
    return False


def feed_lock(user: User, owner: str) -> str:
    """The advisory lock of issuing `user`'s feed (tenants.db.schema_lock)."""
    return f"calendar_feed:{user.pk}:{owner}"


def calendar_feed_issue(*, actor: User, owner: str) -> str:
    """A new feed of `actor`'s own sessions; their earlier one (if any) stops working. The
    token, to build the address from: it is not kept and cannot be shown again."""
    permission_check(
        actor=actor, action="delivery.calendar_feed_issue", allowed=feed_owner_allowed(actor, owner)
    )
    token = secrets.token_urlsafe(32)
    with transaction.atomic(durable=True):
        # Two issues at once: the second finds the first's feed to revoke.
        schema_lock(feed_lock(actor, owner))
        revoked = _revoke(actor, owner)
        feed = CalendarFeed.objects.create(user=actor, owner=owner, token_hash=token_hash(token))
        audit_record(
            actor=actor,
            action="calendar_feed.issued",
            entity=feed,
            new_values={"owner": owner, "replaces": revoked},
        )
    return token


def calendar_feed_revoke(*, actor: User, owner: str) -> None:
    """End `actor`'s feed: calendars subscribed to it stop receiving sessions."""
    with transaction.atomic(durable=True):
        if calendar_feed_end_in_transaction(actor=actor, user=actor, owner=owner) is None:
            raise ValidationError("There is no calendar feed to revoke.")


def calendar_feed_end_in_transaction(*, actor: User | None, user: User, owner: str) -> int | None:
    """End `user`'s live feed of `owner` (if any) inside the caller's transaction, audited:
    their own choice, or a trainer no longer active. The feed's id, or None without one."""
    revoked = _revoke(user, owner)
    if revoked is not None:
        audit_record(
            actor=actor,
            action="calendar_feed.revoked",
            entity_type="delivery.calendarfeed",
            entity_id=revoked,
            new_values={"owner": owner},
        )
    return revoked


def _revoke(user: User, owner: str) -> int | None:
    live = (
        CalendarFeed.objects.select_for_update()
        .filter(user=user, owner=owner, revoked_at__isnull=True)
        .first()
    )
    if live is None:
        return None
    live.revoked_at = timezone.now()
    live.save(update_fields=["revoked_at"])
    return live.pk
