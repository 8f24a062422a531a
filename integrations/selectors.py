"""Reads for the sync pages, the operators' command and the sync status shown on records."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from accounts.models import User
from integrations import payloads
from integrations.crypto import at_rest_decrypt
from integrations.models import (
    ConnectorConfig,
    SyncAttempt,
    SyncAttemptOutcome,
    SyncJob,
    SyncJobStatus,
    SyncReceipt,
)
from tenants.db import tenant_connection


def sync_job_list(
    *, status: str = "", job_type: str = "", entity_type: str = "", entity_id: str = ""
) -> QuerySet[SyncJob]:
    jobs = SyncJob.objects.order_by("-id")
    if status:
        jobs = jobs.filter(status=status)
    if job_type:
        jobs = jobs.filter(job_type=job_type)
    if entity_type:
        jobs = jobs.filter(entity_type=entity_type)
    if entity_id:
        jobs = jobs.filter(entity_id=entity_id)
    return jobs


def sync_job_status_counts() -> dict[str, int]:
    """Every status with its number of jobs (zero included), in one query."""
    counts = dict(SyncJob.objects.order_by().values_list("status").annotate(count=Count("id")))
    return {status: counts.get(status, 0) for status in SyncJobStatus.values}


def sync_job_detail(*, job_id: int) -> SyncJob:
    return SyncJob.objects.prefetch_related("attempt_log", "receipts__attempt").get(pk=job_id)


@dataclass(frozen=True)
class ReceiptShown:
    """A receipt as the job page lists it: the acknowledgement decrypted and redacted by the
    connector for people who manage sync, empty for anyone else."""

    receipt: SyncReceipt
    acknowledgement: str


def sync_job_receipts(*, job: SyncJob, user: User) -> list[ReceiptShown]:
    """The job's receipts (prefetched by sync_job_detail), oldest first."""
    receipts = sorted(job.receipts.all(), key=lambda receipt: (receipt.received_at, receipt.pk))
    if not receipts or not user.has_perm("integrations.manage_sync"):
        return [ReceiptShown(receipt, "") for receipt in receipts]
    from integrations.services import connector_class

    config = ConnectorConfig.objects.filter(pk=1).first()
    connector = (
        connector_class(config.connector)(base_url=config.base_url, credentials={})
        if config and config.connector in settings.SYNC_CONNECTORS
        else None
    )

    def shown(receipt: SyncReceipt) -> str:
        acknowledgement = at_rest_decrypt(receipt.acknowledgement_encrypted)
        if not acknowledgement or connector is None:
            return ""
        return json.dumps(
            connector.redact(acknowledgement), indent=2, ensure_ascii=False, sort_keys=True
        )

    return [ReceiptShown(receipt, shown(receipt)) for receipt in receipts]


@dataclass(frozen=True)
class SyncState:
    """What a record's page shows about its sync: the latest job and the reference the
    external system gave it."""

    latest: SyncJob | None
    external_reference: str

    @property
    def status(self) -> str:
        return self.latest.status if self.latest else ""


def _connector_ever_configured() -> bool:
    """The flag connector_config_save keeps in Institution.settings: present (even empty, for a
    connector switched off) once one was configured, so earlier jobs still show."""
    from integrations.services import SETTINGS_FLAG

    # A schema entered by name alone (schema_context) has a stand-in tenant without settings.
    flags = getattr(tenant_connection.tenant, "settings", None)
    return not isinstance(flags, dict) or SETTINGS_FLAG in flags


def sync_reporting() -> bool:
    """Whether the institution reports to an external system now (an active connector), from
    the flag connector_config_save keeps in Institution.settings: no query."""
    from integrations.services import SETTINGS_FLAG

    flags = getattr(tenant_connection.tenant, "settings", None)
    return isinstance(flags, dict) and bool(flags.get(SETTINGS_FLAG))


def sync_state_for(*, entity_type: str, entity_id: int | str) -> SyncState | None:
    """None when the record has never had a job (no connector, or nothing to send). An
    institution that never configured a connector costs no query."""
    if not _connector_ever_configured():
        return None
    jobs = SyncJob.objects.filter(entity_type=entity_type, entity_id=str(entity_id))
    latest = jobs.order_by("-id").first()
    if latest is None:
        return None
    reference = (
        jobs.filter(status=SyncJobStatus.SUCCEEDED)
        .exclude(external_reference="")
        .order_by("-id")
        .values_list("external_reference", flat=True)
        .first()
    )
    return SyncState(latest=latest, external_reference=reference or "")


