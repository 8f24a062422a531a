"""PAdES sealing with pyHanko with the institution's certificate (signing.services.certificates
makes or imports it), and checking a seal.

The private key is kept encrypted (PKCS#8, AES) with a key derived from SECRET_KEY and the
schema name by HKDF: a copy of the database alone does not give the key away, and one
institution's derived key does not open another's.

Long-term seals: with a time-stamp authority configured (SIGNING_TIMESTAMP_URL), a seal is
PAdES B-LT: the signature carries an RFC 3161 time-stamp token proving when it was made, and
the file's Document Security Store holds the certificates (and any revocation data they point
to) needed to check it after the certificate has expired. Without one, a seal is B-B: valid
while the institution's certificate is, and no network call is made while sealing."""

import base64
import datetime
import functools
import io
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ValidationError

from signing.models import InstitutionCertificate
from tenants.db import tenant_connection


def key_passphrase(schema_name: str) -> bytes:
    """The passphrase of the private key stored for `schema_name`."""
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"cohortly-signing-certificate",
        info=schema_name.encode(),
    ).derive(settings.SECRET_KEY.encode())
    return base64.urlsafe_b64encode(derived)


def common_name(name: x509.Name) -> str:
    """The name's common name (CN), or the whole name when it has none."""
    common_names = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(common_names[0].value) if common_names else name.rfc4514_string()


def _asn1_certificate(certificate: InstitutionCertificate) -> asn1_x509.Certificate:
    loaded = x509.load_pem_x509_certificate(certificate.certificate_pem.encode())
    return asn1_x509.Certificate.load(loaded.public_bytes(serialization.Encoding.DER))


def _asn1_chain(certificate: InstitutionCertificate) -> list[asn1_x509.Certificate]:
    if not certificate.chain_pem:
        return []
    return [
        asn1_x509.Certificate.load(issuer.public_bytes(serialization.Encoding.DER))
        for issuer in x509.load_pem_x509_certificates(certificate.chain_pem.encode())
    ]


def _signer(certificate: InstitutionCertificate):
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = serialization.load_pem_private_key(
        bytes(certificate.private_key_encrypted), key_passphrase(tenant_connection.schema_name)
    )
    key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert = _asn1_certificate(certificate)
    # The issuers go into the seal too, so that a reader can build the path to its trusted root.
    return signers.SimpleSigner(
        signing_cert=cert,
        signing_key=key_info,
        cert_registry=SimpleCertificateStore.from_certs([cert, *_asn1_chain(certificate)]),
    )


class TimestampUnavailable(ValidationError):
    """The configured time-stamp authority did not answer. The document is left unsealed rather
    than sealed without the time-stamp it is promised: a task retries, a page asks the person to
    try again later."""


def pdf_seal(pdf: bytes, *, certificate: InstitutionCertificate, reason: str) -> bytes:
    """Add a PAdES signature as an incremental update: every earlier byte stays as it was.
    B-LT (time-stamp and validation data, in the same revision as the signature) when a
    time-stamp authority is configured, else B-B."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.signers.pdf_signer import DSSContentSettings, SigDSSPlacementPreference
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    timestamper = _timestamper()
    long_term = {}
    if timestamper is not None:
        long_term = {
            "embed_validation_info": True,
            "validation_context": _sealing_validation_context(certificate),
            # In the signature's own revision, so that the seal still covers the whole file.
            "dss_settings": DSSContentSettings(
                placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE, include_vri=False
            ),
        }
    metadata = signers.PdfSignatureMetadata(
        field_name="InstitutionSeal",
        reason=reason,
        name=certificate.subject_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        **long_term,
    )
    signer = _cached_signer(certificate)
    try:
        output = signers.sign_pdf(
            writer,
            metadata,
            signer=signer,
            timestamper=timestamper,
            bytes_reserved=_bytes_reserved(signer, timestamped=timestamper is not None),
        )
    except TimestampRequestError as error:
        raise TimestampUnavailable(
            "The time-stamp authority did not answer (%(url)s); the document was not sealed. "
            "Try again in a few minutes.",
            code="timestamp_unavailable",
            params={"url": settings.SIGNING_TIMESTAMP_URL},
        ) from error
    return output.getvalue()


def _timestamper():
    """A client of the configured time-stamp authority, or None. One per address: it keeps
    the authority's certificates from its first answer, needed to size and validate a seal."""
    from pyhanko.sign.timestamps import HTTPTimeStamper

    url = settings.SIGNING_TIMESTAMP_URL
    if not url:
        return None
    key = (url, settings.SIGNING_TIMESTAMP_TIMEOUT)
    timestamper = _TIMESTAMPERS.get(key)
    if timestamper is None:
        timestamper = _TIMESTAMPERS[key] = HTTPTimeStamper(
            url, timeout=settings.SIGNING_TIMESTAMP_TIMEOUT
        )
    return timestamper


_TIMESTAMPERS: dict[tuple[str, int], object] = {}


