"""The migration that moved the audit chain to keyed digests (audit 0006): on a scratch schema
holding format 1 events, it converts every event, the chain verifies afterwards, the old tip is
recorded, and a broken chain stops it."""

import importlib
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.chain import GENESIS_HASH, event_hash
from audit.models import ActorKey, AuditEvent, EventFormat
from audit.selectors import audit_chain_first_break
from tests.migrating import migrate_to

pytestmark = pytest.mark.django_db

BEFORE = [("audit", "0003_permission_catalogue")]
AFTER = [("audit", "0006_convert_chain_to_keyed_digests")]
# The columns added since, which the current models (and the verifier) read.
LATEST = [("audit", "0007_event_subject_and_key_protection")]
conversion = importlib.import_module("audit.migrations.0006_convert_chain_to_keyed_digests")


def _format_1_chain(old_apps, *, broken_at: int | None = None, people: int = 1) -> list:
    """Events as the code before the conversion wrote them: the clear values hashed; every
    other one anonymous, the rest taking turns among `people`."""
    OldUser = old_apps.get_model("accounts", "User")
    OldEvent = old_apps.get_model("audit", "AuditEvent")
    actors = [
        OldUser.objects.create(email=f"before{n or ''}@example.org", password="!")
        for n in range(people)
    ]
    previous, events = GENESIS_HASH, []
    start = timezone.now() - timedelta(days=3)
    for n in range(4 * people):
        person = actors[(n // 2) % people]
        event = OldEvent(
            actor_id=person.pk if n % 2 else None,
            actor_email=person.email if n % 2 else "",
            action="test.before",
            entity_type="test.thing",
            entity_id=str(n),
            new_values={"n": n},
            ip_address="192.0.2.1",
            user_agent="OldBrowser/1",
            correlation_id=f"old-{n}",
            created_at=start + timedelta(minutes=n),
            prev_hash=previous,
        )
        event.format = 1  # not a column yet: what the hash function reads
        event.hash = event_hash(prev_hash=previous, event=event)
        if n == broken_at:
            event.new_values = {"n": "forged"}
        event.save(force_insert=True)
        previous = event.hash
        events.append(event)
    return events


def test_format_1_events_are_converted_and_the_chain_verifies(scratch_schema):
    old_events = _format_1_chain(migrate_to(BEFORE))
    old_tip = old_events[-1].hash

    migrate_to(AFTER)
    migrate_to(LATEST)

    events = list(AuditEvent.objects.order_by("id"))
    assert [event.pk for event in events[:4]] == [event.pk for event in old_events]
    assert {event.format for event in events} == {EventFormat.DIGEST}
    assert events[1].actor_email == "before@example.org"  # still there for display
    assert all(event.hash != old.hash for event, old in zip(events, old_events, strict=False))
    converted = events[-1]
    assert converted.action == "audit.chain_converted"
    assert converted.new_values == {"old_tip": old_tip, "events": 4}
    assert converted.prev_hash == events[3].hash
    assert ActorKey.objects.filter(user_id=old_events[1].actor_id).exists()
    assert audit_chain_first_break() is None


def test_a_broken_chain_stops_the_conversion(scratch_schema):
    events = _format_1_chain(migrate_to(BEFORE), broken_at=2)

    with pytest.raises(conversion.BrokenAuditChain, match=f"broken at event {events[2].pk}"):
        migrate_to(AFTER)


def test_an_empty_chain_is_left_empty(scratch_schema):
    migrate_to(BEFORE)

    migrate_to(AFTER)
    migrate_to(LATEST)

    assert not AuditEvent.objects.exists()
    assert not ActorKey.objects.exists()
    assert audit_chain_first_break() is None


def test_several_actors_and_visitors_each_get_their_key(scratch_schema):
    old_events = _format_1_chain(migrate_to(BEFORE), people=3)

    migrate_to(AFTER)
    migrate_to(LATEST)

    events = list(AuditEvent.objects.order_by("id"))
    keys = dict(ActorKey.objects.values_list("user_id", "pk"))
    assert set(keys) == {None, *(event.actor_id for event in old_events if event.actor_id)}
    assert len(keys) == 4
    for event in events:
        assert event.digest_key_id == keys[event.actor_id]
    assert events[-1].new_values == {"old_tip": old_events[-1].hash, "events": 12}
    assert audit_chain_first_break() is None


def test_a_process_from_before_format_2_can_still_insert(institution):
    """During a deploy, code that knows nothing of `format` inserts events: the column's
    database default makes them format 1, which the verifier reads as such."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (actor_email, action, entity_type, entity_id, "
            "old_values, new_values, user_agent, correlation_id, created_at, prev_hash, hash) "
            "VALUES ('', 'test.old', 'test.thing', '1', '{}', '{}', '', 'old', now(), %s, 'x') "
            "RETURNING format",
            [GENESIS_HASH],
        )
        (format_,) = cursor.fetchone()
    assert format_ == EventFormat.CLEAR
