"""Evidence files other apps keep (workplace's logbook photos and portfolio documents, projects'
milestone evidence): checked as students' documents are (enrolments.uploads), stored under a
random name, scanned when a scanner is configured (enrolments.scanning) and removed again if
the change that wrote them does not commit.

An app declares its model on `StoredEvidence` and passes its own scan task to
`evidence_file_write`, so the scan stays with the app that owns the rows."""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.storage import Storage
from django.db import models, transaction

from cohorts.models import DocumentType, FileKind
from enrolments.models import REVIEWABLE_SCAN_STATUSES, ScanStatus

if TYPE_CHECKING:
    from accounts.models import User
    from enrolments.uploads import CheckedUpload

# Photos from a phone, or scans: what students may upload as documents.
EVIDENCE_KINDS = [FileKind.PDF, FileKind.JPEG, FileKind.PNG]
EVIDENCE_MAX_SIZE_MB = 10


def evidence_path(instance: models.Model, filename: str) -> str:
    """A random name under the owning app and model: the original name is kept only as data
    (DESIGN: uploads)."""
    return f"{instance._meta.app_label}/{type(instance).__name__.lower()}/{uuid.uuid4().hex}"


class StoredEvidence(models.Model):
    """A file checked and stored as students' documents are (enrolments.uploads, the optional
    virus scan of enrolments.scanning) and never served publicly."""

    PERSONAL_FIELDS = frozenset({"original_name"})

    file = models.FileField(upload_to=evidence_path, max_length=300, blank=True)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    scan_status = models.CharField(
        max_length=12, choices=ScanStatus.choices, default=ScanStatus.NOT_SCANNED
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name


def evidence_document_type(name: str) -> DocumentType:
    """What enrolments.uploads checks an evidence file against (never saved)."""
    return DocumentType(
        name=name, accepted_kinds=list(EVIDENCE_KINDS), max_size_mb=EVIDENCE_MAX_SIZE_MB
    )


def evidence_is_readable(evidence: StoredEvidence) -> bool:
    """A file someone may open and rely on: still stored, and scanned clean (or no scanner)."""
    return bool(evidence.file) and evidence.scan_status in REVIEWABLE_SCAN_STATUSES


def evidence_fill(
    evidence: StoredEvidence, checked: "CheckedUpload", *, actor: "User | None", scan_status: str
) -> None:
    """Copy a checked upload onto `evidence` (unsaved)."""
    evidence.file = checked.file
    evidence.original_name = checked.original_name
    evidence.size = checked.size
    evidence.content_type = checked.content_type
    evidence.sha256 = checked.sha256
    evidence.scan_status = scan_status
    evidence.uploaded_by = actor


def evidence_audit_values(evidence: StoredEvidence, checked: "CheckedUpload") -> dict[str, Any]:
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
    evidence: StoredEvidence, *, written: WrittenFiles, scan: Callable[[int], object]
) -> None:
    """Write `evidence`'s file (before its row is saved) and, when a scan is due, call
    `scan(evidence.pk)` (the owning app queues its scan task) once the transaction commits: by
    then the row, saved after this, has its id."""
    evidence.file.save(evidence.original_name, evidence.file.file, save=False)
    written.stored.append((evidence.file.storage, evidence.file.name or ""))
    if evidence.scan_status == ScanStatus.SCANNING:
        transaction.on_commit(lambda: scan(evidence.pk))
