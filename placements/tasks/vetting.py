"""Vetting's background work: clearances past their expiry date expire, and a month before it
the people who manage vetting and the learner are warned, once (daily, per institution); and
evidence is scanned for viruses when a scanner is configured (enrolments.scanning)."""

import datetime
from functools import partial

from celery import shared_task
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from enrolments.models import ScanStatus
from enrolments.scanning import SCAN_RETRY_SECONDS, upload_scan_run
from placements.models import VettingEvidence, VettingRecord, VettingStatus
from placements.services.vetting import (
    EXPIRY_WARNING_DAYS,
    clearance_renewed,
    vetting_evidence_scan_record,
    vetting_expiry_warn,
    vetting_record_expire,
)
from tenants.db import tenant_connection
from tenants.models import Institution
from tenants.selectors import schema_names_for_background_work
from tenants.zones import institution_time


@shared_task(name="placements.vetting_expire")
def vetting_expire() -> dict[str, int]:
    """Expire this institution's clearances whose expiry date has passed (in its time zone),
    then warn about those expiring within EXPIRY_WARNING_DAYS that were not warned about yet
    and have not been renewed.
    Idempotent: each record is re-checked under its lock, so a repeated or concurrent run
    expires nothing twice and sends no second warning."""
    if tenant_connection.schema_name == get_public_schema_name():
        return {"expired": 0, "warned": 0}
    institution = Institution.objects.get(schema_name=tenant_connection.schema_name)
    # Links in the e-mails are built from the institution on the connection; a task run in
    # place (inside schema_context) may have only the schema name there.
    with tenant_context(institution), institution_time(institution):
        today = timezone.localdate()
        cleared = VettingRecord.objects.filter(status=VettingStatus.CLEARED)
        due = cleared.filter(expires_on__lt=today).order_by("pk").values_list("pk", flat=True)
        expired = sum(vetting_record_expire(record_id=pk, today=today) for pk in list(due))
        soon = (
            cleared.filter(
                expiry_warned_at__isnull=True,
                expires_on__gte=today,
                expires_on__lte=today + datetime.timedelta(days=EXPIRY_WARNING_DAYS),
            )
            .exclude(clearance_renewed())
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        warned = sum(vetting_expiry_warn(record_id=pk, today=today) for pk in list(soon))
    return {"expired": expired, "warned": warned}


@shared_task(name="placements.vetting_expire_all_institutions")
def vetting_expire_all_institutions() -> None:
    """Beat entry point: one expiry run per active institution, skipping suspended ones and the
    platform's own schema."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            vetting_expire.delay()


@shared_task(
    name="placements.vetting_evidence_scan", bind=True, max_retries=len(SCAN_RETRY_SECONDS)
)
def vetting_evidence_scan(self, evidence_id: int) -> str:
    """Scan one evidence file with ClamAV (enrolments.scanning.upload_scan_run) and record the
    verdict. Idempotent: evidence that already has a verdict is left alone."""
    evidence = VettingEvidence.objects.filter(
        pk=evidence_id, scan_status__in=[ScanStatus.SCANNING, ScanStatus.ERROR]
    ).first()
    if evidence is None or not evidence.file:
        return "nothing to scan"
    return upload_scan_run(
        self,
        file=evidence.file,
        what=f"vetting evidence {evidence_id}",
        record=partial(vetting_evidence_scan_record, evidence_id=evidence_id),
    )
