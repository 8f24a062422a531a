"""Upload fixtures: the enrolment fixtures, a watched folder for Django's temporary upload
files, requests with file names exactly as a hostile client sends them, a fake ClamAV daemon
on the loopback address, a disk that fills up, and an S3-compatible server (moto's) started
on the loopback address."""

import secrets
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from django.test import Client

from audit.models import AuditEvent
from cohorts.models import DocumentType
from enrolments.models import CohortEnrollment, StudentDocument
from notifications.models import OutboundEmail
from tests.enrolments import conftest as enrolment_fixtures
from tests.enrolments.conftest import id_type
from tests.factories import CohortFactory
from tests.processes import free_port

from .hostile import VIRUS_MARKER

# The enrolment fixtures: uploads land in a folder of the test's own, students sign in.
_media = enrolment_fixtures._media
media_files = enrolment_fixtures.media_files
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
    return free_port()


# --- An S3-compatible server ------------------------------------------------------------------


S3_REGION = "af-south-1"
S3_ACCESS_KEY = "test-access-key"
S3_SECRET_KEY = "test-secret-key"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """moto's S3-compatible server on a free loopback port, for the whole session; its URL.
    Stopped by its process id."""
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("The S3-compatible test server did not start.") from None
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass(frozen=True)
class S3Bucket:
    name: str
    client: object  # a boto3 S3 client for looking at the bucket as the storage left it

    def keys(self) -> list[str]:
        answer = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in answer.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def s3_bucket(s3_server, settings) -> S3Bucket:
    """A new bucket on the test server, with the application's TenantS3Storage pointed at it
    (as FILE_STORAGE_BACKEND=s3 does), signing as a deployment would."""
    name = f"cohortly-{secrets.token_hex(6)}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
    settings.AWS_STORAGE_BUCKET_NAME = name
    settings.AWS_S3_ENDPOINT_URL = s3_server
    settings.AWS_S3_REGION_NAME = S3_REGION
    settings.AWS_ACCESS_KEY_ID = S3_ACCESS_KEY
    settings.AWS_SECRET_ACCESS_KEY = S3_SECRET_KEY
    settings.AWS_S3_SIGNATURE_VERSION = "s3v4"
    settings.AWS_S3_ADDRESSING_STYLE = "path"
    # Last: a change of STORAGES makes Django build the storage again, with the settings above.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tenants.storage.TenantS3Storage"},
    }
    return S3Bucket(name=name, client=client)
