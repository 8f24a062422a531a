"""Every write to sync jobs: queueing them in the transaction of the change that needs them
(the outbox), running them (claim, send, record), retrying, dead-lettering, and the admins'
retry and cancel. Nothing here knows about cohorts: what a record's job carries comes from the
payload builder its app registered (integrations.payloads), and a connector sends it.

Running jobs: claim a batch with SELECT ... FOR UPDATE SKIP LOCKED (queued and due, or running
with an expired lease: its worker died), mark them running with a lease and commit; send them
one after the other outside any transaction over one kept-alive connection; record their
outcomes in one new transaction. Two workers never hold the same job, and
a job whose worker died is taken over once its lease has passed. Every send carries the job's
idempotency key, so a re-send of a submission the gateway had accepted is reported as a
duplicate and counts as success."""

import hashlib
import json
import logging
import random
import re
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Max, Model, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import User
from accounts.permissions import permission_check
from accounts.selectors import users_with_permission
from audit.context import current_context
from audit.services import audit_record
from integrations import payloads
from integrations.connectors.base import Connector, ReferenceLookup, SendResult
from integrations.crypto import at_rest_encrypt, credentials_decrypt, credentials_encrypt
from integrations.models import (
    ConnectorConfig,
    SyncAttempt,
    SyncAttemptOutcome,
    SyncJob,
    SyncJobStatus,
    SyncReceipt,
)
from integrations.signals import sync_jobs_recorded
from notifications.services import email_enqueue
from tenants.db import tenant_connection

logger = logging.getLogger(__name__)

# Institution.settings key that says a connector is configured: the cheap check that lets
# sync_enqueue_for do nothing, without a query, for an institution that reports nowhere.
SETTINGS_FLAG = "sync_connector"
# At most this many jobs queued by one change get a task each; more wait for one sweep.
TASK_PER_JOB_LIMIT = 20
# A retry due sooner than this is also published with a countdown; later ones wait for the sweep.
COUNTDOWN_LIMIT_SECONDS = 300


# --- Connector configuration ----------------------------------------------------------------


def connector_class(key: str) -> type[Connector]:
    try:
        path = settings.SYNC_CONNECTORS[key]
    except KeyError as error:
        raise ValidationError({"connector": f"Unknown connector {key!r}."}) from error
    loaded: type[Connector] = import_string(path)
    return loaded


def connector_load() -> Connector | None:
    """The current institution's active connector, or None."""
    config = ConnectorConfig.objects.filter(pk=1, is_active=True).first()
    if config is None or config.connector not in settings.SYNC_CONNECTORS:
        return None
    return connector_class(config.connector)(
        base_url=config.base_url,
        credentials=credentials_decrypt(config.credentials_encrypted),
        timeout=config.timeout_seconds,
        max_attempts=config.max_attempts,
    )


def _connector_for_enqueue() -> Connector | None:
    # A schema entered by name alone (schema_context) has a stand-in tenant without settings.
    flags = getattr(tenant_connection.tenant, "settings", None)
    if isinstance(flags, dict) and not flags.get(SETTINGS_FLAG):
        return None  # no connector configured: no query at all
    return connector_load()


def connector_config_save(
    *,
    actor: User | None,
    connector: str,
    base_url: str,
    credentials: dict[str, str] | None = None,
    is_active: bool = True,
    max_attempts: int = 6,
    timeout_seconds: float = 20.0,
) -> ConnectorConfig:
    """Configure (or change) the institution's connector. Empty credential values keep the
    stored ones, so a form need never show a secret again."""
    permission_check(
        actor=actor,
        permission="integrations.configure_gateway",
        action="integrations.connector_config_save",
    )
    connector_class(connector)
    institution = tenant_connection.tenant
    with transaction.atomic(durable=True):
        config = ConnectorConfig.objects.select_for_update().filter(pk=1).first()
        config = config or ConnectorConfig(pk=1)
        stored = credentials_decrypt(config.credentials_encrypted)
        changed = sorted(name for name, value in (credentials or {}).items() if value)
        stored.update({name: value for name, value in (credentials or {}).items() if value})
        config.connector, config.base_url, config.is_active = connector, base_url, is_active
        config.max_attempts, config.timeout_seconds = max_attempts, timeout_seconds
        config.credentials_encrypted = credentials_encrypt(stored)
        config.full_clean()
        config.save()
        institution.settings = {
            **(institution.settings or {}),
            SETTINGS_FLAG: connector if is_active else "",
        }
        type(institution).objects.filter(pk=institution.pk).update(settings=institution.settings)
        audit_record(
            actor=actor,
            action="integrations.connector_configured",
            entity=config,
            new_values={
                "connector": connector,
                "base_url": base_url,
                "is_active": is_active,
                "max_attempts": max_attempts,
                "timeout_seconds": timeout_seconds,
                "credentials_changed": changed,  # names only, never values
            },
        )
    return config


# --- The outbox -----------------------------------------------------------------------------


