"""Evidence files are scanned for viruses when a scanner is configured (enrolments.scanning)."""

import logging

from celery import shared_task

from enrolments.models import ScanStatus
from enrolments.scanning import ScannerUnavailable, stream_scan
from workplace.services.evidence import SCANNED_MODELS, evidence_scan_record

logger = logging.getLogger(__name__)

# As for students' documents: a minute, then longer; after the last the evidence is `error`.
SCAN_RETRY_SECONDS = (60, 300, 900)


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
    try:
        verdict = stream_scan(evidence.file)
    except ScannerUnavailable as error:
        if self.request.retries < self.max_retries:
            logger.warning(
                "Scan of %s evidence %s failed, will retry: %s", scanned_as, evidence_id, error
            )
            raise self.retry(
                exc=error, countdown=SCAN_RETRY_SECONDS[self.request.retries]
            ) from error
        logger.error("Scan of %s evidence %s failed: %s", scanned_as, evidence_id, error)
        evidence_scan_record(
            scanned_as=scanned_as,
            evidence_id=evidence_id,
            verdict=ScanStatus.ERROR,
            detail=str(error),
        )
        return ScanStatus.ERROR
    result = ScanStatus.INFECTED if verdict.infected else ScanStatus.CLEAN
    evidence_scan_record(
        scanned_as=scanned_as, evidence_id=evidence_id, verdict=result, signature=verdict.signature
    )
    return result
