from datetime import date, datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import GENESIS_HASH, event_hash


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


def audit_chain_first_break() -> AuditEvent | None:
    """The first event whose link or content does not check out in the current schema."""
    expected_prev = GENESIS_HASH
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != expected_prev or event.hash != event_hash(
            prev_hash=event.prev_hash, event=event
        ):
            return event
        expected_prev = event.hash
    return None