def canonical_json(value: Any) -> str:
    """`value` as JSON, the same text for the same content: what hashes and tokens are of."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def payload_hash(*, entity_type: str, entity_id: str, payload: dict[str, Any]) -> str:
    """The version of a record as the external system sees it."""
    return hashlib.sha256(canonical_json([entity_type, entity_id, payload]).encode()).hexdigest()


# A record is reported (registered at the gateway, or its registration on its way) once it has
# a create job that did not fail or was not cancelled: its builder then sends changes to it.
_REPORTING = Q(job_type__endswith="_create") & ~Q(
    status__in=(SyncJobStatus.FAILED, SyncJobStatus.CANCELLED)
)


def reported_ids(entity_type: str, ids: Iterable[str]) -> set[str]:
    """The ids among `ids` of records of `entity_type` that are reported (see _REPORTING)."""
    return set(
        SyncJob.objects.filter(_REPORTING, entity_type=entity_type, entity_id__in=list(ids))
        .values_list("entity_id", flat=True)
        .distinct()
    )


def sync_enqueue_for(entity: Model) -> SyncJob | None:
    """Queue the sync job `entity` needs after this change, in the current transaction; call
    it at the end of the change's transaction. Does nothing when no connector is configured,
    or when the record is unchanged as the external system sees it. Raises
    PayloadBuilderMissing when no app registered a payload builder for its type."""
    jobs = sync_enqueue_many([entity])
    return jobs[0] if jobs else None


# A record whose last job ended so is not at the external system as that job had it.
ENDED_UNSENT = (SyncJobStatus.FAILED, SyncJobStatus.DEAD_LETTER, SyncJobStatus.CANCELLED)


def sync_enqueue_many(
    entities: Iterable[Model], *, resend_unsent: bool = False, resend: str = "", anew: bool = False
) -> list[SyncJob]:
    """`sync_enqueue_for` for many records of one type at once (a bulk import): two queries
    and one bulk insert, whatever their number. With `resend_unsent`, a record whose last job
    ended unsent (failed, dead letter, cancelled: one withheld for a consent since given) is
    queued again even if unchanged: for a change of the person the record is about, never for
    an unrelated change (a job an admin cancelled stays cancelled).

    With `resend` (a token naming why: the gateway's differing state, from reconciliation),
    every record is queued as a new version even if unchanged; the same token again makes the
    same job, so a re-send asked for twice is sent once. With `anew` as well, each record is
    built as if the gateway had never had it (a create): for a record it accepted once and has
    lost since, whose changes would go to a reference it no longer knows.

    Each job carries the record's next version (its last job's plus one), which the gateway
    holds the record at: it refuses an older version than it has (integrations.connectors).
    The records are locked (until the caller's transaction ends) before their jobs are read,
    so that two changes queued at once take one version each, in the order they commit."""
    entities = list(entities)
    if not entities:
        return []
    entity_type = entities[0]._meta.label_lower
    if any(entity._meta.label_lower != entity_type for entity in entities[1:]):
        raise ValueError("sync_enqueue_many takes records of one type.")
    build = payloads.builder_for(entity_type)
    if _connector_for_enqueue() is None:
        return []
    ids = [str(entity.pk) for entity in entities]
    with transaction.atomic():
        _records_lock(entity_type, ids)
        return _enqueue_locked(
            entities, ids, entity_type, build, resend_unsent=resend_unsent, resend=resend, anew=anew
        )


# A change queueing more records than this locks their whole type instead of each record:
# every advisory lock takes a slot of the server's lock table until the transaction ends.
RECORD_LOCK_LIMIT = 500


def _lock_key(*parts: str) -> int:
    """A stable signed 64-bit advisory lock key for a record (or a record type) in this
    institution's schema."""
    seed = "\x1f".join([tenant_connection.schema_name, *parts]).encode()
    return int.from_bytes(hashlib.blake2b(seed, digest_size=8).digest(), "big", signed=True)


def _records_lock(entity_type: str, ids: list[str]) -> None:
    """Hold each record's lock until the transaction ends, so that two changes of a record
    queued at once read each other's jobs and take the next version one after the other.
    Every caller holds its type's lock, shared for a few records (each record's lock then, in
    key order: no deadlock), alone for many."""
    type_key = _lock_key(entity_type)
    with connection.cursor() as cursor:
        if len(ids) > RECORD_LOCK_LIMIT:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [type_key])
            return
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s)", [type_key])
        cursor.execute(
            "SELECT pg_advisory_xact_lock(key) FROM unnest(%s::bigint[]) AS key",
            [sorted({_lock_key(entity_type, entity_id) for entity_id in ids})],
        )


