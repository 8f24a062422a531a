"""Innovation projects' background work: the daily marking of overdue milestones (per
institution) and the virus scan of milestone evidence files."""

from functools import partial

from celery import shared_task
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from enrolments.models import ScanStatus
from enrolments.scanning import SCAN_RETRY_SECONDS, upload_scan_run
from projects.models import MilestoneEvidence
from projects.services.milestones import milestone_evidence_scan_record, milestones_mark_delayed
from tenants.db import tenant_connection
from tenants.models import Institution
from tenants.selectors import schema_names_for_background_work
from tenants.zones import institution_time


@shared_task(name="projects.milestones_mark_delayed")
def milestones_mark_delayed_due() -> dict[str, int]:
    """Mark this institution's overdue milestones delayed (by its own date) and tell leaders
    and mentors once per missed due date. Idempotent."""
    if tenant_connection.schema_name == get_public_schema_name():
        return {"delayed": 0}
    institution = Institution.objects.get(schema_name=tenant_connection.schema_name)
    # Links in the e-mails are built from the institution on the connection; a task run in
    # place (inside schema_context) may have only the schema name there.
    with tenant_context(institution), institution_time(institution):
        return {"delayed": milestones_mark_delayed(today=timezone.localdate())}


@shared_task(name="projects.milestones_mark_delayed_all_institutions")
def milestones_mark_delayed_all_institutions() -> None:
    """Beat entry point: one run per active institution, skipping suspended ones and the
    platform's own schema."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            milestones_mark_delayed_due.delay()


@shared_task(
    name="projects.milestone_evidence_scan", bind=True, max_retries=len(SCAN_RETRY_SECONDS)
)
def milestone_evidence_scan(self, evidence_id: int) -> str:
    """Scan one milestone evidence file and record the verdict. Idempotent: a file that already
    has a verdict is left alone."""
    evidence = MilestoneEvidence.objects.filter(
        pk=evidence_id, scan_status__in=[ScanStatus.SCANNING, ScanStatus.ERROR]
    ).first()
    if evidence is None or not evidence.file:
        return "nothing to scan"
    return upload_scan_run(
        self,
        file=evidence.file,
        what=f"milestone evidence {evidence_id}",
        record=partial(milestone_evidence_scan_record, evidence_id=evidence_id),
    )
