"""Evidence files are scanned for viruses when a scanner is configured (enrolments.scanning)."""

from functools import partial

from celery import shared_task

from enrolments.models import ScanStatus
from enrolments.scanning import SCAN_RETRY_SECONDS, upload_scan_run
from workplace.services.evidence import SCANNED_MODELS, evidence_scan_record


@shared_task(name="workplace.evidence_scan", bind=True, max_retries=len(SCAN_RETRY_SECONDS))
def evidence_scan(self, scanned_as: str, evidence_id: int) -> str:
    """Scan one evidence file (a key of SCANNED_MODELS and its id) and record the verdict.
    Idempotent: evidence that already has a verdict is left alone."""
    evidence = (
        SCANNED_MODELS[scanned_as]
        .objects.filter(pk=evidence_id, scan_status__in=[ScanStatus.SCANNING, ScanStatus.ERROR])
        .first()
    )
    if evidence is None or not evidence.file:
        return "nothing to scan"
    return upload_scan_run(
        self,
        file=evidence.file,
        what=f"{scanned_as} evidence {evidence_id}",
        record=partial(evidence_scan_record, scanned_as=scanned_as, evidence_id=evidence_id),
    )