def _enqueue_locked(
    entities: list[Model],
    ids: list[str],
    entity_type: str,
    build: payloads.PayloadBuilder,
    *,
    resend_unsent: bool,
    resend: str,
    anew: bool,
) -> list[SyncJob]:
    """sync_enqueue_many's work once its records are locked."""
    # entity id -> its last job's hash, key, status and version
    latest: dict[str, tuple[str, str, str, int]] = {}
    reported: set[str] = set()
    history = (
        SyncJob.objects.filter(entity_type=entity_type, entity_id__in=ids)
        .annotate(reports=ExpressionWrapper(_REPORTING, output_field=BooleanField()))
        .order_by("id")
        .values("entity_id", "reports", "status", "payload_hash", "idempotency_key", "version")
    )
    # reported_ids' rule, read with the history in its one query.
    for row in history:
        latest[row["entity_id"]] = (
            row["payload_hash"],
            row["idempotency_key"],
            row["status"],
            row["version"],
        )
        if row["reports"]:
            reported.add(row["entity_id"])
    correlation_id = current_context().correlation_id or ""
    jobs = []
    for entity, entity_id in zip(entities, ids, strict=True):
        request = build(entity, reported=entity_id in reported and not anew)
        if request is None:
            continue
        version = payload_hash(
            entity_type=entity_type, entity_id=entity_id, payload=request.payload
        )
        last_hash, chain, last_status, last_version = latest.get(entity_id, ("", "", "", 0))
        unchanged = last_hash == version and (not resend_unsent or last_status not in ENDED_UNSENT)
        if unchanged and not resend:
            continue  # unchanged since the last job
        # Chained to the previous job, so that a record changed back to an earlier version
        # still makes a new job; the same change saved twice makes the same key, hence one job.
        seed = f"{request.job_type}:{version}:{chain}" + (f":{resend}" if resend else "")
        key = hashlib.sha256(seed.encode()).hexdigest()
        jobs.append(
            SyncJob(
                job_type=request.job_type,
                entity_type=entity_type,
                entity_id=entity_id,
                correlation_id=correlation_id[:64],
                idempotency_key=key,
                payload=request.payload,
                payload_hash=version,
                version=last_version + 1,
            )
        )
    if not jobs:
        return []
    # A job whose key exists is the same change queued already: that one stands.
    SyncJob.objects.bulk_create(jobs, ignore_conflicts=True, batch_size=2000)
    stored = list(SyncJob.objects.filter(idempotency_key__in=[job.idempotency_key for job in jobs]))
    missing = {job.idempotency_key for job in jobs} - {job.idempotency_key for job in stored}
    if missing:
        # Skipped for another conflict (a version taken by a job queued without the lock):
        # an error rather than a change that silently never reaches the gateway.
        raise IntegrityError(
            f"{len(missing)} sync job(s) of {entity_type} could not be queued: their version "
            "is taken by another job."
        )
    created = [job for job in stored if job.status == SyncJobStatus.QUEUED]
    sync_jobs_recorded.send(sender=SyncJob, jobs=created)
    if len(created) <= TASK_PER_JOB_LIMIT:
        for job in created:
            _publish_on_commit("run", job.pk)
    else:
        _publish_on_commit("sweep", None)
    return created


def _publish(
    kind: str, job_id: int | None, headers: dict[str, Any], countdown: float | None = None
) -> None:
    """Hand a job to the workers. A broker that cannot be reached loses nothing: the job is in
    the table, and the beat sweep sends it."""
    from integrations.tasks import sync_job_run_task, sync_jobs_sweep_task

    try:
        if kind == "run":
            sync_job_run_task.apply_async([job_id], headers=headers, countdown=countdown)
        else:
            sync_jobs_sweep_task.apply_async(headers=headers)
    except Exception as error:
        logger.warning(
            "Sync %s %s not queued (%s); the sweep will send it.",
            kind,
            job_id or "",
            type(error).__name__,
        )


def _publish_on_commit(kind: str, job_id: int | None, countdown: float | None = None) -> None:
    from tenant_schemas_celery.task import headers_with_schema

    # The schema now, not when the transaction commits (see config.celery.InstitutionTask).
    headers = headers_with_schema(None)
    transaction.on_commit(lambda: _publish(kind, job_id, headers, countdown))


# --- Running jobs ---------------------------------------------------------------------------

# Due jobs a sweep claims, sends and records together: one claim and one record transaction
# for the batch instead of two per job.
SWEEP_BATCH_SIZE = 25


def _due(now: datetime) -> Q:
    queued = Q(status=SyncJobStatus.QUEUED) & (
        Q(next_retry_at__isnull=True) | Q(next_retry_at__lte=now)
    )
    abandoned = Q(status=SyncJobStatus.RUNNING, locked_until__lt=now)
    return queued | abandoned


@dataclass
class ClaimedJob:
    """A job this worker holds (under its lease) with the attempt it is making."""

    job: SyncJob
    attempt: SyncAttempt


@dataclass
class Claim:
    """What one claim took: the jobs to send, those it found superseded (not to send), and
    those it put off to wait for a record they belong to."""

    jobs: list[ClaimedJob]
    superseded: list[SyncJob]
    deferred: list[SyncJob] = field(default_factory=list)


def _newest_accepted(jobs: Iterable[SyncJob]) -> dict[tuple[str, str], int]:
    """The newest version of each of these jobs' records that the gateway accepted."""
    jobs = list(jobs)
    accepted = (
        SyncJob.objects.filter(
            status=SyncJobStatus.SUCCEEDED,
            entity_type__in={job.entity_type for job in jobs},
            entity_id__in={job.entity_id for job in jobs},
        )
        .order_by()
        .values_list("entity_type", "entity_id")
        .annotate(newest=Max("version"))
    )
    return {(entity_type, entity_id): newest for entity_type, entity_id, newest in accepted}


def _supersede(jobs: list[SyncJob], *, newest: dict[tuple[str, str], int]) -> None:
    """Retire jobs whose record the gateway has accepted in a newer version: sending them now
    would put an older version over a newer one. Inside the caller's transaction."""
    now = timezone.now()
    for job in jobs:
        job.updated_at = now
        accepted = newest[(job.entity_type, job.entity_id)]
        job.status = SyncJobStatus.SUPERSEDED
        job.last_error = (
            f"Superseded: the gateway accepted version {accepted} of this record, newer than "
            f"this job's version {job.version}, so this one is not sent."
        )
        job.next_retry_at = job.locked_until = None
    SyncJob.objects.bulk_update(
        jobs, ["status", "last_error", "next_retry_at", "locked_until", "updated_at"]
    )
    sync_jobs_recorded.send(sender=SyncJob, jobs=jobs)


