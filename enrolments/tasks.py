import logging
from collections.abc import Callable
from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from cohorts.models import CLOSED_STATES, Cohort
from enrolments.agreements import enrollment_agreements_send
from enrolments.models import CohortEnrollment, EnrollmentState, ScanStatus, StudentDocument
from enrolments.reminders import enrollment_remind, reminder_cadence
from enrolments.scanning import (
    SCAN_RETRY_SECONDS,
    scanning_enabled,
    student_document_scan_record,
    upload_scan_run,
)
from enrolments.supporting import supporting_agreements_send_for_cohort
from tenants.db import tenant_connection
from tenants.models import Institution
from tenants.selectors import schema_names_for_background_work


@shared_task(name="enrolments.send_reminders")
def send_reminders() -> int:
    """Remind this institution's students who have something outstanding, on the
    institution's cadence. Idempotent: each reminder is re-checked under a lock by
    enrollment_remind, so a repeated run sends nothing twice."""
    if tenant_connection.schema_name == get_public_schema_name():
        return 0  # the platform's own schema has no students
    institution = Institution.objects.get(schema_name=tenant_connection.schema_name)
    cadence = reminder_cadence(institution.settings or {})
    if cadence.max_reminders == 0:
        return 0
    now = timezone.now()
    due_before = now - cadence.every
    candidates = (
        CohortEnrollment.objects.filter(
            state__in=[EnrollmentState.WAITING, EnrollmentState.IN_PROGRESS],
            reminders_sent__lt=cadence.max_reminders,
            user__is_active=True,
            user__deleted_at__isnull=True,
        )
        .exclude(cohort__state__in=CLOSED_STATES)
        .filter(
            Q(last_reminded_at__isnull=True, invited_at__lte=due_before)
            | Q(last_reminded_at__lte=due_before)
        )
        .order_by("pk")
    )
    sent = 0
    # Links in the e-mails are built from the institution on the connection; a task run in
    # place (eagerly, inside schema_context) may have only the schema name there.
    with tenant_context(institution):
        for enrollment in list(candidates):
            sent += enrollment_remind(enrollment=enrollment, cadence=cadence, now=now)
    return sent


@shared_task(name="enrolments.send_reminders_all_institutions")
def send_reminders_all_institutions() -> None:
    """Beat entry point: one reminder run per active institution, skipping suspended ones and
    the platform's own schema."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            send_reminders.delay()


logger = logging.getLogger(__name__)

# A document still `scanning` this long after its upload lost its task (a broker restart).
SCAN_STALE_AFTER = timedelta(minutes=15)


@shared_task(name="enrolments.document_scan", bind=True, max_retries=len(SCAN_RETRY_SECONDS))
def document_scan(self, document_id: int) -> str:
    """Scan one upload with ClamAV and record the verdict; while clamd cannot be reached, try
    again later, then mark the document `error` (document_scan_sweep tries it again later).
    Idempotent: a document that already has a verdict is left alone (and the service re-checks
    that under a lock)."""
    document = StudentDocument.objects.filter(
        pk=document_id, scan_status__in=[ScanStatus.SCANNING, ScanStatus.ERROR]
    ).first()
    if document is None or not document.file:
        return "nothing to scan"

    def record(**verdict: str) -> None:
        # The e-mail's link is built from the institution on the connection; a task run in
        # place (eagerly, inside schema_context) may have only the schema name there.
        institution = Institution.objects.get(schema_name=tenant_connection.schema_name)
        with tenant_context(institution):
            student_document_scan_record(document=document, **verdict)

    return upload_scan_run(self, file=document.file, what=f"document {document_id}", record=record)


@shared_task(name="enrolments.document_scan_sweep")
def document_scan_sweep() -> int:
    """Queue a scan again for this institution's documents whose scan failed, or whose task
    was lost. Does nothing while no scanner is configured."""
    if tenant_connection.schema_name == get_public_schema_name() or not scanning_enabled():
        return 0
    due = list(
        StudentDocument.objects.filter(
            Q(scan_status=ScanStatus.ERROR)
            | Q(scan_status=ScanStatus.SCANNING, uploaded_at__lte=timezone.now() - SCAN_STALE_AFTER)
        ).values_list("pk", flat=True)
    )
    for document_id in due:
        document_scan.delay(document_id)
    return len(due)


@shared_task(name="enrolments.document_scan_sweep_all_institutions")
def document_scan_sweep_all_institutions() -> None:
    """Beat entry point: one sweep per active institution."""
    if not scanning_enabled():
        return
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            document_scan_sweep.delay()


@shared_task(name="enrolments.agreements_send")
def enrollment_agreements_send_task(cohort_id: int, enrollment_ids: list[int] | None = None) -> int:
    """Render and send the agreements of a cohort's students who lack one (of `enrollment_ids`
    only, if given). Idempotent: each enrolment is re-checked under its lock, so a repeated or
    concurrent run sends nobody a second agreement."""
    return _agreements_made(enrollment_agreements_send, cohort_id, enrollment_ids)


@shared_task(name="enrolments.supporting_agreements_send")
def supporting_agreements_send_task(cohort_id: int, enrollment_ids: list[int] | None = None) -> int:
    """Make the supporting agreements of a cohort's students who lack some (of `enrollment_ids`
    only, if given). Idempotent: each enrolment is re-checked under its lock, so a repeated or
    concurrent run makes nobody a second one."""
    return _agreements_made(supporting_agreements_send_for_cohort, cohort_id, enrollment_ids)


def _agreements_made(
    send: Callable[..., int], cohort_id: int, enrollment_ids: list[int] | None
) -> int:
    """Run `send` for the cohort (gone: nothing to send). The documents name the institution on
    the connection; a task run in place (eagerly, inside schema_context) may have only the
    schema name there."""
    cohort = Cohort.objects.filter(pk=cohort_id).first()
    if cohort is None:
        return 0
    institution = Institution.objects.get(schema_name=tenant_connection.schema_name)
    with tenant_context(institution):
        return send(cohort=cohort, enrollment_ids=enrollment_ids)


@shared_task(name="enrolments.agreements_countersign")
def agreements_countersign_task(countersigning_id: int) -> str:
    """Start a bulk countersigning: its agreements are handed out in parts to the next task."""
    from enrolments.agreements import agreements_countersign
    from enrolments.models import AgreementCountersigning

    run = AgreementCountersigning.objects.filter(pk=countersigning_id).first()
    if run is None:
        return "missing"
    return agreements_countersign(run=run).status


@shared_task(name="enrolments.agreements_countersign_part")
def agreements_countersign_part_task(countersigning_id: int, submission_ids: list[int]) -> str:
    """Sign one part of a bulk countersigning's agreements, one transaction each, counting its
    progress; the worker's processes share the parts."""
    from enrolments.agreements import agreements_countersign_part
    from enrolments.models import AgreementCountersigning

    run = (
        AgreementCountersigning.objects.select_related("cohort", "created_by")
        .filter(pk=countersigning_id)
        .first()
    )
    if run is None:
        return "missing"
    return agreements_countersign_part(run=run, submission_ids=submission_ids).status
