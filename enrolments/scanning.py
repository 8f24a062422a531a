"""The optional antivirus hook. When CLAMAV_ADDRESS ("host:port") names a ClamAV daemon, every
upload starts `scanning`, and a task after commit streams the stored file to clamd (INSTREAM,
through `clamdpy`) and records the verdict with `student_document_scan_record`, the only write
here. Unset, uploads are `not_scanned` and go straight to review."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from clamdpy import ClamdNetworkSocket
from clamdpy.exceptions import ClamdException
from django.conf import settings
from django.core.files import File
from django.db import models, transaction
from django.db.models.fields.files import FieldFile
from django_tenants.utils import schema_context

from audit.services import audit_record
from enrolments.models import DocumentStatus, ScanStatus, StudentDocument
from enrolments.services import (
    enrollment_portal_url,
    enrollment_refresh,
    learner_enrollments_lock,
)
from notifications.services import email_enqueue
from tenants.db import tenant_connection

logger = logging.getLogger(__name__)
M = TypeVar("M", bound=models.Model)

CLAMD_PORT = 3310
# After a failed scan, a minute, then longer; after the last the upload's status is `error`.
SCAN_RETRY_SECONDS = (60, 300, 900)
DEFAULT_TIMEOUT_SECONDS = 30
# clamd takes a stream in chunks; each must stay under its StreamMaxLength (25 MB by default,
# which must also be above the largest document type's size limit).
CHUNK_BYTES = 64 * 1024


class ScannerUnavailable(Exception):
    """clamd could not be reached, or did not give a verdict."""


@dataclass(frozen=True)
class ScanVerdict:
    infected: bool
    signature: str = ""


def clamav_address() -> tuple[str, int] | None:
    """(host, port) from CLAMAV_ADDRESS, or None when no scanner is configured."""
    address = (getattr(settings, "CLAMAV_ADDRESS", "") or "").strip()
    if not address:
        return None
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if not parts.hostname:
        raise ValueError(f"CLAMAV_ADDRESS must be host:port, not {address!r}")
    return parts.hostname, parts.port or CLAMD_PORT


def scanning_enabled() -> bool:
    return clamav_address() is not None


def upload_scan_status() -> ScanStatus:
    """The scan status a new upload starts with."""
    return ScanStatus.SCANNING if scanning_enabled() else ScanStatus.NOT_SCANNED


def stream_scan(file: "File[bytes]") -> ScanVerdict:
    """Stream a stored file to clamd and return its verdict; raise ScannerUnavailable when
    there is none (no scanner configured, unreachable, a time-out, an error answer)."""
    address = clamav_address()
    if address is None:
        raise ScannerUnavailable("No virus scanner is configured (CLAMAV_ADDRESS).")
    host, port = address
    client = ClamdNetworkSocket(
        host=host,
        port=port,
        timeout=getattr(settings, "CLAMAV_TIMEOUT", DEFAULT_TIMEOUT_SECONDS),
        max_chunk_size=CHUNK_BYTES,
    )
    try:
        with file.open("rb") as stream:
            result = client.instream(stream)
    except ClamdException as error:
        # clamdpy's exceptions keep their details in attributes, not in their text.
        detail = getattr(error, "msg", None) or getattr(error, "error", None) or vars(error)
        raise ScannerUnavailable(f"{type(error).__name__}: {detail}") from error
    except OSError as error:  # a time-out or reset while sending, which clamdpy lets through
        raise ScannerUnavailable(f"{type(error).__name__}: {error}") from error
    if result.status == "FOUND":
        return ScanVerdict(infected=True, signature=result.reason or "unknown")
    if result.status == "OK":
        return ScanVerdict(infected=False)
    raise ScannerUnavailable(f"clamd answered: {result.reason or result.status}")


def document_scan_schedule(document: StudentDocument) -> None:
    """Queue the scan of a document waiting for one, once the transaction that stored it
    commits. The schema is fixed now, so the task runs in this institution's."""
    if document.scan_status != ScanStatus.SCANNING:
        return
    from enrolments.tasks import document_scan

    document_scan.apply_async_on_commit(
        (document.pk,), headers={"_schema_name": tenant_connection.schema_name}
    )


QUARANTINE_REASON = "This file contains a virus and was removed from review."


def quarantined_file_remove_on_commit(file: FieldFile) -> str | None:
    """Delete an infected upload's stored file once the transaction recording the verdict
    commits (never before: a rollback keeps the row pointing at it). Returns its stored name,
    for the audit trail. Students' documents and vetting evidence both quarantine this way."""
    stored_name, storage = file.name, file.storage
    if stored_name:
        # Stored paths start with the schema's name: delete under this one, whichever the
        # connection is on when the transaction commits.
        schema_name = tenant_connection.schema_name

        def remove_quarantined_file() -> None:
            with schema_context(schema_name):
                storage.delete(stored_name)

        transaction.on_commit(remove_quarantined_file)
    return stored_name