def sync_jobs_claim(*, connector: Connector, limit: int = 1, job_id: int | None = None) -> Claim:
    """Take up to `limit` due jobs (this one, or the most overdue) for this worker, with
    SELECT ... FOR UPDATE SKIP LOCKED. Committed before anything is sent: the lease is what
    keeps other workers away while we send. A job whose record the gateway already holds in a
    newer version is superseded here instead of being sent."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        due = SyncJob.objects.select_for_update(skip_locked=True).filter(_due(now))
        if job_id is not None:
            due = due.filter(pk=job_id)
        else:
            due = due.order_by(F("next_retry_at").asc(nulls_first=True), "id")
        jobs = list(due[:limit])
        if not jobs:
            return Claim([], [])
        abandoned = [job.pk for job in jobs if job.status == SyncJobStatus.RUNNING]
        if abandoned:
            # Their worker died (or hung) past the lease; it may or may not have sent.
            SyncAttempt.objects.filter(
                job_id__in=abandoned, outcome=SyncAttemptOutcome.RUNNING
            ).update(
                outcome=SyncAttemptOutcome.ABANDONED,
                finished_at=now,
                error="The worker stopped before recording an outcome.",
            )
        newest = _newest_accepted(jobs)
        outdated = [
            job for job in jobs if newest.get((job.entity_type, job.entity_id), 0) > job.version
        ]
        if outdated:
            _supersede(outdated, newest=newest)
        # Sent in the order they were queued: a record's versions go oldest first.
        jobs = sorted((job for job in jobs if job not in outdated), key=lambda job: job.pk)
        deferred = _waiting_deferred(jobs, now)
        jobs = [job for job in jobs if job not in deferred]
        if not jobs:
            return Claim([], outdated, deferred)
        numbers = dict(
            SyncAttempt.objects.filter(job__in=jobs)
            .order_by()
            .values_list("job")
            .annotate(last=Max("number"))
        )
        lease = now + timedelta(seconds=connector.lease_seconds)
        for job in jobs:
            job.status, job.locked_until, job.updated_at = SyncJobStatus.RUNNING, lease, now
            job.attempts += 1
        SyncJob.objects.bulk_update(jobs, ["status", "attempts", "locked_until", "updated_at"])
        attempts = SyncAttempt.objects.bulk_create(
            SyncAttempt(job=job, number=numbers.get(job.pk, 0) + 1, started_at=now) for job in jobs
        )
    return Claim(
        [ClaimedJob(job, attempt) for job, attempt in zip(jobs, attempts, strict=True)],
        outdated,
        deferred,
    )


def _waiting_deferred(jobs: list[SyncJob], now: datetime) -> list[SyncJob]:
    """Of the jobs being claimed, those that name a record (payloads.GATEWAY_REFERENCE) the
    gateway has not accepted, which is not in the batch but on its way: put off, untried, until
    that record's job is due (shortly, if it is being sent). Without a try they cost no
    attempt and no send; inside the claim's transaction."""
    batch = {(job.entity_type, job.entity_id) for job in jobs}
    named = {job.pk: set(payloads.records_named(job.payload)) - batch for job in jobs}
    references = _accepted_references(set().union(*named.values()))
    missing = {key for key, reference in references.items() if not reference}
    if not missing:
        return []
    due = _on_its_way_due(missing, now)
    deferred = []
    for job in jobs:
        waits = [due[key] for key in named[job.pk] & missing if key in due]
        if waits:
            entity_type, entity_id = next(iter(sorted(named[job.pk] & missing)))
            job.next_retry_at = max(waits)
            job.last_error = (
                f"Waiting: the gateway has not yet accepted the "
                f"{entity_type.split('.', 1)[-1]} #{entity_id} this record belongs to."
            )
            job.updated_at = now
            deferred.append(job)
    if deferred:
        SyncJob.objects.bulk_update(deferred, ["next_retry_at", "last_error", "updated_at"])
    return deferred


def _on_its_way_due(
    keys: set[tuple[str, str]], now: datetime, *, besides: int | None = None
) -> dict[tuple[str, str], datetime]:
    """For each of these records with a job on its way (other than `besides`, the waiting job
    itself), when a job waiting for it should look again: just after its queued job is due,
    shortly if it is being sent. One query."""
    records = Q()
    for entity_type, entity_id in keys:
        records |= Q(entity_type=entity_type, entity_id=entity_id)
    on_its_way = SyncJob.objects.filter(
        records, status__in=(SyncJobStatus.QUEUED, SyncJobStatus.RUNNING)
    )
    if besides is not None:
        on_its_way = on_its_way.exclude(pk=besides)
    soon = now + timedelta(seconds=WAIT_FOR_SENDING_SECONDS)
    due: dict[tuple[str, str], datetime] = {}
    for entity_type, entity_id, status, next_retry_at in on_its_way.values_list(
        "entity_type", "entity_id", "status", "next_retry_at"
    ):
        when = soon if status == SyncJobStatus.RUNNING else max(next_retry_at or now, now)
        key = (entity_type, entity_id)
        due[key] = min(due.get(key, when), when)
    # Just after it: claims take jobs due first first, so it goes before those waiting for it.
    return {key: when + timedelta(milliseconds=20) for key, when in due.items()}


def _on_its_way_until(
    entity_type: str, entity_id: str, *, besides: int | None = None
) -> datetime | None:
    """`_on_its_way_due` for one record; None when no job of it is on its way."""
    key = (entity_type, entity_id)
    return _on_its_way_due({key}, timezone.now(), besides=besides).get(key)


