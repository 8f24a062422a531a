"""Reconciliation: what we would send each record now, compared field by field with what the
external system holds of it (as a connector's `retrieve` gives it). Generic: the app that owns
the records says which part of a payload the external system keeps (`RecordKind.body`), how a
record is called on the page and why a record it sends nothing for is not sent.

Four outcomes for a record: matched, missing at the gateway, different (field by field), only at
the gateway; a record the builder sends nothing for (no consent, not signed off yet) is not
expected there and is listed as not sent. "Ours" is the payload with the other records'
gateway references filled in from their accepted jobs; secrets a payload only refers to (an ID
number) and the fields a connector never shows are not compared."""

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models

from integrations import payloads
from integrations.connectors.base import Connector
from integrations.models import SyncJobStatus
from integrations.selectors import SyncState, sync_states_for
from integrations.services import canonical_json, reported_ids


class Outcome(models.TextChoices):
    MATCHED = "matched", "Matched"
    MISSING = "missing", "Missing at the gateway"
    DIFFERENT = "different", "Different"
    ONLY_AT_GATEWAY = "only_at_gateway", "Only at the gateway"
    NOT_SENT = "not_sent", "Not sent"


# Outcomes that say the gateway does not hold what we would send.
DIFFERENCES = frozenset({Outcome.MISSING, Outcome.DIFFERENT, Outcome.ONLY_AT_GATEWAY})
# What the external system adds to each record it serves back: not ours to compare.
GATEWAY_FIELDS = frozenset({"gatewayReference", "syncVersion", "gatewayStatus"})
# Why a record withdrawn here (cancelled, voided) that the gateway lost is left alone.
LOST_WITHDRAWN = (
    "The gateway accepted it earlier but no longer holds it, and it is withdrawn here: there "
    "is nothing to send."
)
# The field a withdrawal's outcome is read from, as the page names it.
STATUS_FIELD = "gatewayStatus"


@dataclass(frozen=True)
class FieldDifference:
    field: str  # a dotted path in the record as the gateway keeps it: "fees.amount"
    ours: Any
    theirs: Any


@dataclass(frozen=True)
class ReconciledItem:
    """One record's outcome. `theirs` is what the gateway holds of it (None when nothing)."""

    entity_type: str
    entity_id: str  # "" for a record only the gateway knows
    reference: str  # ours, as the gateway files it ("course-enrolment-5")
    label: str
    outcome: str
    differences: tuple[FieldDifference, ...] = ()
    reason: str = ""  # why it is not sent, or cannot be sent again
    theirs: Mapping[str, Any] | None = None
    on_its_way: bool = False  # a job of it is queued or running

    @property
    def outcome_label(self) -> str:
        return Outcome(self.outcome).label

    @property
    def differs(self) -> bool:
        return self.outcome in DIFFERENCES

    @property
    def resendable(self) -> bool:
        """Whether queueing our version again could put it right (a record of ours that the
        builder sends)."""
        return (
            bool(self.entity_id)
            and self.outcome in (Outcome.MISSING, Outcome.DIFFERENT)
            and not self.reason
        )

    @property
    def gateway_reference(self) -> str:
        return str((self.theirs or {}).get("gatewayReference", ""))

    @property
    def resend_token(self) -> str:
        """Names the gateway's state of the record: a re-send asked for twice against the same
        state is one job (integrations.services.sync_enqueue_many's `resend`)."""
        state = canonical_json([self.entity_type, self.entity_id, self.theirs])
        return "reconcile:" + hashlib.sha256(state.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RecordKind:
    """A kind of record as reconciliation sees it: its entity type and the part of its payload
    the external system keeps and serves back."""

    entity_type: str
    body: Callable[[dict[str, Any]], dict[str, Any]]


class _Skipped:
    """A value left out of the comparison (a secret the payload only refers to)."""


SKIPPED = _Skipped()


def _as_sent(value: Any) -> Any:
    """`value` as it would arrive: what JSON makes of it."""
    return json.loads(canonical_json(value))


def _filled(value: Any, references: Mapping[tuple[str, str], str | None]) -> Any:
    """`value` with other records' gateway references filled in (None while the gateway has
    not accepted them) and every other reference left out of the comparison."""
    if isinstance(value, dict):
        if payloads.GATEWAY_REFERENCE in value:
            key = (str(value[payloads.GATEWAY_REFERENCE]), str(value["id"]))
            return references.get(key)
        if any(isinstance(key, str) and key.startswith("$") for key in value):
            return SKIPPED  # never resolved here: an ID number is produced only to be sent
        return {key: _filled(item, references) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, references) for item in value]
    return value