def sync_states_for(*, entity_type: str, entity_ids: list[int | str]) -> dict[str, SyncState]:
    """`sync_state_for` for a list page: every record's state in two queries, keyed by the
    record's id as text (records without a job are absent)."""
    ids = [str(entity_id) for entity_id in entity_ids]
    jobs = SyncJob.objects.filter(entity_type=entity_type, entity_id__in=ids)
    latest = {job.entity_id: job for job in jobs.order_by("entity_id", "-id").distinct("entity_id")}
    references = dict(
        jobs.filter(status=SyncJobStatus.SUCCEEDED)
        .exclude(external_reference="")
        .order_by("entity_id", "-id")
        .distinct("entity_id")
        .values_list("entity_id", "external_reference")
    )
    return {
        entity_id: SyncState(latest=job, external_reference=references.get(entity_id, ""))
        for entity_id, job in latest.items()
    }


# --- Throughput (the jobs page's chart) -------------------------------------------------------

# Outcomes that end a job: accepted (also as a duplicate), superseded by a newer version, or
# refused for good. A retryable failure ends it only when it sent the job to the dead letter.
_FINISHING = (
    SyncAttemptOutcome.SUCCEEDED,
    SyncAttemptOutcome.DUPLICATE,
    SyncAttemptOutcome.STALE,
    SyncAttemptOutcome.PERMANENT,
)


@dataclass(frozen=True)
class HourThroughput:
    """Jobs that finished in one hour, and how many of them failed (refused or dead-lettered)."""

    hour: datetime
    finished: int
    failed: int

    @property
    def succeeded(self) -> int:
        return self.finished - self.failed

    @property
    def failed_share(self) -> float:
        return self.failed / self.finished if self.finished else 0.0


@dataclass(frozen=True)
class Throughput:
    """The last hours' jobs, hour by hour (oldest first), with their totals."""

    hours: list[HourThroughput]

    @property
    def finished(self) -> int:
        return sum(hour.finished for hour in self.hours)

    @property
    def failed(self) -> int:
        return sum(hour.failed for hour in self.hours)

    @property
    def failed_share(self) -> float:
        return self.failed / self.finished if self.finished else 0.0

    @property
    def busiest(self) -> int:
        """The most jobs finished in one hour (at least 1: the chart's scale)."""
        return max([1, *(hour.finished for hour in self.hours)])


def sync_throughput(*, hours: int = 24, now: datetime | None = None) -> Throughput:
    """Every one of the last `hours` hours (the current one last, empty hours included) with
    the jobs that finished in it, in one query. A job finishes with the attempt that ended it:
    accepted, superseded, refused, or the last try before the dead letter. Jobs withheld for a
    missing consent are left out: they were never sent."""
    end = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=hours - 1)
    last_try = ~Exists(
        SyncAttempt.objects.filter(job=OuterRef("job"), number__gt=OuterRef("number"))
    )
    dead_lettered = Q(
        Q(outcome=SyncAttemptOutcome.RETRYABLE) | Q(outcome=SyncAttemptOutcome.ABANDONED),
        last_try,
        job__status=SyncJobStatus.DEAD_LETTER,
    )
    failed = Q(outcome=SyncAttemptOutcome.PERMANENT) | dead_lettered
    # A job withheld here (no consent) never reached the gateway: neither sent nor failed.
    withheld = Q(outcome=SyncAttemptOutcome.PERMANENT, error__startswith=payloads.WITHHELD_PREFIX)
    rows = (
        SyncAttempt.objects.filter(finished_at__gte=start)
        .filter(Q(outcome__in=_FINISHING) | dead_lettered)
        .exclude(withheld)
        .annotate(hour=TruncHour("finished_at", tzinfo=UTC))
        .order_by()
        .values("hour")
        .annotate(finished=Count("id"), failed=Count("id", filter=failed))
    )
    counts = {row["hour"]: (row["finished"], row["failed"]) for row in rows}
    hours_shown = [start + timedelta(hours=offset) for offset in range(hours)]
    return Throughput([HourThroughput(hour, *counts.get(hour, (0, 0))) for hour in hours_shown])