# The references of the records the batch being sent names (its jobs' own records and those
# their payloads refer to), read in one query when the batch starts ("" for a record without
# one yet), and those the gateway gives records of the batch as they are accepted, before they
# are recorded: a record sent later in the same batch that belongs to one of them (an
# enrolment to its run) goes in the same batch instead of waiting for a retry.
_batch_references: ContextVar[dict[tuple[str, str], str] | None] = ContextVar(
    "batch_references", default=None
)


def _accepted_references(keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The reference the gateway last gave each of these records ("" for none), in one query."""
    if not keys:
        return {}
    ids_by_type: dict[str, set[str]] = {}
    for entity_type, entity_id in keys:
        ids_by_type.setdefault(entity_type, set()).add(entity_id)
    records = Q()
    for entity_type, ids in ids_by_type.items():
        records |= Q(entity_type=entity_type, entity_id__in=sorted(ids))
    found = (
        SyncJob.objects.filter(records, status=SyncJobStatus.SUCCEEDED)
        .exclude(external_reference="")
        .order_by("entity_type", "entity_id", "-id")
        .distinct("entity_type", "entity_id")
        .values_list("entity_type", "entity_id", "external_reference")
    )
    references = dict.fromkeys(keys, "")
    references.update({(entity_type, entity_id): ref for entity_type, entity_id, ref in found})
    return references


def _reference_of(entity_type: str, entity_id: str) -> str:
    known = _batch_references.get()
    if known is not None and (entity_type, entity_id) in known:
        return known[(entity_type, entity_id)]
    return (
        SyncJob.objects.filter(
            entity_type=entity_type, entity_id=entity_id, status=SyncJobStatus.SUCCEEDED
        )
        .exclude(external_reference="")
        .order_by("-id")
        .values_list("external_reference", flat=True)
        .first()
        or ""
    )


def _gateway_reference_resolve(placeholder: dict[str, Any]) -> str:
    """The reference the gateway gave another record (payloads.GATEWAY_REFERENCE), or wait."""
    entity_type, entity_id = placeholder[payloads.GATEWAY_REFERENCE], str(placeholder["id"])
    reference = _reference_of(entity_type, entity_id)
    if not reference:
        label = entity_type.split(".", 1)[-1]
        raise payloads.PayloadNotReady(
            f"the gateway has not yet accepted the {label} #{entity_id} this record belongs to.",
            due_at=_on_its_way_until(entity_type, entity_id),
        )
    return reference


# How long a record waits for one that another worker is sending now.
WAIT_FOR_SENDING_SECONDS = 1.0


payloads.register_resolver(payloads.GATEWAY_REFERENCE, _gateway_reference_resolve, secret=False)


def _own_reference_or_wait(job: SyncJob) -> ReferenceLookup:
    """The connector's lookup of a record's own reference for a change (an update goes to it),
    waiting like a placeholder while the record's creation is still on its way."""

    def lookup(entity_type: str, entity_id: str) -> str:
        reference = _reference_of(entity_type, entity_id)
        if reference:
            return reference
        due_at = _on_its_way_until(entity_type, entity_id, besides=job.pk)
        if due_at is None:
            return ""  # nothing on its way: the connector fails it as a retry
        raise payloads.PayloadNotReady(
            "the gateway has to accept the record's creation first.", due_at=due_at
        )

    return lookup


def retry_delay(connector: Connector, attempts: int) -> float:
    """Exponential backoff with full jitter."""
    ceiling = min(connector.retry_cap_seconds, connector.retry_base_seconds * 2**attempts)
    return random.uniform(0, ceiling)  # noqa: S311 - spreading retries, not a secret


@dataclass
class SentJob:
    """A claimed job after its send: how it ended, whether its record withheld it, and whether
    it waits for another record the gateway has not accepted yet."""

    claimed: ClaimedJob
    result: SendResult
    withheld: bool = False
    waiting: bool = False


def _send(claimed: ClaimedJob, connector: Connector) -> SentJob:
    """Send one claimed job, outside any transaction; every failure becomes a result."""
    job = claimed.job
    filled: tuple[str, ...] = ()
    withheld = waiting = False
    try:
        payloads.send_check(job.entity_type, job.entity_id, job_type=job.job_type)
        # Values kept out of the job row (an ID number) are filled in here, for this send only.
        resolved = payloads.resolve(job.payload)
        filled = resolved.filled
        result = connector.send(
            job_type=job.job_type,
            payload=resolved.payload,
            idempotency_key=job.idempotency_key,
            version=job.version,
            references=_own_reference_or_wait(job),
            entity_type=job.entity_type,
            entity_id=job.entity_id,
        )
    except payloads.PayloadWithheld as reason:
        withheld = True
        result = SendResult("permanent", error=f"{payloads.WITHHELD_PREFIX} {reason}")
    except payloads.PayloadNotReady as reason:
        waiting = True
        result = SendResult("retryable", error=f"Waiting: {reason}", wait_until=reason.due_at)
    except Exception as error:  # a connector bug must not leave the job running
        # The error's text may quote what was sent: logged scrubbed, without the traceback.
        logger.error(
            "Sync job %s: the connector failed: %s",
            job.pk,
            _long_numbers_cut(_scrub(f"{type(error).__name__}: {error}", filled)),
        )
        result = SendResult("retryable", error=f"{type(error).__name__}: {error}")
    if filled:
        # The gateway may quote what it was sent (an ID number) in its error: not stored.
        result = replace(
            result,
            error=_long_numbers_cut(_scrub(result.error, filled)),
            response=_scrub(result.response, filled),
        )
    return SentJob(claimed, result, withheld, waiting)


def _sent_noted(item: SentJob, accepted: dict[tuple[str, str], str]) -> SentJob:
    """Note the reference an accepted send was given, for the rest of the batch."""
    if item.result.accepted and item.result.external_reference:
        job = item.claimed.job
        accepted[(job.entity_type, job.entity_id)] = item.result.external_reference
    return item


def sync_jobs_run(
    *, connector: Connector, limit: int = SWEEP_BATCH_SIZE, job_id: int | None = None
) -> list[SyncJob]:
    """Claim up to `limit` due jobs (or `job_id`), send them one after the other over the
    connector's kept-alive connection, and record their outcomes in one transaction. Returns
    the jobs as recorded, superseded ones included; empty when nothing was due."""
    claim = sync_jobs_claim(connector=connector, limit=limit, job_id=job_id)
    if not claim.jobs:
        return claim.superseded + claim.deferred
    # A send may start only while the lease has room for the longest it may take, so that no
    # other worker takes a job over while we still hold it; the rest go back to the queue.
    last_start = (
        time.monotonic()
        + connector.lease_seconds
        - connector.send_seconds
        - connector.lease_margin_seconds
    )
    known = _accepted_references(
        {
            key
            for claimed in claim.jobs
            for key in [
                (claimed.job.entity_type, claimed.job.entity_id),
                *payloads.records_named(claimed.job.payload),
            ]
        }
    )
    accepted: dict[tuple[str, str], str] = {}
    context = _batch_references.set(known)
    try:
        sent: list[SentJob] = []
        for claimed in claim.jobs:
            if sent and time.monotonic() > last_start:
                break
            sent.append(_sent_noted(_send(claimed, connector), accepted))
            known.update(accepted)
        # Records that waited for one accepted later in the batch go now, once.
        for index, item in enumerate(sent):
            if item.waiting and accepted and time.monotonic() <= last_start:
                sent[index] = _sent_noted(_send(item.claimed, connector), accepted)
                known.update(accepted)
    finally:
        _batch_references.reset(context)
    recorded = sync_jobs_record(sent=sent, unsent=claim.jobs[len(sent) :], connector=connector)
    for item, job in zip(sent, recorded, strict=True):
        if item.withheld:
            _withheld_rebuild(job)
    return claim.superseded + claim.deferred + recorded


def sync_job_run(
    *, job_id: int | None = None, connector: Connector | None = None
) -> SyncJob | None:
    """Claim, send and record one job (`job_id`, or the most overdue due one). Returns the job
    as recorded, or None when there was nothing to run (not due, done, or another worker has
    it): a repeated task is harmless."""
    connector = connector or connector_load()
    if connector is None:
        return None
    handled = sync_jobs_run(connector=connector, limit=1, job_id=job_id)
    return handled[0] if handled else None


# A run of seven digits or more, spaces and hyphens between them allowed: a filled-in number
# the external system quoted in another shape (spaced, say), or part of one.
_LONG_NUMBER = re.compile(r"\d(?:[ -]?\d){6,}")


def _long_numbers_cut(text: str) -> str:
    """The error text of a job that carried a secret number, every long run of digits cut to
    its last four: what is kept, logged and e-mailed of it."""
    return _LONG_NUMBER.sub(lambda found: "•••• " + re.sub(r"\D", "", found[0])[-4:], text)


def _scrub(value: Any, filled: tuple[str, ...]) -> Any:
    """`value` with each filled-in value (also where it comes back as a JSON number or a key)
    cut to its last four characters."""
    if not filled:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and str(value) in filled:
        value = str(value)
    if isinstance(value, str):
        for clear in filled:
            value = value.replace(clear, f"•••• {clear[-4:]}")
        return value
    if isinstance(value, dict):
        return {_scrub(key, filled): _scrub(item, filled) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, filled) for item in value]
    return value


