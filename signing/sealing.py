"""The institution's sealing certificate, PAdES sealing with pyHanko, and checking a seal.

The private key is kept encrypted (PKCS#8, AES) with a key derived from SECRET_KEY and the
schema name by HKDF: a copy of the database alone does not give the key away, and one
institution's derived key does not open another's."""

import base64
import datetime
import io
from dataclasses import dataclass

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from signing.models import InstitutionCertificate

CERTIFICATE_YEARS = 10


def _key_passphrase(schema_name: str) -> bytes:
    derived = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"cohortly-signing-certificate",
        info=schema_name.encode(),
    ).derive(settings.SECRET_KEY.encode())
    return base64.urlsafe_b64encode(derived)


def certificate_create(*, institution_name: str) -> InstitutionCertificate:
    """Make a key pair and a self-signed sealing certificate for the current schema. ECDSA
    P-256: PDF readers check it, and loading it per seal is cheap (an RSA key's consistency
    check costs about 0.3 s each time pyHanko loads it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{institution_name} document seal"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, institution_name[:64]),
        ]
    )
    now = timezone.now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365 * CERTIFICATE_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        .sign(key, hashes.SHA256())
    )
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_key_passphrase(connection.schema_name)),
    )
    return InstitutionCertificate.objects.create(
        subject_name=institution_name,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        private_key_encrypted=encrypted,
        fingerprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
        not_valid_after=certificate.not_valid_after_utc,
    )


def certificate_for_institution() -> InstitutionCertificate:
    """The current schema's active certificate, made on first use if provisioning did not."""
    certificate = InstitutionCertificate.objects.filter(is_active=True).first()
    if certificate is not None:
        return certificate
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':signing_cert'))"
            )
        certificate = InstitutionCertificate.objects.filter(is_active=True).first()
        return certificate or certificate_create(institution_name=connection.tenant.name)


def _asn1_certificate(certificate: InstitutionCertificate) -> asn1_x509.Certificate:
    loaded = x509.load_pem_x509_certificate(certificate.certificate_pem.encode())
    return asn1_x509.Certificate.load(loaded.public_bytes(serialization.Encoding.DER))


def _signer(certificate: InstitutionCertificate):
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = serialization.load_pem_private_key(
        bytes(certificate.private_key_encrypted), _key_passphrase(connection.schema_name)
    )
    key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert = _asn1_certificate(certificate)
    return signers.SimpleSigner(
        signing_cert=cert,
        signing_key=key_info,
        cert_registry=SimpleCertificateStore.from_certs([cert]),
    )


def pdf_seal(pdf: bytes, *, certificate: InstitutionCertificate, reason: str) -> bytes:
    """Add a PAdES signature as an incremental update: every earlier byte stays as it was."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(
        field_name="InstitutionSeal",
        reason=reason,
        name=certificate.subject_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    output = signers.sign_pdf(writer, metadata, signer=_signer(certificate))
    return output.getvalue()


@dataclass(frozen=True)
class SealCheck:
    ok: bool
    reason: str


def pdf_seal_check(pdf: bytes, *, certificates: list[InstitutionCertificate]) -> SealCheck:
    """Whether `pdf` carries an intact seal by one of `certificates` covering the whole file."""
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
    seal = signatures[-1]
    try:
        status = validate_pdf_signature(seal, context)
    except Exception:
        return SealCheck(False, "The digital signature could not be checked.")
    if not (status.intact and status.valid):
        return SealCheck(False, "The document was changed after it was sealed.")
    if not status.trusted:
        return SealCheck(False, "The document was not sealed by this institution.")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return SealCheck(False, "The document was changed after it was sealed.")
    return SealCheck(True, "Sealed by this institution and unmodified.")
