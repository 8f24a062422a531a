"""Evidence files (logbook photos, portfolio documents): checked as students' documents are
(enrolments.uploads), stored under a random name, scanned when a scanner is configured
(enrolments.scanning) and removed again if the change that wrote them does not commit."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import Storage
from django.db import transaction

from accounts.models import User
from cohorts.models import DocumentType, FileKind
from enrolments.models import REVIEWABLE_SCAN_STATUSES, ScanStatus
from enrolments.scanning import upload_scan_record
from enrolments.uploads import CheckedUpload
from workplace.models import LogbookEvidence, PortfolioEvidence, StoredEvidence

# Photos from a phone, or scans: what students may upload as documents.
EVIDENCE_KINDS = [FileKind.PDF, FileKind.JPEG, FileKind.PNG]
EVIDENCE_MAX_SIZE_MB = 10
SCANNED_MODELS: dict[str, type[LogbookEvidence] | type[PortfolioEvidence]] = {
    "logbook": LogbookEvidence,
    "portfolio": PortfolioEvidence,
}


def evidence_document_type(name: str) -> DocumentType:
    """What enrolments.uploads checks an evidence file against (never saved)."""
    return DocumentType(
        name=name, accepted_kinds=list(EVIDENCE_KINDS), max_size_mb=EVIDENCE_MAX_SIZE_MB
    )


def evidence_is_readable(evidence: StoredEvidence) -> bool:
    """A file someone may open and rely on: still stored, and scanned clean (or no scanner)."""
    return bool(evidence.file) and evidence.scan_status in REVIEWABLE_SCAN_STATUSES


def evidence_fill(
    evidence: StoredEvidence, checked: CheckedUpload, *, actor: User | None, scan_status: str
) -> None:
    """Copy a checked upload onto `evidence` (unsaved)."""
    evidence.file = checked.file
    evidence.original_name = checked.original_name
    evidence.size = checked.size
    evidence.content_type = checked.content_type
    evidence.sha256 = checked.sha256
    evidence.scan_status = scan_status
    evidence.uploaded_by = actor


def evidence_audit_values(evidence: StoredEvidence, checked: CheckedUpload) -> dict[str, Any]:
    return {
        "sha256": evidence.sha256,
        "size": evidence.size,
        "content_type": evidence.content_type,
        "original_sha256": checked.original_sha256,
    }


@dataclass
class WrittenFiles:
    """The files written inside a transaction, to delete should it not commit."""

    stored: list[tuple[Storage, str]] = field(default_factory=list)


@contextmanager
def evidence_files_written() -> Iterator[WrittenFiles]:
    """Open it around the transaction that saves evidence, and write each file inside that
    transaction with `evidence_file_write`: if the transaction does not commit, the files
    written are deleted again (the storage is not rolled back with the rows)."""
    written = WrittenFiles()
    try:
        yield written
    except BaseException:
        for storage, name in written.stored:
            storage.delete(name)
        raise


def evidence_file_write(
    evidence: StoredEvidence, *, scanned_as: str, written: WrittenFiles
) -> None:
    """Write `evidence`'s file (before its row is saved) and, when a scan is due, queue it for
    once the transaction commits (by then the row, saved after this, has its id).
    `scanned_as` is a key of SCANNED_MODELS."""
    evidence.file.save(evidence.original_name, evidence.file.file, save=False)
    written.stored.append((evidence.file.storage, evidence.file.name or ""))
    if evidence.scan_status == ScanStatus.SCANNING:
        from workplace.tasks.evidence import evidence_scan

        transaction.on_commit(lambda: evidence_scan.delay(scanned_as, evidence.pk))


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
