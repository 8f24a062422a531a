"""Writes of the evidence pack: asking for one (a completed cohort, an admin who reaches it),
building it (the Celery task's body), and handing it over; each audited without personal
values.

The ZIP is written entry by entry into a temporary file, every source file copied in chunks
while its SHA-256 is taken, so memory stays flat however large the cohort's documents are."""

import hashlib
import io
import json
import logging
import mimetypes
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import IO, Any, cast

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from cohorts.models import Cohort, CohortState
from reports.evidence import selectors
from reports.evidence.manifest import PackFile, PackPart, manifest_json, manifest_pdf
from reports.exports import csv_write
from reports.models import EvidencePack, ExecutionStatus
from reports.registry import Column
from reports.selectors import data_protection_settings
from signing.sealing import TimestampUnavailable
from signing.services.certificates import certificate_for_institution
from tenants.db import tenant_connection
from tenants.storage import file_delete_on_commit, files_removed_on_failure
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
MANAGE_COHORTS = "cohorts.manage_cohorts"
REVIEW_DOCUMENTS = "verification.review_documents"
VIEW_AUDIT_TRAIL = "audit.view_audit_trail"
MANIFEST_NAME = "manifest.pdf"
# A pack still waiting this long is queued again; one still being built this long after it
# started lost its worker (the build's retries while the time-stamp authority is down take
# about an hour).
REQUEUE_AFTER = timedelta(minutes=5)
PACK_TIME_LIMIT = timedelta(hours=2)
WORKER_LOST = (
    "The pack stopped before it was finished (the server building it stopped). Build it again."
)
CHUNK = 1024 * 1024
FAILED_MESSAGE = (
    "The pack could not be built because of an unexpected error ({kind}), which has been "
    "logged. Build it again; if it fails again, tell your system administrator."
)


def may_take_evidence(user: User) -> bool:
    """The pack holds identity documents and the audit trail, so whoever builds or takes it
    must also be allowed to review documents and read the audit trail (besides managing
    cohorts and reaching the cohort, which the callers check)."""
    return user.may(REVIEW_DOCUMENTS) and user.may(VIEW_AUDIT_TRAIL)


