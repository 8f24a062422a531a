"""Writes of the evidence pack: asking for one (a completed cohort, an admin who reaches it),
building it (the Celery task's body), and handing it over; each audited without personal
values.

The ZIP is written entry by entry into a temporary file, every source file copied in chunks
while its SHA-256 is taken, so memory stays flat however large the cohort's documents are."""

import csv
import hashlib
import io
import json
import logging
import mimetypes
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from typing import IO, Any, cast

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from cohorts.models import Cohort, CohortState
from enrolments.exports import csv_cell
from reports.evidence import selectors
from reports.evidence.manifest import PackFile, PackPart, manifest_json, manifest_pdf
from reports.models import EvidencePack, ExecutionStatus
from signing.sealing import TimestampUnavailable
from signing.services.certificates import certificate_for_institution
from tenants.db import tenant_connection
from tenants.storage import files_removed_on_failure
from tenants.zones import institution_zone

logger = logging.getLogger(__name__)

PARTS = [
    PackPart("agreements", "Sealed agreements", "No agreement of this cohort was completed."),
    PackPart("documents", "Verified documents", "No document of this cohort was verified."),
    PackPart("attendance", "Attendance registers", "No attendance was recorded."),
    PackPart("results", "Results", "No result was recorded."),
    PackPart("certificates", "Certificates", "No certificate is in force."),
    PackPart("audit", "Audit events", "No audit event about this cohort."),
]
MANIFEST_NAME = "manifest.pdf"
CHUNK = 1024 * 1024
FAILED_MESSAGE = (
    "The pack could not be built because of an unexpected error ({kind}), which has been "
    "logged. Build it again; if it fails again, tell your system administrator."
)


def evidence_pack_request(*, cohort: Cohort, actor: User) -> EvidencePack:
    """Queue the building of `cohort`'s evidence pack: only for a completed cohort and an
    admin who manages cohorts and reaches this one. A pack already waiting or being built is
    returned instead of a second one."""
    permission_check(
        actor=actor,
        permission="cohorts.manage_cohorts",
        obj=cohort,
        action="reports.evidence_pack_request",
    )
    from reports.evidence.tasks import evidence_pack_build_task

    with transaction.atomic(durable=True):
        cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
        if cohort.state != CohortState.COMPLETED:
            raise ValidationError(
                "An evidence pack is built once a cohort is completed; this one is "
                f"{cohort.get_state_display().lower()}.",
                code="cohort_not_completed",
            )
        waiting = EvidencePack.objects.filter(
            cohort=cohort, status__in=[ExecutionStatus.PENDING, ExecutionStatus.PROCESSING]
        ).first()
        if waiting is not None:
            return cast(EvidencePack, waiting)
        pack: EvidencePack = EvidencePack.objects.create(cohort=cohort, requested_by=actor)
        audit_record(
            actor=actor,
            action="evidence_pack.requested",
            entity=pack,
            new_values={"cohort": cohort.pk},
        )
        evidence_pack_build_task.delay_on_commit(pack.pk)
    return pack


def evidence_pack_download(*, pack: EvidencePack, actor: User) -> EvidencePack:
    """Record that `actor` takes the pack's file (personal data leaves with it)."""
    permission_check(
        actor=actor,
        permission="cohorts.manage_cohorts",
        obj=pack.cohort,
        action="reports.evidence_pack_download",
        allowed=pack.status == ExecutionStatus.COMPLETED and bool(pack.file),
    )
    with transaction.atomic(durable=True):
        audit_record(
            actor=actor,
            action="evidence_pack.downloaded",
            entity=pack,
            new_values={"cohort": pack.cohort_id},
        )
    return pack