def _withheld_rebuild(job: SyncJob) -> None:
    """A job withheld at send time is built again from its record as it is now: a job queued
    with a number since changed makes way for one with the new number. One that would be the
    same again is not queued (it would be withheld again)."""
    try:
        model = apps.get_model(job.entity_type)
        with transaction.atomic(durable=True):
            entity = model._default_manager.filter(pk=job.entity_id).first()
            if entity is not None:
                sync_enqueue_many([entity])
    except Exception as error:  # the sweep goes on to the other jobs whatever this one does
        logger.warning(
            "Sync job %s: its record could not be queued again (%s).", job.pk, type(error).__name__
        )


def _outcome_apply(
    job: SyncJob, result: SendResult, *, connector: Connector, now: datetime
) -> float | None:
    """Move a job on from its attempt's result. Returns the countdown of a retry soon enough
    to publish as a task (later ones wait for the sweep)."""
    job.response = connector.redact(result.response) if result.response else {}
    job.locked_until = None
    job.next_retry_at = None
    job.updated_at = now
    job.last_error = result.error
    if result.accepted:
        job.status = SyncJobStatus.SUCCEEDED
        job.external_reference = result.external_reference or job.external_reference
        job.last_error = ""
        # The acknowledgement may quote personal data: only its receipt keeps it (encrypted).
        job.response = {"reference": job.external_reference} if job.external_reference else {}
    elif result.outcome == SyncAttemptOutcome.STALE:
        # Nothing went wrong and nothing is left to do: the gateway has a later version.
        job.status = SyncJobStatus.SUPERSEDED
        job.last_error = (
            "Superseded: the gateway already holds a newer version of this record than this "
            f"job's version {job.version}, so it kept that one; nothing more to send."
        )
    elif result.outcome == SyncAttemptOutcome.PERMANENT:
        job.status = SyncJobStatus.FAILED
    elif result.wait_until is not None:
        # Not a failed try: it goes once the record it belongs to has reached the gateway.
        job.status = SyncJobStatus.QUEUED
        job.attempts -= 1
        job.next_retry_at = max(result.wait_until, now)
        wait = (job.next_retry_at - now).total_seconds()
        return wait if wait <= COUNTDOWN_LIMIT_SECONDS else None
    elif job.attempts >= connector.max_attempts:
        job.status = SyncJobStatus.DEAD_LETTER
    else:
        delay = retry_delay(connector, job.attempts)
        job.status = SyncJobStatus.QUEUED
        job.next_retry_at = now + timedelta(seconds=delay)
        return delay if delay <= COUNTDOWN_LIMIT_SECONDS else None
    return None


