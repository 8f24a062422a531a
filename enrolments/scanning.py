"""The optional antivirus hook. When CLAMAV_ADDRESS ("host:port") names a ClamAV daemon, every
upload starts `scanning`, and a task after commit streams the stored file to clamd (INSTREAM,
through `clamdpy`) and records the verdict with
enrolments.services.student_document_scan_record. Unset, uploads are `not_scanned` and go
straight to review. Nothing here writes to the database."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from clamdpy import ClamdNetworkSocket
from clamdpy.exceptions import ClamdException
from django.conf import settings
from django.core.files import File
from django.db import connection

from enrolments.models import ScanStatus, StudentDocument

CLAMD_PORT = 3310
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


def stream_scan(file: File) -> ScanVerdict:
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
        (document.pk,), headers={"_schema_name": connection.schema_name}
    )
