import hmac
from collections.abc import Mapping
from datetime import date, datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from audit.chain import GENESIS_HASH, event_actor_digest, event_hash
from audit.models import ActorKey, AuditEvent, EventFormat


def audit_event_list(
    *,
    actor_id: int | None = None,
    action: str = "",
    entity_type: str = "",
    entity_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """Events for the audit page and its CSV export, newest first."""
    events = AuditEvent.objects.select_related("actor").order_by("-id")
    if actor_id:
        events = events.filter(actor_id=actor_id)
    if action:
        events = events.filter(action=action)
    if entity_type:
        events = events.filter(entity_type=entity_type)
    if entity_id:
        events = events.filter(entity_id=entity_id)
    if date_from:
        events = events.filter(
            created_at__gte=timezone.make_aware(datetime.combine(date_from, time.min))
        )
    if date_to:
        events = events.filter(
            created_at__lte=timezone.make_aware(datetime.combine(date_to, time.max))
        )
    return events


def audit_action_choices() -> list[str]:
    return list(AuditEvent.objects.order_by("action").values_list("action", flat=True).distinct())


def audit_entity_type_choices() -> list[str]:
    return list(
        AuditEvent.objects.order_by("entity_type").values_list("entity_type", flat=True).distinct()
    )


def _key_owner(event: AuditEvent) -> int | None:
    """Whose key digests the event's personal values: the actor's, else the subject's of an
    anonymous action, else the shared key of visitors and the system (None)."""
    return event.actor_id or event.subject_id


def _forgotten_keys() -> set[tuple[int, int]]:
    """(person, key) of every key that a recorded forgetting deleted."""
    return {
        (int(user_id), int(values["key"]))
        for user_id, values in AuditEvent.objects.filter(
            action="audit.actor_forgotten", entity_type="accounts.user"
        ).values_list("entity_id", "new_values")
        if isinstance(values, dict) and values.get("key") is not None
    }


def _actor_digest_holds(
    event: AuditEvent,
    keys: Mapping[int, tuple[int | None, bytes]],
    forgotten: set[tuple[int, int]],
) -> bool:
    """Whether the clear values beside a format 2 event are the ones its digest was made of:
    tested under the key's owner's key while it exists. A missing key must be one that a
    recorded forgetting of that person deleted (never the shared key), and then the values
    must be blank."""
    owner = _key_owner(event)
    if event.digest_key_id is None:
        return False
    found = keys.get(event.digest_key_id)
    if found is None:
        return (
            owner is not None
            and (owner, event.digest_key_id) in forgotten
            and not (event.actor_email or event.ip_address or event.user_agent)
        )
    user_id, key = found
    return user_id == owner and hmac.compare_digest(
        event.actor_digest, event_actor_digest(key=key, event=event)
    )


def audit_chain_first_break() -> AuditEvent | None:
    """The first event in the current schema whose link, content or personal values do not
    check out (both formats: audit.chain)."""
    keys = {
        pk: (user_id, bytes(key))
        for pk, user_id, key in ActorKey.objects.values_list("pk", "user_id", "key")
    }
    forgotten = _forgotten_keys()
    expected_prev = GENESIS_HASH
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != expected_prev or event.hash != event_hash(
            prev_hash=event.prev_hash, event=event
        ):
            return event
        if event.format == EventFormat.DIGEST and not _actor_digest_holds(event, keys, forgotten):
            return event
        expected_prev = event.hash
    return None