def upload_scan_record(
    model: type[M],
    *,
    pk: int,
    verdict: str,
    action: str,
    signature: str = "",
    detail: str = "",
) -> M | None:
    """Record the virus scanner's verdict on a stored upload of `model` (a row with `file` and
    `scan_status`, such as vetting or workplace evidence) waiting for one: an infected file is
    deleted once this commits and the row keeps no file. The audit event is `<action>_scanned`
    or `<action>_quarantined`. A verdict on a row that is not waiting is ignored, so a repeated
    task changes nothing."""
    if verdict not in (ScanStatus.CLEAN, ScanStatus.INFECTED, ScanStatus.ERROR):
        raise ValueError(f"Not a scan verdict: {verdict!r}")
    with transaction.atomic(durable=True):
        upload: Any = (
            model._default_manager.select_for_update()
            .filter(pk=pk, scan_status__in=[ScanStatus.SCANNING, ScanStatus.ERROR])
            .first()
        )
        if upload is None:
            return None
        old_values = {"scan_status": upload.scan_status}
        new_values: dict[str, Any] = {"scan_status": verdict}
        upload.scan_status = verdict
        fields = ["scan_status"]
        if verdict == ScanStatus.INFECTED:
            stored_name = quarantined_file_remove_on_commit(upload.file)
            upload.file = ""
            fields.append("file")
            new_values |= {"signature": signature, "removed_file": stored_name}
        elif verdict == ScanStatus.ERROR:
            new_values["error"] = detail[:500]
        upload.save(update_fields=fields)
        audit_record(
            action=f"{action}_quarantined"
            if verdict == ScanStatus.INFECTED
            else f"{action}_scanned",
            entity=upload,
            old_values=old_values,
            new_values=new_values,
        )
    found: M = upload
    return found


def upload_scan_run(task: Any, *, file: FieldFile, what: str, record: Callable[..., object]) -> str:
    """The body of a bound scan task (max_retries=len(SCAN_RETRY_SECONDS)): stream `file` to
    clamd and `record(verdict=, signature=, detail=)`; while the scanner is unavailable, retry
    after SCAN_RETRY_SECONDS, then record `error`. `what` names the upload in the log."""
    try:
        verdict = stream_scan(file)
    except ScannerUnavailable as error:
        if task.request.retries < task.max_retries:
            logger.warning("Scan of %s failed, will retry: %s", what, error)
            raise task.retry(
                exc=error, countdown=SCAN_RETRY_SECONDS[task.request.retries]
            ) from error
        logger.error("Scan of %s failed: %s", what, error)
        record(verdict=ScanStatus.ERROR, detail=str(error))
        return ScanStatus.ERROR
    result = ScanStatus.INFECTED if verdict.infected else ScanStatus.CLEAN
    record(verdict=result, signature=verdict.signature)
    return result


def student_document_scan_record(
    *, document: StudentDocument, verdict: str, signature: str = "", detail: str = ""
) -> StudentDocument:
    """Record the virus scanner's verdict on an upload waiting for one: `clean`, `infected`
    (with the virus's `signature`) or `error` (with a `detail` for the trail). An infected
    file is quarantined: the document is rejected with QUARANTINE_REASON, which the student
    sees, its stored file is deleted once this commits, and the student is e-mailed. A verdict
    on a document that is not waiting for one is ignored, so a repeated task changes nothing."""
    if verdict not in (ScanStatus.CLEAN, ScanStatus.INFECTED, ScanStatus.ERROR):
        raise ValueError(f"Not a scan verdict: {verdict!r}")
    with transaction.atomic(durable=True):
        enrollment, others = learner_enrollments_lock(document.enrollment)
        document = (
            StudentDocument.objects.select_for_update(of=("self",))
            .select_related("document_type")
            .get(pk=document.pk)
        )
        if document.scan_status not in (ScanStatus.SCANNING, ScanStatus.ERROR):
            return document
        old_values = {"scan_status": document.scan_status, "status": document.status}
        new_values: dict[str, Any] = {"scan_status": verdict}
        document.scan_status = verdict
        fields = ["scan_status"]
        if verdict == ScanStatus.INFECTED:
            stored_name = quarantined_file_remove_on_commit(document.file)
            document.status = DocumentStatus.REJECTED
            document.rejection_reason = QUARANTINE_REASON
            document.file = ""
            fields += ["status", "rejection_reason", "file"]
            new_values |= {
                "status": DocumentStatus.REJECTED,
                "signature": signature,
                "sha256": document.sha256,
                "removed_file": stored_name,
            }
        elif verdict == ScanStatus.ERROR:
            new_values["error"] = detail[:500]
        document.save(update_fields=fields)
        if verdict == ScanStatus.INFECTED:
            if document.is_current and enrollment.is_open:
                enrollment.rejection_reason = QUARANTINE_REASON
                enrollment_refresh(enrollment)
            if document.is_current:
                # The learner's other open enrolments that the document counts for follow.
                for other in others:
                    enrollment_refresh(other)
            email_enqueue(
                recipient=enrollment.user.email,
                template="document_quarantined",
                context={
                    "full_name": enrollment.user.full_name,
                    "cohort_name": enrollment.cohort.name,
                    "document_name": document.document_type.name,
                    "original_name": document.original_name,
                    "url": enrollment_portal_url(enrollment),
                },
            )
        audit_record(
            action="document.quarantined" if verdict == ScanStatus.INFECTED else "document.scanned",
            entity=document,
            old_values=old_values,
            new_values=new_values,
        )
    return document