def _receipt(job: SyncJob, attempt: SyncAttempt, result: SendResult, now: datetime) -> SyncReceipt:
    """What the gateway acknowledged, kept whole but encrypted: it may quote personal data."""
    return SyncReceipt(
        job=job,
        attempt=attempt,
        external_reference=result.external_reference,
        http_status=result.http_status,
        duplicate=result.outcome == SyncAttemptOutcome.DUPLICATE,
        acknowledgement_encrypted=at_rest_encrypt(result.response),
        received_at=now,
    )


def _supersede_older_queued(accepted: list[SyncJob]) -> None:
    """Queued jobs of older versions of records just accepted are superseded at once: they
    must never follow the newer version to the gateway. Jobs another worker has locked (in its
    claim) are left to the claim's own check."""
    newest: dict[tuple[str, str], int] = {}
    for job in accepted:
        key = (job.entity_type, job.entity_id)
        newest[key] = max(newest.get(key, 0), job.version)
    older = Q()
    for (entity_type, entity_id), version in newest.items():
        older |= Q(entity_type=entity_type, entity_id=entity_id, version__lt=version)
    outdated = list(
        SyncJob.objects.select_for_update(skip_locked=True)
        .filter(older, status=SyncJobStatus.QUEUED)
        .order_by("pk")
    )
    if outdated:
        _supersede(outdated, newest=newest)


def sync_jobs_record(
    *, sent: list[SentJob], unsent: list[ClaimedJob], connector: Connector
) -> list[SyncJob]:
    """Record a batch in one transaction: each attempt's outcome, each job's next state, a
    receipt for each acknowledgement; claimed jobs not sent go back to the queue untried. A job
    whose lease ran out and that another worker took over is left for that worker to record.
    Returns the jobs of `sent`, in its order, as recorded."""
    now = timezone.now()
    countdowns: list[tuple[int, float]] = []
    claimed = [item.claimed for item in sent] + unsent
    with transaction.atomic(durable=True):
        locked = {
            job.pk: job
            for job in SyncJob.objects.select_for_update()
            .filter(pk__in=[item.job.pk for item in claimed])
            .order_by("pk")
        }
        held = set(
            SyncAttempt.objects.filter(
                pk__in=[item.attempt.pk for item in claimed], outcome=SyncAttemptOutcome.RUNNING
            ).values_list("pk", flat=True)
        )

        def ours(item: ClaimedJob) -> bool:
            return item.attempt.pk in held and locked[item.job.pk].status == SyncJobStatus.RUNNING

        released = [locked[item.job.pk] for item in unsent if ours(item)]
        if released:
            SyncAttempt.objects.filter(
                pk__in=[item.attempt.pk for item in unsent if ours(item)]
            ).delete()
            for job in released:
                job.status, job.locked_until, job.updated_at = SyncJobStatus.QUEUED, None, now
                job.attempts -= 1
            SyncJob.objects.bulk_update(
                released, ["status", "locked_until", "attempts", "updated_at"]
            )
        changed: list[SyncJob] = []
        receipts: list[SyncReceipt] = []
        for item in sent:
            attempt, result, job = item.claimed.attempt, item.result, locked[item.claimed.job.pk]
            if ours(item.claimed):
                changed.append(job)
                countdown = _outcome_apply(job, result, connector=connector, now=now)
                if countdown is not None:
                    countdowns.append((job.pk, countdown))
            attempt.outcome = result.outcome
            attempt.http_status = result.http_status
            attempt.error = result.error[:4000]
            attempt.finished_at = now
            if result.accepted:
                receipts.append(_receipt(job, attempt, result, now))
        SyncAttempt.objects.bulk_update(
            [item.claimed.attempt for item in sent],
            ["outcome", "http_status", "error", "finished_at"],
        )
        SyncReceipt.objects.bulk_create(receipts)
        SyncJob.objects.bulk_update(
            changed,
            [
                "status",
                "attempts",
                "response",
                "locked_until",
                "external_reference",
                "last_error",
                "next_retry_at",
                "updated_at",
            ],
        )
        for job in changed:
            if job.status in (SyncJobStatus.FAILED, SyncJobStatus.DEAD_LETTER):
                audit_record(
                    action=f"sync_job.{job.status}",
                    entity=job,
                    new_values={"attempts": job.attempts, "error": job.last_error[:500]},
                )
            if job.status == SyncJobStatus.DEAD_LETTER and job.dead_letter_notified_at is None:
                _notify_dead_letter(job)
        sync_jobs_recorded.send(sender=SyncJob, jobs=changed)
        accepted = [job for job in changed if job.status == SyncJobStatus.SUCCEEDED]
        if accepted:
            _supersede_older_queued(accepted)
        for job_id, countdown in countdowns:
            _publish_on_commit("run", job_id, countdown)
    return [locked[item.claimed.job.pk] for item in sent]


