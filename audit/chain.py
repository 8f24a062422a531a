"""What an audit event's hash covers, in each format, and the keyed digest of the actor's
personal values. Frozen: changing any of this breaks the verification of every event already
written (migration 0006 converted format 1 events to format 2 with these functions).

Format 1 hashed the actor's e-mail, IP address and user agent in clear, so they could never be
removed. Format 2 hashes `actor_digest`, an HMAC of them under the actor's key (audit.ActorKey):
the clear values stay beside it for display until the person is forgotten, when they are blanked
and the key deleted, and the chain still verifies."""

import hashlib
import hmac
import json
from datetime import UTC
from typing import Any, Protocol

GENESIS_HASH = "0" * 64
KEY_BYTES = 32


class ChainedEvent(Protocol):
    """The fields of an audit event that the chain reads (the model, or a migration's
    historical model)."""

    actor_id: int | None
    actor_email: str
    action: str
    entity_type: str
    entity_id: str
    old_values: Any
    new_values: Any
    ip_address: str | None
    user_agent: str
    correlation_id: str
    created_at: Any
    actor_digest: str
    digest_key_id: int | None
    format: int


def _canonical(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def actor_digest(*, key: bytes, email: str, ip_address: str | None, user_agent: str) -> str:
    """HMAC-SHA256 under the actor's key of the personal values an event holds about them."""
    content = _canonical({"email": email, "ip_address": ip_address, "user_agent": user_agent})
    return hmac.new(key, content.encode(), hashlib.sha256).hexdigest()


def event_actor_digest(*, key: bytes, event: ChainedEvent) -> str:
    return actor_digest(
        key=key,
        email=event.actor_email,
        ip_address=event.ip_address,
        user_agent=event.user_agent,
    )


def _shared_content(event: ChainedEvent) -> dict[str, Any]:
    return {
        "actor_id": event.actor_id,
        "action": event.action,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "old_values": event.old_values,
        "new_values": event.new_values,
        "correlation_id": event.correlation_id,
        "created_at": event.created_at.astimezone(UTC).isoformat(),
    }


def event_content_clear(event: ChainedEvent) -> str:
    """Format 1: the canonical text with the personal values in clear."""
    return _canonical(
        _shared_content(event)
        | {
            "actor_email": event.actor_email,
            "ip_address": event.ip_address,
            "user_agent": event.user_agent,
        }
    )


def event_content_digest(event: ChainedEvent) -> str:
    """Format 2: the canonical text with the keyed digest in place of the personal values, and
    the subject of an anonymous action when it has one (added later: an event without a subject
    hashes as it always did; a migration's historical model may not have the field)."""
    subject_id = getattr(event, "subject_id", None)
    return _canonical(
        _shared_content(event)
        | {"actor_digest": event.actor_digest, "digest_key_id": event.digest_key_id, "format": 2}
        | ({"subject_id": subject_id} if subject_id is not None else {})
    )


def event_hash(*, prev_hash: str, event: ChainedEvent) -> str:
    """The hash of `event` linked to `prev_hash`, as its format defines it."""
    content = event_content_clear(event) if event.format == 1 else event_content_digest(event)
    return hashlib.sha256((prev_hash + content).encode()).hexdigest()