def evidence_pack_build(*, pack_id: int) -> EvidencePack:
    """Build the pack (the task's body). Idempotent: a pack already built or failed is left as
    it is, and a retried build starts its file again. An unreachable time-stamp authority is
    noted on the pack and raised for the task to retry; any other error fails the pack with a
    message saying so."""
    with transaction.atomic(durable=True):
        pack = _locked(pack_id)
        if pack.status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED):
            return pack
        if pack.status == ExecutionStatus.PENDING:
            pack.start()
            pack.started_at = timezone.now()
            pack.save(update_fields=["status", "started_at"])
    try:
        with tempfile.TemporaryFile() as spool:
            files, manifest_sha256 = _pack_write(pack, spool)
            size = spool.tell()
            spool.seek(0)
            with files_removed_on_failure() as stored, transaction.atomic(durable=True):
                pack = _locked(pack_id)
                pack.file.save(f"evidence-pack-{pack.pk}.zip", File(spool), save=False)
                stored.append(pack.file)
                pack.complete()
                pack.file_size = size
                pack.files_count = len(files) + 1  # and the manifest
                pack.manifest_sha256 = manifest_sha256
                pack.error_message = ""
                pack.completed_at = timezone.now()
                pack.save(
                    update_fields=[
                        "status",
                        "file",
                        "file_size",
                        "files_count",
                        "manifest_sha256",
                        "error_message",
                        "completed_at",
                    ]
                )
                audit_record(
                    action="evidence_pack.built",
                    entity=pack,
                    new_values={
                        "cohort": pack.cohort_id,
                        "files": pack.files_count,
                        "size": size,
                        "manifest_sha256": manifest_sha256,
                    },
                )
    except TimestampUnavailable as error:
        _note(pack_id, f"{error.messages[0]} The pack is built again automatically.")
        raise
    except Exception as error:
        logger.exception("Evidence pack %s could not be built", pack_id)
        return evidence_pack_fail(
            pack_id=pack_id, message=FAILED_MESSAGE.format(kind=type(error).__name__)
        )
    return pack


def evidence_pack_fail(*, pack_id: int, message: str) -> EvidencePack:
    """The pack failed for good, with `message` for the page (no personal values)."""
    with transaction.atomic(durable=True):
        pack = _locked(pack_id)
        if pack.status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED):
            return pack
        pack.fail()
        pack.error_message = message
        pack.completed_at = timezone.now()
        pack.save(update_fields=["status", "error_message", "completed_at"])
        audit_record(
            action="evidence_pack.failed", entity=pack, new_values={"cohort": pack.cohort_id}
        )
    return pack


def _locked(pack_id: int) -> EvidencePack:
    pack: EvidencePack = (
        EvidencePack.objects.select_for_update().select_related("cohort").get(pk=pack_id)
    )
    return pack


def _note(pack_id: int, message: str) -> None:
    with transaction.atomic(durable=True):
        EvidencePack.objects.filter(pk=pack_id).update(error_message=message)


# --- Writing the ZIP --------------------------------------------------------------------------


class _HashingWriter:
    """Passes bytes on to a ZIP entry, taking their SHA-256 and length on the way."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        self.target.write(data)
        return len(data)


def _entry(
    archive: zipfile.ZipFile, path: str, part: str, write: Callable[[_HashingWriter], None]
) -> PackFile:
    with archive.open(path, "w", force_zip64=True) as target:
        writer = _HashingWriter(target)
        write(writer)
    return PackFile(path=path, part=part, size=writer.size, sha256=writer.digest.hexdigest())


def _copy(file: FieldFile) -> Callable[[_HashingWriter], None]:
    def write(writer: _HashingWriter) -> None:
        with file.open("rb") as source:
            while chunk := source.read(CHUNK):
                writer.write(chunk)

    return write


def _csv(header: list[str], rows: Iterable[list[Any]]) -> Callable[[_HashingWriter], None]:
    """A CSV entry written a chunk at a time; cells a spreadsheet would run are kept text."""

    def write(writer: _HashingWriter) -> None:
        buffer = io.StringIO()
        table = csv.writer(buffer)

        def flush() -> None:
            writer.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()

        table.writerow(header)
        for row in rows:
            table.writerow(["" if cell is None else csv_cell(str(cell)) for cell in row])
            if buffer.tell() > CHUNK:
                flush()
        flush()

    return write


def _when(value: Any) -> str:
    if not value:
        return ""
    return timezone.localtime(value, institution_zone()).isoformat(timespec="seconds")


def _extension(content_type: str) -> str:
    """The file name's extension for a document of the type its upload was detected as."""
    return (mimetypes.guess_extension(content_type) or ".bin").lstrip(".")


