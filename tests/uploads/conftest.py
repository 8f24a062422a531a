"""Upload fixtures: the enrolment fixtures, a watched folder for Django's temporary upload
files, requests with file names exactly as a hostile client sends them, and a fake ClamAV
daemon on the loopback address."""

import socket
import socketserver
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.test import Client

from audit.models import AuditEvent
from cohorts.models import DocumentType
from enrolments.models import CohortEnrollment, StudentDocument
from notifications.models import OutboundEmail
from tests.enrolments import conftest as enrolment_fixtures
from tests.enrolments.conftest import id_type
from tests.factories import CohortFactory

from .hostile import VIRUS_MARKER

# The enrolment fixtures: uploads land in a folder of the test's own, students sign in.
_media = enrolment_fixtures._media
media_files = enrolment_fixtures.media_files
cohort_admin = enrolment_fixtures.cohort_admin
enrol = enrolment_fixtures.enrol

BOUNDARY = "----hostile-upload-boundary"


@pytest.fixture(autouse=True)
def upload_temp_dir(settings, tmp_path) -> Path:
    """Where Django writes uploads too big to keep in memory, so that leftovers show."""
    path = tmp_path / "upload-temp"
    path.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(path)
    return path


def multipart(disposition: str, content: bytes) -> bytes:
    """A request body with one file part whose Content-Disposition parameters are exactly
    `disposition` (the test client would tidy the name)."""
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; {disposition}\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def post_raw(client: Client, url: str, disposition: str, content: bytes, **extra):
    return client.post(
        url,
        multipart(disposition, content),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers={"HX-Request": "true"},
        **extra,
    )


@pytest.fixture
def nothing_stored(media_files, upload_temp_dir) -> Callable[[CohortEnrollment], None]:
    """Assert that a refused upload left no trace: no row, no file (stored or temporary), no
    audit event of an upload, no e-mail (but the invitation), and the enrolment as it was."""

    def check(enrollment: CohortEnrollment) -> None:
        assert not StudentDocument.objects.filter(enrollment=enrollment).exists()
        assert media_files() == []
        assert list(upload_temp_dir.iterdir()) == []
        assert not AuditEvent.objects.filter(action="enrollment.document_uploaded").exists()
        emails = OutboundEmail.objects.filter(recipient=enrollment.user.email)
        assert not emails.exclude(template="invitation").exists()
        enrollment.refresh_from_db()
        assert enrollment.state == "waiting"
        assert enrollment.document_verification_state == "pending"

    return check


@pytest.fixture
def student(enrol, client_of) -> Callable[..., tuple[CohortEnrollment, Client]]:
    """A new student enrolled in a cohort that asks for `document_type` (the ID by default),
    with a signed-in client."""

    def make(document_type: DocumentType | None = None) -> tuple[CohortEnrollment, Client]:
        cohort = CohortFactory(required_document_types=[document_type or id_type()])
        enrollment = enrol(cohort=cohort)
        return enrollment, client_of(enrollment.user)

    return make


# --- A fake ClamAV daemon ---------------------------------------------------------------------


class _ClamdHandler(socketserver.StreamRequestHandler):
    """Speaks clamd's INSTREAM exchange: a command line, then chunks each prefixed with its
    length (4 bytes, network order), ended by a zero length; answers one line and closes."""

    def handle(self) -> None:
        server: FakeClamd = self.server  # type: ignore[assignment]
        command = self.rfile.readline()
        server.commands.append(command)
        if command.strip() != b"nINSTREAM":
            self.wfile.write(b"UNKNOWN COMMAND\n")
            return
        data = bytearray()
        while True:
            (length,) = struct.unpack("!L", self.rfile.read(4))
            if length == 0:
                break
            data += self.rfile.read(length)
        server.streams.append(bytes(data))
        if server.answer is not None:
            self.wfile.write(server.answer)
        elif VIRUS_MARKER in data:
            self.wfile.write(b"stream: Eicar-Signature FOUND\n")
        else:
            self.wfile.write(b"stream: OK\n")


class FakeClamd(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ClamdHandler)
        self.commands: list[bytes] = []
        self.streams: list[bytes] = []
        self.answer: bytes | None = None  # a fixed answer instead of the verdict

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"


@pytest.fixture
def fake_clamd(settings) -> Iterator[FakeClamd]:
    """A clamd on 127.0.0.1 that finds VIRUS_MARKER, configured as the scanner."""
    server = FakeClamd()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    settings.CLAMAV_ADDRESS = server.address
    settings.CLAMAV_TIMEOUT = 5
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