def evidence_pack_request(*, cohort: Cohort, actor: User) -> EvidencePack:
    """Queue the building of `cohort`'s evidence pack: only for a completed cohort and an
    admin who manages cohorts, reaches this one and may see what the pack holds. A pack
    already waiting or being built is returned instead of a second one."""
    permission_check(
        actor=actor,
        permission=MANAGE_COHORTS,
        obj=cohort,
        allowed=may_take_evidence(actor),
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
        waiting = (
            EvidencePack.objects.filter(
                cohort=cohort, status__in=[ExecutionStatus.PENDING, ExecutionStatus.PROCESSING]
            )
            .exclude(pk__in=_stuck(timezone.now()))
            .first()
        )
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
        permission=MANAGE_COHORTS,
        obj=pack.cohort,
        action="reports.evidence_pack_download",
        allowed=may_take_evidence(actor) and selectors.evidence_pack_downloadable(pack),
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
            # Stored before the row is locked: a slow storage never holds the lock.
            with files_removed_on_failure() as stored:
                pack.file.save(f"evidence-pack-{pack.pk}.zip", File(spool), save=False)
                stored.append(pack.file)
                pack = _pack_complete(
                    pack_id, cast(str, pack.file.name), size, files, manifest_sha256
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


def _pack_complete(
    pack_id: int, name: str, size: int, files: list[PackFile], manifest_sha256: str
) -> EvidencePack:
    with transaction.atomic(durable=True):
        pack = _locked(pack_id)
        pack.complete()
        pack.file.name = name
        pack.file_size = size
        pack.files_count = len(files) + 1  # and the manifest
        pack.manifest_sha256 = manifest_sha256
        pack.error_message = ""
        pack.completed_at = timezone.now()
        pack.expires_at = pack.completed_at + timedelta(
            days=data_protection_settings().report_expiry_days
        )
        pack.save(
            update_fields=[
                "status",
                "file",
                "file_size",
                "files_count",
                "manifest_sha256",
                "error_message",
                "completed_at",
                "expires_at",
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
    return pack


def evidence_pack_fail(*, pack_id: int, message: str) -> EvidencePack:
    """The pack failed for good, with `message` for the page (no personal values)."""
    with transaction.atomic(durable=True):
        pack = _locked(pack_id)
        if pack.status in (ExecutionStatus.COMPLETED, ExecutionStatus.FAILED):
            return pack
        _pack_failed(pack, message=message)
    return pack


def _pack_failed(pack: EvidencePack, *, message: str) -> None:
    pack.fail()
    pack.error_message = message
    pack.completed_at = timezone.now()
    pack.save(update_fields=["status", "error_message", "completed_at"])
    audit_record(action="evidence_pack.failed", entity=pack, new_values={"cohort": pack.cohort_id})


def evidence_packs_sweep(*, now: datetime | None = None) -> int:
    """Keep packs moving (Celery beat): queue again a pack still waiting REQUEUE_AFTER after
    it was asked for (building is idempotent), and fail, removing any stored file, a pack
    still being built PACK_TIME_LIMIT after it started (longer than the build's retries while
    the time-stamp authority is down). Returns how many packs it acted on."""
    from reports.evidence.tasks import evidence_pack_build_task

    now = now or timezone.now()
    waiting = EvidencePack.objects.filter(
        status=ExecutionStatus.PENDING, created_at__lt=now - REQUEUE_AFTER
    )
    acted = 0
    for pk in list(waiting.values_list("pk", flat=True)):
        evidence_pack_build_task.delay(pk)
        acted += 1
    for pk in list(_stuck(now).values_list("pk", flat=True)):
        with transaction.atomic(durable=True):
            pack = _stuck(now).select_for_update(skip_locked=True).filter(pk=pk).first()
            if pack is None:
                continue
            logger.warning("Evidence pack %s lost its worker; failed", pk)
            _pack_failed(pack, message=WORKER_LOST)
            # A file stored just before its worker died is not on the row: remove it by name.
            file_delete_on_commit(pack.file.storage, _stored_name(pack))
        acted += 1
    return acted


def _stored_name(pack: EvidencePack) -> str:
    """Where the build stores the pack's file (FieldFile.save gives the same name)."""
    name: str = pack.file.field.generate_filename(pack, f"evidence-pack-{pack.pk}.zip")
    return name


def _stuck(now: datetime) -> QuerySet[EvidencePack]:
    """Packs whose build started more than PACK_TIME_LIMIT ago and never ended."""
    stuck: QuerySet[EvidencePack] = EvidencePack.objects.filter(
        status=ExecutionStatus.PROCESSING, started_at__lt=now - PACK_TIME_LIMIT
    )
    return stuck


def evidence_packs_expire(*, now: datetime | None = None) -> int:
    """Delete the files of packs past their expires_at (the rows stay, shown as expired);
    returns how many were deleted. Each under its row's lock, so two runs never delete one
    twice."""
    now = now or timezone.now()
    expired = EvidencePack.objects.filter(expires_at__lt=now).exclude(file="")
    deleted = 0
    for pk in list(expired.values_list("pk", flat=True)):
        with transaction.atomic(durable=True):
            pack = expired.select_for_update(skip_locked=True).filter(pk=pk).first()
            if pack is None:
                continue
            file_delete_on_commit(pack.file.storage, pack.file.name)
            pack.file = ""
            pack.save(update_fields=["file"])
            audit_record(
                action="evidence_pack.expired", entity=pack, new_values={"cohort": pack.cohort_id}
            )
        deleted += 1
    return deleted


def _locked(pack_id: int) -> EvidencePack:
    pack: EvidencePack = (
        EvidencePack.objects.select_for_update().select_related("cohort").get(pk=pack_id)
    )
    return pack


def _note(pack_id: int, message: str) -> None:
    with transaction.atomic(durable=True):
        EvidencePack.objects.filter(pk=pack_id).update(error_message=message)


# --- Writing the ZIP --------------------------------------------------------------------------


class _HashingWriter(io.RawIOBase):
    """Passes bytes on to a ZIP entry, taking their SHA-256 and length on the way."""

    def __init__(self, target: IO[bytes]) -> None:
        super().__init__()
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
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
    """A CSV entry written as report exports are (reports.exports.csv_write: streamed, cells a
    spreadsheet would run kept text), with no count suppressed: the pack stays with the
    institution's auditors."""
    columns = tuple(Column(str(position), label) for position, label in enumerate(header))

    def write(writer: _HashingWriter) -> None:
        csv_write(
            (dict(zip((column.key for column in columns), row, strict=True)) for row in rows),
            columns,
            cast(IO[bytes], writer),
            threshold=None,
        )

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
