"""PAdES sealing with pyHanko with the institution's certificate (signing.services.certificates
makes or imports it), and checking a seal.

The private key is kept encrypted (PKCS#8, AES) with a key derived from SECRET_KEY and the
schema name by HKDF: a copy of the database alone does not give the key away, and one
institution's derived key does not open another's."""

import base64
import io
from dataclasses import dataclass

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from django.conf import settings

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
    signer = _cached_signer(certificate)
    output = signers.sign_pdf(
        writer, metadata, signer=signer, bytes_reserved=_bytes_reserved(signer)
    )
    return output.getvalue()


def _bytes_reserved(signer) -> int:
    """Room for the seal in the file, as hexadecimal: the certificates it carries, and ample
    room for the signed attributes and the signature (a 4096-bit RSA signature is 512 bytes).
    Given, pyHanko need not make a trial signature to size it, which cost a third of a seal."""
    certificates = [signer.signing_cert, *signer.cert_registry]
    return 2 * (sum(len(certificate.dump()) for certificate in certificates) + 4096)


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
