"""The institution's sealing certificate: made at provisioning (or when the first agreement is
sealed), or imported as the institution's own PKCS#12 file. The private key is stored encrypted
for this schema only (see signing.sealing); the certificates an import replaces are kept,
inactive, so that what they sealed still verifies."""

import datetime

from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from signing.models import CertificateSource, InstitutionCertificate
from signing.sealing import common_name, key_passphrase
from tenants.db import tenant_connection

CERTIFICATE_YEARS = 10
PKCS12_MAX_BYTES = 100 * 1024
RSA_MIN_BITS = 2048
# The curves pyHanko signs with and PDF readers check.
SEAL_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})  # P-256, P-384, P-521


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
        )
        .sign(key, hashes.SHA256())
    )
    return _certificate_store(
        key=key,
        certificate=certificate,
        subject_name=institution_name,
        source=CertificateSource.GENERATED,
    )


def _certificate_store(
    *,
    key: PrivateKeyTypes,
    certificate: x509.Certificate,
    subject_name: str,
    source: str,
    chain: list[x509.Certificate] | None = None,
) -> InstitutionCertificate:
    """Save a certificate as the active one, its private key encrypted for this schema only."""
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(key_passphrase(tenant_connection.schema_name)),
    )
    return InstitutionCertificate.objects.create(
        subject_name=subject_name,
        source=source,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        chain_pem="".join(
            issuer.public_bytes(serialization.Encoding.PEM).decode() for issuer in chain or []
        ),
        private_key_encrypted=encrypted,
        fingerprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
        not_valid_after=certificate.not_valid_after_utc,
    )


def _lock_certificates() -> None:
    """Making and replacing the active certificate take turns within a schema."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':signing_cert'))"
        )


def certificate_for_institution() -> InstitutionCertificate:
    """The current schema's active certificate, made on first use if provisioning did not.
    Composable: provisioning and sealing call it inside their own transactions."""
    certificate = InstitutionCertificate.objects.filter(is_active=True).first()
    if certificate is not None:
        return certificate
    with transaction.atomic():
        _lock_certificates()
        certificate = InstitutionCertificate.objects.filter(is_active=True).first()
        return certificate or certificate_create(institution_name=tenant_connection.tenant.name)


class _PFX(asn1_core.Sequence):  # type: ignore[misc]  # asn1crypto has no type information
    """The outer structure of a PKCS#12 file (RFC 7292), enough to tell one from other files
    before trying the password."""

    _fields = [
        ("version", asn1_core.Integer),
        ("auth_safe", asn1_cms.ContentInfo),
        ("mac_data", asn1_core.Any, {"optional": True}),
    ]


def _is_pkcs12(data: bytes) -> bool:
    try:
        pfx = _PFX.load(data, strict=True)
        return pfx["version"].native == 3 and pfx["auth_safe"]["content_type"].native in {
            "data",
            "signed_data",
        }
    except (ValueError, TypeError, KeyError):
        return False


def _file_error(message: str, **params: object) -> ValidationError:
    return ValidationError({"file": ValidationError(message, params=params)})


def _pkcs12_open(
    data: bytes, password: str
) -> tuple[PrivateKeyTypes, x509.Certificate, list[x509.Certificate]]:
    """The key, certificate and issuers' certificates of a PKCS#12 file, or a ValidationError
    naming the form field (`file` or `password`) whose input is at fault."""
    if len(data) > PKCS12_MAX_BYTES:
        raise _file_error("The file is larger than 100 KB, which no certificate file needs.")
    if not _is_pkcs12(data):
        raise _file_error("This is not a PKCS#12 file: export the certificate as .p12 or .pfx.")
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(
            data, password.encode() if password else None
        )
    except ValueError as error:
        raise ValidationError(
            {"password": "This password does not open the file. Check it and try again."}
        ) from error
    if key is None:
        raise _file_error("The file holds no private key, only certificates.")
    # The loader returns as `certificate` only one whose public key matches the private key.
    if certificate is None and chain:
        raise _file_error("None of the certificates in the file belongs to its private key.")
    if certificate is None:
        raise _file_error("The file holds a private key but no certificate.")
    return key, certificate, chain


def _pkcs12_check(key: PrivateKeyTypes, certificate: x509.Certificate) -> None:
    """Refuse a key and certificate that cannot seal documents that readers accept today."""
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < RSA_MIN_BITS:
            raise _file_error(
                "The RSA key is %(bits)s bits long; at least 2048 bits are needed.",
                bits=key.key_size,
            )
    elif not (isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in SEAL_CURVES):
        raise _file_error(
            "The key is not one PDF seals use: choose an RSA key or an ECDSA key on P-256, "
            "P-384 or P-521."
        )
    now = timezone.now()
    if certificate.not_valid_after_utc <= now:
        raise _file_error(
            "The certificate expired on %(date)s.",
            date=f"{certificate.not_valid_after_utc:%d %B %Y}",
        )
    if certificate.not_valid_before_utc > now:
        raise _file_error(
            "The certificate is not valid until %(date)s.",
            date=f"{certificate.not_valid_before_utc:%d %B %Y}",
        )
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise _file_error("The certificate's key usage does not allow signing documents.")


def certificate_import_pkcs12(*, data: bytes, password: str, actor: User) -> InstitutionCertificate:
    """Make the institution's own certificate (a PKCS#12 file and its password) the one that
    seals agreements from now on. The certificate it replaces is kept, inactive, so that the
    verify page still recognises what it sealed."""
    permission_check(
        actor=actor,
        permission="signing.manage_certificate",
        action="signing.certificate_import_pkcs12",
    )
    key, certificate, chain = _pkcs12_open(data, password)
    _pkcs12_check(key, certificate)
    own_fingerprint = certificate.fingerprint(hashes.SHA256())
    issuers = [issuer for issuer in chain if issuer.fingerprint(hashes.SHA256()) != own_fingerprint]
    with transaction.atomic(durable=True):
        _lock_certificates()
        previous = InstitutionCertificate.objects.filter(is_active=True).first()
        if previous is not None:
            previous.is_active = False
            previous.save(update_fields=["is_active"])
        imported = _certificate_store(
            key=key,
            certificate=certificate,
            subject_name=common_name(certificate.subject),
            source=CertificateSource.UPLOADED,
            chain=issuers,
        )
        audit_record(
            actor=actor,
            action="signing.certificate_imported",
            entity=imported,
            old_values={"fingerprint_sha256": previous.fingerprint_sha256} if previous else {},
            new_values={
                "subject": certificate.subject.rfc4514_string(),
                "issuer": certificate.issuer.rfc4514_string(),
                "fingerprint_sha256": imported.fingerprint_sha256,
                "not_valid_after": imported.not_valid_after,
                "chain_length": len(issuers),
            },
        )
    return imported