def _pack_write(pack: EvidencePack, spool: IO[bytes]) -> tuple[list[PackFile], str]:
    """Write every part and the sealed manifest into `spool`; the files listed, and the
    manifest's SHA-256."""
    cohort = pack.cohort
    files: list[PackFile] = []
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for submission in selectors.cohort_sealed_agreements(cohort).iterator():
            name = slugify(submission.title)[:60] or "agreement"
            files.append(
                _entry(
                    archive,
                    f"agreements/agreement-{submission.pk}-{name}.pdf",
                    "agreements",
                    _copy(submission.final_pdf),
                )
            )
        for document in selectors.cohort_verified_documents(cohort).iterator():
            kind = slugify(document.document_type.name)[:40] or "document"
            extension = _extension(document.content_type)
            path = f"documents/enrolment-{document.enrollment_id}-{kind}-{document.pk}.{extension}"
            files.append(_entry(archive, path, "documents", _copy(document.file)))
        attendance = selectors.cohort_attendance_records(cohort)
        if attendance.exists():
            files.append(
                _entry(
                    archive,
                    "attendance/attendance.csv",
                    "attendance",
                    _csv(
                        [
                            "Course",
                            "Run",
                            "Session date",
                            "Starts",
                            "Enrolment",
                            "Learner",
                            "Status",
                            "Reason",
                            "Register signed off",
                        ],
                        (
                            [
                                r.session.course_run.course_ref,
                                r.session.course_run.title,
                                r.session.session_date.isoformat(),
                                r.session.start_time.isoformat("minutes"),
                                r.enrolment.enrollment_id,
                                r.enrolment.enrollment.user.full_name,
                                r.get_status_display(),
                                r.reason,
                                _when(r.signed_off_at),
                            ]
                            for r in attendance.iterator(chunk_size=2000)
                        ),
                    ),
                )
            )
        assessments = selectors.cohort_assessments(cohort)
        if assessments.exists():
            files.append(
                _entry(
                    archive,
                    "results/results.csv",
                    "results",
                    _csv(
                        [
                            "Course",
                            "Run",
                            "Enrolment",
                            "Learner",
                            "Assessment",
                            "Score (%)",
                            "Result",
                            "Assessed",
                            "Void reason",
                        ],
                        (
                            [
                                a.enrolment.course_run.course_ref,
                                a.enrolment.course_run.title,
                                a.enrolment.enrollment_id,
                                a.enrolment.enrollment.user.full_name,
                                a.assessment_type,
                                a.score,
                                a.get_result_display(),
                                _when(a.assessed_at),
                                a.void_reason,
                            ]
                            for a in assessments.iterator(chunk_size=2000)
                        ),
                    ),
                )
            )
        for certificate in selectors.cohort_certificates(cohort).iterator():
            path = f"certificates/{certificate.kind}-{certificate.verification_code}.pdf"
            files.append(_entry(archive, path, "certificates", _copy(certificate.pdf)))
        events = selectors.cohort_audit_events(cohort)
        if events.exists():
            files.append(
                _entry(
                    archive,
                    "audit/audit-events.csv",
                    "audit",
                    _csv(
                        [
                            "id",
                            "created_at",
                            "actor_email",
                            "action",
                            "entity_type",
                            "entity_id",
                            "old_values",
                            "new_values",
                            "correlation_id",
                            "prev_hash",
                            "hash",
                        ],
                        (
                            [
                                e.pk,
                                e.created_at.isoformat(),
                                e.actor_email,
                                e.action,
                                e.entity_type,
                                e.entity_id,
                                json.dumps(e.old_values, sort_keys=True),
                                json.dumps(e.new_values, sort_keys=True),
                                e.correlation_id,
                                e.prev_hash,
                                e.hash,
                            ]
                            for e in events.iterator(chunk_size=2000)
                        ),
                    ),
                )
            )
        present = {f.part for f in files}
        institution = tenant_connection.tenant
        created_at = _when(pack.created_at)
        manifest = manifest_json(
            pack_id=pack.pk,
            cohort_name=cohort.name,
            institution_name=institution.name,
            created_at=created_at,
            files=files,
            empty_parts=[part for part in PARTS if part.key not in present],
        )
        sealed = manifest_pdf(
            manifest=manifest,
            parts=PARTS,
            files=files,
            certificate=certificate_for_institution(),
            context={
                "cohort_name": cohort.name,
                "institution_name": institution.name,
                "created_at": created_at,
                "pack_id": pack.pk,
            },
        )
        archive.writestr(MANIFEST_NAME, sealed)
    return files, hashlib.sha256(sealed).hexdigest()