def _notify_dead_letter(job: SyncJob) -> None:
    """E-mail the institution's admins, once per job, that it needs a person."""
    from django.urls import reverse

    from tenants.sites import institution_url

    url = institution_url(
        tenant_connection.tenant, reverse("integrations:job_detail", args=[job.pk])
    )
    admins = users_with_permission("integrations.manage_sync")
    for admin in admins.order_by("pk"):
        email_enqueue(
            recipient=admin.email,
            template="sync_dead_letter",
            context={
                "full_name": admin.full_name,
                "job": str(job),
                "attempts": job.attempts,
                "error": job.last_error[:500],
                "url": url,
            },
        )
    job.dead_letter_notified_at = timezone.now()
    job.save(update_fields=["dead_letter_notified_at"])


def sync_jobs_sweep(
    *, limit: int = 500, seconds: float = 240.0, connector: Connector | None = None
) -> int:
    """Run due jobs a batch at a time until none is left, `limit` jobs have run or `seconds`
    have passed (well inside the broker's visibility timeout): the beat's safety net for jobs
    whose task was lost, whose retry is due or whose worker died, and the bulk sender after an
    import. Safe to run in many workers at once. Returns how many jobs it ran."""
    connector = connector or connector_load()
    if connector is None:
        return 0
    ran = 0
    deadline = time.monotonic() + seconds
    try:
        while ran < limit and time.monotonic() < deadline:
            handled = sync_jobs_run(connector=connector, limit=min(SWEEP_BATCH_SIZE, limit - ran))
            if not handled:
                break
            ran += len(handled)
    finally:
        connector.close()
    return ran


# --- People's actions -----------------------------------------------------------------------

# What a person needs for the sync pages and their actions: managing sync, and reaching every
# cohort, since a job may be about any record and sync knows nothing of cohorts to limit it by.
SYNC_MANAGER_PERMISSIONS = ("integrations.manage_sync", "cohorts.access_all_cohorts")


def sync_manager_check(*, actor: User | None, action: str) -> None:
    """Refuse (audited) unless `actor` has every one of SYNC_MANAGER_PERMISSIONS."""
    for permission in SYNC_MANAGER_PERMISSIONS:
        permission_check(actor=actor, permission=permission, action=action)


class StatusChanged(ValidationError):
    """The job is no longer in the status the person (or the list they acted on) saw."""


def sync_job_retry(*, job: SyncJob, actor: User | None, expected_status: str = "") -> SyncJob:
    """Send a failed or dead-letter job again, with a fresh set of attempts. With
    `expected_status`, only a job still in that status (under its row lock) is retried; any
    other raises StatusChanged: a list read before may be out of date."""
    sync_manager_check(actor=actor, action="integrations.sync_job_retry")
    with transaction.atomic(durable=True):
        job = SyncJob.objects.select_for_update().get(pk=job.pk)
        if expected_status and job.status != expected_status:
            raise StatusChanged(
                f"This job is {job.get_status_display().lower()} now, no longer "
                f"{SyncJobStatus(expected_status).label.lower()}: it was left as it is."
            )
        if not job.can_retry:
            raise ValidationError(
                "Only failed or dead-letter jobs can be retried; "
                f"this one is {job.get_status_display().lower()}."
            )
        old = {"status": job.status, "attempts": job.attempts}
        job.status = SyncJobStatus.QUEUED
        job.attempts = 0
        job.next_retry_at = None
        job.dead_letter_notified_at = None
        job.save(
            update_fields=[
                "status",
                "attempts",
                "next_retry_at",
                "dead_letter_notified_at",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="sync_job.retried",
            entity=job,
            old_values=old,
            new_values={"status": job.status},
        )
        sync_jobs_recorded.send(sender=SyncJob, jobs=[job])
        _publish_on_commit("run", job.pk)
    return job


def sync_job_cancel(*, job: SyncJob, actor: User | None) -> SyncJob:
    """Take a queued job out of the queue: it will not be sent."""
    sync_manager_check(actor=actor, action="integrations.sync_job_cancel")
    with transaction.atomic(durable=True):
        job = SyncJob.objects.select_for_update().get(pk=job.pk)
        if not job.can_cancel:
            raise ValidationError(
                "Only queued jobs can be cancelled; "
                f"this one is {job.get_status_display().lower()}."
            )
        job.status = SyncJobStatus.CANCELLED
        job.next_retry_at = None
        job.save(update_fields=["status", "next_retry_at", "updated_at"])
        audit_record(
            actor=actor,
            action="sync_job.cancelled",
            entity=job,
            old_values={"status": SyncJobStatus.QUEUED},
            new_values={"status": SyncJobStatus.CANCELLED},
        )
        sync_jobs_recorded.send(sender=SyncJob, jobs=[job])
    return job
