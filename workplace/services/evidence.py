"""Workplace's evidence files (logbook photos, portfolio documents), kept as enrolments.evidence
keeps them; what is workplace's own is which models are scanned and the scan task."""

from functools import partial

from enrolments.evidence import (
    EVIDENCE_MAX_SIZE_MB,
    WrittenFiles,
    evidence_audit_values,
    evidence_document_type,
    evidence_files_written,
    evidence_fill,
    evidence_is_readable,
)
from enrolments.evidence import evidence_file_write as stored_evidence_file_write
from enrolments.scanning import upload_scan_record
from workplace.models import LogbookEvidence, PortfolioEvidence, StoredEvidence

__all__ = [
    "EVIDENCE_MAX_SIZE_MB",
    "SCANNED_MODELS",
    "evidence_audit_values",
    "evidence_document_type",
    "evidence_file_write",
    "evidence_files_written",
    "evidence_fill",
    "evidence_is_readable",
    "evidence_scan_record",
]

SCANNED_MODELS: dict[str, type[LogbookEvidence] | type[PortfolioEvidence]] = {
    "logbook": LogbookEvidence,
    "portfolio": PortfolioEvidence,
}


def evidence_file_write(
    evidence: StoredEvidence, *, scanned_as: str, written: WrittenFiles
) -> None:
    """enrolments.evidence.evidence_file_write with workplace's scan task; `scanned_as` is a
    key of SCANNED_MODELS."""
    from workplace.tasks.evidence import evidence_scan

    stored_evidence_file_write(
        evidence, written=written, scan=partial(evidence_scan.delay, scanned_as)
    )


def evidence_scan_record(
    *, scanned_as: str, evidence_id: int, verdict: str, signature: str = "", detail: str = ""
) -> LogbookEvidence | PortfolioEvidence | None:
    """Record the virus scanner's verdict on evidence waiting for one (enrolments.scanning.
    upload_scan_record): an infected file is deleted once this commits and can never be read."""
    return upload_scan_record(
        SCANNED_MODELS[scanned_as],
        pk=evidence_id,
        verdict=verdict,
        action=f"workplace.{scanned_as}_evidence",
        signature=signature,
        detail=detail,
    )