def timestamp_trust_roots() -> list[asn1_x509.Certificate]:
    """The roots the time-stamp authority's tokens chain to: SIGNING_TIMESTAMP_TRUST_ROOTS
    only (a system check requires it with SIGNING_TIMESTAMP_URL). The web's TLS roots are not
    time-stamping roots: trusting them would report a time from any authority they vouch
    for."""
    path = settings.SIGNING_TIMESTAMP_TRUST_ROOTS
    return list(_pem_roots(path)) if path else []


@functools.cache
def _pem_roots(path: str) -> tuple[asn1_x509.Certificate, ...]:
    return tuple(
        asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
        for root in x509.load_pem_x509_certificates(Path(path).read_bytes())
    )


def _sealing_validation_context(certificate: InstitutionCertificate):
    """What pyHanko validates the seal's certificates against to collect the data it embeds.
    Institution certificates are usually self-made, with no CRL or OCSP address: revocation is
    soft-fail, so what exists is embedded and the absence of revocation data stops nothing."""
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(
        trust_roots=[
            _asn1_certificate(certificate),
            *_asn1_chain(certificate),
            *timestamp_trust_roots(),
        ],
        revocation_mode="soft-fail",
        allow_fetching=True,
    )


# A time-stamp token carries the authority's signature and usually its certificate chain.
TIMESTAMP_TOKEN_ROOM = 16 * 1024


def _bytes_reserved(signer, *, timestamped: bool = False) -> int:
    """Room for the seal in the file, as hexadecimal: the certificates it carries, and ample
    room for the signed attributes and the signature (a 4096-bit RSA signature is 512 bytes),
    and the time-stamp token when there is one.
    Given, pyHanko need not make a trial signature to size it, which cost a third of a seal."""
    certificates = [signer.signing_cert, *signer.cert_registry]
    room = sum(len(certificate.dump()) for certificate in certificates) + 4096
    return 2 * (room + (TIMESTAMP_TOKEN_ROOM if timestamped else 0))


# Decrypting the key (PKCS#8's key derivation) took a good part of each seal; a bulk
# countersigning seals hundreds in a row with the same certificate. Keyed by the schema and
# the certificate's fingerprint, so another institution's or a newly uploaded certificate is
# never served from here; the key stays in this process's memory only, as it does while any
# seal is made.
_SIGNERS: dict[tuple[str, int, str], object] = {}
_SIGNERS_MAX = 16


def _cached_signer(certificate: InstitutionCertificate):
    key = (tenant_connection.schema_name, certificate.pk, certificate.fingerprint_sha256)
    signer = _SIGNERS.get(key)
    if signer is None:
        if len(_SIGNERS) >= _SIGNERS_MAX:
            _SIGNERS.clear()
        signer = _SIGNERS[key] = _signer(certificate)
    return signer


def _dss_holds_certificates(reader) -> bool:
    """B-LT needs the validation data itself, not an empty Document Security Store."""
    if "/DSS" not in reader.root:
        return False
    dss = reader.root["/DSS"]
    return "/Certs" in dss and len(dss["/Certs"]) > 0


@dataclass(frozen=True)
class SealCheck:
    ok: bool
    reason: str
    # When the seal carries a time-stamp token from an authority trusted here.
    timestamped_at: datetime.datetime | None = None
    timestamp_authority: str = ""
    # PAdES level: "B-B", "B-T" (time-stamped) or "B-LT" (and its validation data embedded).
    level: str = ""


def pdf_seal_check(pdf: bytes, *, certificates: list[InstitutionCertificate]) -> SealCheck:
    """Whether `pdf` carries an intact seal by one of `certificates` covering the whole file,
    and when it was time-stamped if it was."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    if not certificates:
        return SealCheck(False, "This institution has not sealed any document yet.")
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except Exception:
        return SealCheck(False, "The file could not be read as a PDF.")
    if not signatures:
        return SealCheck(False, "The PDF carries no digital signature.")
    trust_roots = [_asn1_certificate(certificate) for certificate in certificates]
    context = ValidationContext(trust_roots=trust_roots, allow_fetching=False)
    timestamp_context = ValidationContext(trust_roots=timestamp_trust_roots(), allow_fetching=False)
    seal = signatures[-1]
    try:
        status = validate_pdf_signature(seal, context, ts_validation_context=timestamp_context)
    except Exception:
        return SealCheck(False, "The digital signature could not be checked.")
    if not (status.intact and status.valid):
        return SealCheck(False, "The document was changed after it was sealed.")
    if not status.trusted:
        return SealCheck(False, "The document was not sealed by this institution.")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return SealCheck(False, "The document was changed after it was sealed.")
    token = status.timestamp_validity
    if token is None:
        return SealCheck(True, "Sealed by this institution and unmodified.", level="B-B")
    if not (token.intact and token.valid):
        return SealCheck(False, "The seal's time-stamp does not match the document.")
    level = "B-LT" if _dss_holds_certificates(reader) else "B-T"
    if not token.trusted:
        return SealCheck(
            True,
            "Sealed by this institution and unmodified; its time-stamp comes from an authority "
            "this site does not trust.",
            level=level,
        )
    return SealCheck(
        True,
        "Sealed by this institution, unmodified, and time-stamped.",
        timestamped_at=token.timestamp,
        timestamp_authority=common_name(
            x509.load_der_x509_certificate(token.signing_cert.dump()).subject
        ),
        level=level,
    )
