"""A time-stamp authority on loopback that answers RFC 3161 requests (POST of an
application/timestamp-query) with tokens signed by a test TSA certificate, issued by a test
root, through pyHanko's DummyTimeStamper. It can also be down (the server stopped) or answer
500. The `tsa` fixture starts it on a free port in a thread, writes its root to a PEM file and
points SIGNING_TIMESTAMP_URL and SIGNING_TIMESTAMP_TRUST_ROOTS at them; the test stops it."""

import datetime
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.utils import timezone
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from signing import sealing


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Time Authority"),
        ]
    )


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def tsa_certificates() -> tuple[x509.Certificate, x509.Certificate, rsa.RSAPrivateKey]:
    """A root, and the time-stamping certificate it issues with its key (RSA: pyHanko's
    DummyTimeStamper signs only with RSA)."""
    now = timezone.now()
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = (
        x509.CertificateBuilder()
        .subject_name(_name("Test TSA Root"))
        .issuer_name(_name("Test TSA Root"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("Test Time-Stamp Unit"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    return root, certificate, key


@dataclass
class FakeTSA:
    url: str = ""
    root_pem_path: str = ""
    # "answer" or "error" (HTTP 500).
    mode: str = "answer"
    requests: int = 0
    stamper: DummyTimeStamper | None = None
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = field(default=None, repr=False)

    def stop(self) -> None:
        """The authority goes down: its port refuses connections from now on."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def _handler(fake: FakeTSA) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fake.requests += 1
            if fake.mode == "error" or self.headers.get("Content-Type") != (
                "application/timestamp-query"
            ):
                self.send_response(500)
                self.end_headers()
                return
            assert fake.stamper is not None
            answer = fake.stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read `requests` instead."""

    return Handler


@pytest.fixture
def tsa(settings, tmp_path: Path) -> Iterator[FakeTSA]:
    root, certificate, key = tsa_certificates()
    root_pem = tmp_path / "tsa-root.pem"
    root_pem.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    fake = FakeTSA(root_pem_path=str(root_pem))
    fake.stamper = DummyTimeStamper(
        tsa_cert=_asn1(certificate),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        certs_to_embed=[_asn1(root)],
    )
    fake.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.server.daemon_threads = True
    fake.thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    fake.thread.start()
    fake.url = f"http://127.0.0.1:{fake.server.server_address[1]}/tsr"
    settings.SIGNING_TIMESTAMP_URL = fake.url
    settings.SIGNING_TIMESTAMP_TRUST_ROOTS = fake.root_pem_path
    settings.SIGNING_TIMESTAMP_TIMEOUT = 2
    # A client from an earlier test knows another authority's certificates.
    sealing._TIMESTAMPERS.clear()
    yield fake
    fake.stop()
    sealing._TIMESTAMPERS.clear()
