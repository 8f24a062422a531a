"""Writing audit events. Call `audit_record` inside the transaction of the change it records:
if the change rolls back, so does its event."""

import hashlib
import json
from datetime import UTC
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.context import current_context
from audit.models import AuditEvent

GENESIS_HASH = "0" * 64


def _normalise(values: dict[str, Any] | None) -> dict[str, Any]:
    """JSON-safe copy, so that what is hashed is exactly what the database gives back."""
    return json.loads(json.dumps(values or {}, default=str))


def event_content(event: AuditEvent) -> str:
    """The canonical text that an event's hash covers."""
    return json.dumps(
        {
            "actor_id": event.actor_id,
            "actor_email": event.actor_email,
            "action": event.action,
            "entity_type": event.entity_type,
            "entity_id": event.entity_id,
            "old_values": event.old_values,
            "new_values": event.new_values,
            "ip_address": event.ip_address,
            "user_agent": event.user_agent,
            "correlation_id": event.correlation_id,
            "created_at": event.created_at.astimezone(UTC).isoformat(),
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def event_hash(*, prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + event_content(event)).encode()).hexdigest()


def audit_chain_lock() -> str:
    """Take this schema's audit-chain lock for the rest of the transaction (one writer at a
    time, so each event links to the one before it) and return the hash to link to."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':audit_chain'))")
    previous = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
    return previous or GENESIS_HASH


def audit_record(
    *,
    action: str,
    entity_type: str,
    entity_id: str | int = "",
    actor=None,
    old_values: dict[str, Any] | None = None,
    new_values: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to this schema's chain. Never pass secrets or special personal
    information in the values: the trail is read by auditors."""
    context = current_context()
    actor = actor if actor is not None and actor.is_authenticated else None
    with transaction.atomic():
        previous = audit_chain_lock()
        event = AuditEvent(
            actor=actor,
            actor_email=actor.email if actor else "",
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            old_values=_normalise(old_values),
            new_values=_normalise(new_values),
            ip_address=context.ip_address,
            user_agent=context.user_agent,
            correlation_id=context.correlation_id,
            created_at=timezone.now(),
            prev_hash=previous,
        )
        event.hash = event_hash(prev_hash=event.prev_hash, event=event)
        event.save(force_insert=True)
    return event
