"""Writing audit events. Call `audit_record` inside the transaction of the change it records:
if the change rolls back, so does its event.

Events never hold personal values: a model lists its personal fields in `PERSONAL_FIELDS`, and
an event about an instance records that such a field changed (`CHANGED`), never its old or new
value, so that anonymising a person later never has to touch the chain."""

import json
import secrets
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection, models, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from accounts.models import User
from audit.chain import GENESIS_HASH, KEY_BYTES, event_actor_digest, event_hash
from audit.context import current_context
from audit.models import ActorKey, AuditEvent, EventFormat

# What an event records in place of a personal value.
CHANGED = "(changed)"


def kept_out(text: str) -> str:
    """What an event records of free text a person typed (a reason, a note): that it was
    given, never what it says, which may tell of an illness or a conviction."""
    return CHANGED if text else ""


def personal_fields(model: type[models.Model] | models.Model) -> frozenset[str]:
    """The fields of `model` that hold personal values (its `PERSONAL_FIELDS`)."""
    return getattr(model, "PERSONAL_FIELDS", frozenset())


def personal_values_masked(
    model: type[models.Model] | models.Model,
    old_values: dict[str, Any] | None,
    new_values: dict[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """`old_values` and `new_values` with every personal field of `model` taken out of the old
    and recorded as CHANGED in the new. For values about a related model that an event carries
    (a signer's decline reason in an event about the submission) as well as for the entity."""
    personal = personal_fields(model)
    old_values, new_values = dict(old_values or {}), dict(new_values or {})
    for name in personal & (old_values.keys() | new_values.keys()):
        old_values.pop(name, None)
        new_values[name] = CHANGED
    return old_values, new_values


def _normalise(values: dict[str, Any] | None) -> dict[str, Any]:
    """JSON-safe copy, so that what is hashed is exactly what the database gives back."""
    normalised: dict[str, Any] = json.loads(json.dumps(values or {}, default=str))
    return normalised


def _actor_key_shared(actor: User | None) -> ActorKey | None:
    """`actor`'s key read FOR SHARE: it cannot be deleted (the person forgotten) before the
    caller's event is written."""
    return next(
        iter(
            ActorKey.objects.raw(
                "SELECT id, key FROM audit_actorkey WHERE user_id IS NOT DISTINCT FROM %s "
                "FOR SHARE",
                [actor.pk if actor else None],
            )
        ),
        None,
    )


def actor_key(actor: User | None) -> ActorKey:
    """The key that digests `actor`'s personal values in events (None: visitors and the
    system), made on first use (again after the person was forgotten)."""
    key = _actor_key_shared(actor)
    if key is None:
        ActorKey.objects.bulk_create(
            [ActorKey(user=actor, key=secrets.token_bytes(KEY_BYTES))], ignore_conflicts=True
        )
        key = _actor_key_shared(actor)
        assert key is not None  # made just now, or by a concurrent writer
    return key


def event_seal(event: AuditEvent, *, key: ActorKey) -> None:
    """Give a new event its digest under the actor's `key` and its hash (format 2)."""
    event.format = EventFormat.DIGEST
    event.digest_key_id = key.pk
    event.actor_digest = event_actor_digest(key=bytes(key.key), event=event)
    event.hash = event_hash(prev_hash=event.prev_hash, event=event)


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
    entity: models.Model | None = None,
    entity_type: str = "",
    entity_id: str | int = "",
    actor: User | AnonymousUser | None = None,
    old_values: dict[str, Any] | None = None,
    new_values: dict[str, Any] | None = None,
    subject: User | None = None,
) -> AuditEvent:
    """Append one event about `entity` to this schema's chain, inside the caller's transaction
    (refused outside one). Its type and id come from the instance, and its personal fields are
    recorded as changed, without values. `entity_type` and `entity_id` are for references that
    are not a model instance (a refused permission, a generic app's reference). Never pass
    secrets or personal values under other keys: the trail is read by auditors.

    `subject` is for an anonymous action that concerns a person (their signing link used, their
    invitation resent): the visitor's IP address and user agent are digested under that
    person's key, and forgetting the person blanks them."""
    if entity is not None:
        if entity_type or entity_id != "":
            raise TypeError("Pass either `entity` or `entity_type` and `entity_id`, not both.")
        entity_type, entity_id = entity._meta.label_lower, entity.pk
        old_values, new_values = personal_values_masked(entity, old_values, new_values)
    elif not entity_type:
        raise TypeError("An audit event needs its `entity` (or an `entity_type`).")
    if not connection.in_atomic_block:
        raise TransactionManagementError(
            "audit_record runs inside the transaction of the change it records: "
            "open one (transaction.atomic) around the change and its event."
        )
    context = current_context()
    recorded_actor = actor if isinstance(actor, User) else None  # AnonymousUser: no one
    if recorded_actor is not None and subject is not None:
        raise TypeError("A `subject` is for anonymous actions: an actor's event is theirs.")
    previous = audit_chain_lock()
    event = AuditEvent(
        actor=recorded_actor,
        actor_email=recorded_actor.email if recorded_actor else "",
        subject=subject,
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
    event_seal(event, key=actor_key(recorded_actor or subject))
    event.save(force_insert=True)
    return event


def audit_actor_forget(*, user: User) -> int:
    """Forget who `user` was in the audit trail, irreversibly: blank the e-mail, IP address and
    user agent of the events they acted in or that were about them anonymously (their signing
    link used) and delete their key, so that the digests the chain keeps can no longer be tested
    against guesses. The chain still verifies: its hashes never covered the clear values, and
    the event recording the forgetting names the deleted key (the verifier accepts a missing key
    only with it). Inside the caller's transaction (anonymising a person); the chain lock is
    taken first, so that no event of theirs is written meanwhile. Returns how many events were
    blanked."""
    with transaction.atomic():
        audit_chain_lock()
        forgotten = (
            AuditEvent.objects.filter(models.Q(actor=user) | models.Q(subject=user))
            .exclude(actor_email="", ip_address__isnull=True, user_agent="")
            .update(actor_email="", ip_address=None, user_agent="")
        )
        key_id = ActorKey.objects.filter(user=user).values_list("pk", flat=True).first()
        ActorKey.objects.filter(user=user).delete()
        audit_record(
            action="audit.actor_forgotten",
            entity=user,
            new_values={"events": forgotten, "key": key_id},
        )
    return forgotten
