"""Certificates for tests of the institution's own seal: a small certificate authority, a
sealing certificate it issues, and both packed with a key as a PKCS#12 file."""

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.utils import timezone

PASSWORD = "correct horse battery"
CertificateAuthority = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )


def certificate_authority(organisation: str = "Alpha College") -> CertificateAuthority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"{organisation} Test Root CA", organisation)
    now = timezone.now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def seal_certificate(
    ca: CertificateAuthority,
    key: PrivateKeyTypes,
    *,
    starts: datetime.timedelta = datetime.timedelta(days=-1),
    ends: datetime.timedelta = datetime.timedelta(days=365),
) -> x509.Certificate:
    """A certificate for `key`, issued by `ca`, valid from now + `starts` to now + `ends`."""
    ca_key, ca_certificate = ca
    organisation = ca_certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0]
    now = timezone.now()
    return (
        x509.CertificateBuilder()
        .subject_name(_name(f"{organisation.value} document seal", str(organisation.value)))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + starts)
        .not_valid_after(now + ends)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )


def pkcs12_file(
    key: PrivateKeyTypes | None,
    certificate: x509.Certificate | None,
    cas: list[x509.Certificate],
    password: str = PASSWORD,
) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"document seal",
        key,
        certificate,
        cas,
        serialization.BestAvailableEncryption(password.encode()),
    )
