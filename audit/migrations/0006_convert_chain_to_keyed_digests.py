"""Convert every event to format 2 (audit.chain): the hash covers a keyed digest of the actor's
e-mail, IP address and user agent instead of the values, so that forgetting a person later
leaves the chain verifiable. The existing chain is verified first (a broken one stops the
migration: converting it would launder the break); then every digest and hash is recomputed in
order, and an "audit.chain_converted" event records the old tip hash and how many events were
converted, so that an auditor holding the old tip can relate the two chains."""

import secrets

from django.db import migrations
from django.utils import timezone

from audit.chain import GENESIS_HASH, KEY_BYTES, event_actor_digest, event_hash

BATCH = 1000
CONVERTED_FIELDS = ["format", "actor_digest", "digest_key_id", "prev_hash", "hash"]


class BrokenAuditChain(RuntimeError):
    pass


def _old_tip(events, schema: str) -> tuple[str, int]:
    """The tip hash of the format 1 chain and its length, once every link checks out."""
    expected, count = GENESIS_HASH, 0
    for event in events.iterator(chunk_size=2000):
        if event.prev_hash != expected or event.hash != event_hash(
            prev_hash=event.prev_hash, event=event
        ):
            raise BrokenAuditChain(
                f"The audit chain of schema {schema!r} is broken at event {event.pk} "
                f"({event.action} {event.entity_type}:{event.entity_id}); nothing was converted. "
                "Find out what changed it (manage.py verify_audit_chain) before migrating."
            )
        expected, count = event.hash, count + 1
    return expected, count


def convert(apps, schema_editor) -> None:
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ActorKey = apps.get_model("audit", "ActorKey")
    connection = schema_editor.connection
    events = AuditEvent.objects.order_by("id")
    old_tip, count = _old_tip(events, connection.schema_name)
    keys: dict[int | None, object] = {}

    def key_of(actor_id: int | None):
        if actor_id not in keys:
            keys[actor_id] = ActorKey.objects.create(
                user_id=actor_id, key=secrets.token_bytes(KEY_BYTES)
            )
        return keys[actor_id]

    def sealed(event, previous: str):
        key = key_of(event.actor_id)
        event.format = 2
        event.digest_key_id = key.pk
        event.actor_digest = event_actor_digest(key=key.key, event=event)
        event.prev_hash = previous
        event.hash = event_hash(prev_hash=previous, event=event)
        return event

    if not count:
        return
    with connection.cursor() as cursor:
        # No pending foreign-key checks on the table, or ALTER TABLE refuses.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
    previous, batch = GENESIS_HASH, []
    for event in events.iterator(chunk_size=BATCH):
        batch.append(sealed(event, previous))
        previous = event.hash
        if len(batch) == BATCH:
            AuditEvent.objects.bulk_update(batch, CONVERTED_FIELDS)
            batch = []
    AuditEvent.objects.bulk_update(batch, CONVERTED_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
    conversion = AuditEvent(
        action="audit.chain_converted",
        entity_type="audit.auditevent",
        new_values={"old_tip": old_tip, "events": count},
        correlation_id="migration-audit-0006",
        created_at=timezone.now(),
    )
    sealed(conversion, previous).save(force_insert=True)


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_forgetting_allowed_by_the_trigger")]

    # Format 2 events are not turned back into format 1: their clear values may be forgotten.
    operations = [migrations.RunPython(convert, migrations.RunPython.noop)]