def _leaves(value: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _at(value: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def fields_compare(
    ours: Mapping[str, Any], theirs: Mapping[str, Any], *, hidden: frozenset[str] = frozenset()
) -> tuple[FieldDifference, ...]:
    """Each field we send whose value the gateway holds otherwise. Fields named in `hidden`
    (a connector's redacted fields) and skipped references are not compared; fields only the
    gateway keeps are not ours to judge."""
    differences = []
    for path, value in _leaves(dict(ours)):
        if value is SKIPPED or hidden & set(path.split(".")):
            continue
        held = _at(theirs, path)
        if _as_sent(value) != held:
            differences.append(FieldDifference(path, value, held))
    return tuple(differences)


def _expected_status(job_type: str) -> str:
    """What the gateway says of a record once this job has landed: a cancellation or a void
    withdraws it."""
    if job_type.endswith("_cancel"):
        return "cancelled"
    if job_type.endswith("_void"):
        return "void"
    return "active"


@dataclass(frozen=True)
class Record:
    """One of our records to reconcile, with how the page names it."""

    entity: models.Model
    reference: str
    label: str
    not_sent_reason: str = ""  # why the builder sends nothing for it, if it does not


def records_reconcile(
    kind: RecordKind,
    records: Sequence[Record],
    theirs: Iterable[Mapping[str, Any]],
    *,
    connector: Connector,
    states: Mapping[str, Mapping[str, SyncState]] | None = None,
) -> list[ReconciledItem]:
    """Our `records` of one kind against `theirs` (the gateway's records of that kind, each
    with our `reference`): one item per record, then one per record only the gateway holds.
    `states` gives the sync states already read (by entity type, then id); the others are read
    here, a few queries whatever the number of records."""
    held = {str(item.get("reference", "")): item for item in theirs}
    ids = [str(record.entity.pk) for record in records]
    reported = reported_ids(kind.entity_type, ids)
    requests = {
        entity_id: payloads.builder_for(kind.entity_type)(
            record.entity, reported=entity_id in reported or record.reference in held
        )
        for entity_id, record in zip(ids, records, strict=True)
    }
    known = dict(states or {})
    wanted: dict[str, set[str]] = {kind.entity_type: set(ids)}
    for request in requests.values():
        for entity_type, entity_id in payloads.records_named(request.payload if request else None):
            wanted.setdefault(entity_type, set()).add(entity_id)
    for entity_type, entity_ids in wanted.items():
        if entity_type not in known or not entity_ids <= set(known[entity_type]):
            known[entity_type] = {
                **known.get(entity_type, {}),
                **sync_states_for(entity_type=entity_type, entity_ids=sorted(entity_ids)),
            }
    references = {
        (entity_type, entity_id): state.external_reference or None
        for entity_type, by_id in known.items()
        for entity_id, state in by_id.items()
    }
    own = known.get(kind.entity_type, {})
    items = []
    for entity_id, record in zip(ids, records, strict=True):
        state = own.get(entity_id)
        on_its_way = state is not None and state.status in (
            SyncJobStatus.QUEUED,
            SyncJobStatus.RUNNING,
        )
        items.append(
            _item_reconcile(
                kind,
                record,
                entity_id,
                requests[entity_id],
                held.pop(record.reference, None),
                references=references,
                hidden=connector.redacted_fields,
                on_its_way=on_its_way,
            )
        )
    items += [
        ReconciledItem(
            kind.entity_type,
            "",
            reference,
            reference or str(item.get("gatewayReference", "")),
            Outcome.ONLY_AT_GATEWAY,
            theirs=item,
        )
        for reference, item in held.items()
        if item.get("gatewayStatus", "active") == "active"
    ]
    return items


def _item_reconcile(
    kind: RecordKind,
    record: Record,
    entity_id: str,
    request: payloads.SyncRequest | None,
    theirs: Mapping[str, Any] | None,
    *,
    references: Mapping[tuple[str, str], str | None],
    hidden: frozenset[str],
    on_its_way: bool,
) -> ReconciledItem:
    def item(outcome: str, **fields: Any) -> ReconciledItem:
        return ReconciledItem(
            kind.entity_type,
            entity_id,
            record.reference,
            record.label,
            outcome,
            theirs=theirs,
            on_its_way=on_its_way,
            **fields,
        )

    if request is None:
        # Nothing to send: the gateway should hold it withdrawn, or not at all.
        if theirs is None or theirs.get(STATUS_FIELD, "active") != "active":
            return item(Outcome.NOT_SENT, reason=record.not_sent_reason)
        return item(Outcome.ONLY_AT_GATEWAY, reason=record.not_sent_reason)
    if theirs is None:
        if _expected_status(request.job_type) != "active":
            return item(Outcome.NOT_SENT, reason=LOST_WITHDRAWN)
        # Never sent, or lost by the gateway: a re-send registers it anew (a create).
        return item(Outcome.MISSING)
    status = _expected_status(request.job_type)
    held_status = theirs.get(STATUS_FIELD, "active")
    differences: tuple[FieldDifference, ...] = ()
    if held_status != status:
        differences = (FieldDifference(STATUS_FIELD, status, held_status),)
    if status == "active":
        ours = _filled(kind.body(request.payload), references)
        differences += fields_compare(ours, theirs, hidden=hidden | GATEWAY_FIELDS)
    return item(Outcome.DIFFERENT if differences else Outcome.MATCHED, differences=differences)
