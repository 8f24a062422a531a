"""An institution's own sealing certificate, uploaded as a PKCS#12 file: what is accepted, what
is refused and why, and that seals made before and after the change both verify."""

import datetime
import io

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from accounts.models import SystemRole
from audit.models import AuditEvent
from signing.models import CertificateSource, InstitutionCertificate
from signing.sealing import pdf_seal_check
from signing.selectors import certificate_in_use, certificates_for_verify, link_for_token
from signing.services.certificates import certificate_for_institution, certificate_import_pkcs12
from signing.services.completion import submitter_sign
from tests.factories import UserFactory
from tests.signing.certificates import (
    PASSWORD,
    certificate_authority,
    pkcs12_file,
    seal_certificate,
)
from tests.signing.conftest import last_link_to

pytestmark = pytest.mark.django_db


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def ca():
    return certificate_authority()


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _complete(submission) -> bytes:
    for submitter in submission.submitters.order_by("order"):
        link = link_for_token(last_link_to(submitter.email))
        submitter_sign(link=link, signed_name=submitter.name, consent=True, signature_text="x")
    submission.refresh_from_db()
    with submission.final_pdf.open("rb") as stored:
        return stored.read()


def test_uploaded_certificate_seals_new_agreements_with_its_chain(
    ca, rsa_key, super_admin, make_submission
):
    generated = certificate_for_institution()
    leaf = seal_certificate(ca, rsa_key)
    imported = certificate_import_pkcs12(
        data=pkcs12_file(rsa_key, leaf, [ca[1]]), password=PASSWORD, actor=super_admin
    )

    assert imported.source == CertificateSource.UPLOADED
    assert imported.subject_name == "Alpha College document seal"
    assert imported.fingerprint_sha256 == leaf.fingerprint(hashes.SHA256()).hex()
    assert imported.not_valid_after == leaf.not_valid_after_utc
    assert b"ENCRYPTED PRIVATE KEY" in bytes(imported.private_key_encrypted)
    assert x509.load_pem_x509_certificates(imported.chain_pem.encode()) == [ca[1]]
    assert certificate_for_institution() == imported
    generated.refresh_from_db()
    assert not generated.is_active

    final = _complete(make_submission())
    seal = PdfFileReader(io.BytesIO(final)).embedded_signatures[-1]
    assert seal.signer_cert.dump() == _der(leaf)
    assert _der(ca[1]) in {certificate.dump() for certificate in seal.signed_data["certificates"]}
    root = asn1_x509.Certificate.load(_der(ca[1]))
    status = validate_pdf_signature(
        seal, ValidationContext(trust_roots=[root], allow_fetching=False)
    )
    assert status.intact
    assert status.valid
    assert status.trusted
    assert pdf_seal_check(final, certificates=certificates_for_verify()).ok

    event = AuditEvent.objects.get(action="signing.certificate_imported")
    assert event.actor == super_admin
    assert event.entity_id == str(imported.pk)
    assert event.old_values == {"fingerprint_sha256": generated.fingerprint_sha256}
    assert event.new_values["fingerprint_sha256"] == imported.fingerprint_sha256
    assert event.new_values["issuer"] == "O=Alpha College,CN=Alpha College Test Root CA"
    assert event.new_values["chain_length"] == 1


def test_a_pdf_sealed_before_the_upload_still_verifies(
    ca, super_admin, make_submission, client_for, institution, unique_ip
):
    before = _complete(make_submission())
    key = ec.generate_private_key(ec.SECP384R1())
    certificate_import_pkcs12(
        data=pkcs12_file(key, seal_certificate(ca, key), [ca[1]]),
        password=PASSWORD,
        actor=super_admin,
    )
    after = _complete(make_submission())

    client = client_for(institution)
    client.defaults["REMOTE_ADDR"] = unique_ip
    for final in (before, after):
        response = client.post(
            "/sign/verify/",
            {
                "document": SimpleUploadedFile(
                    "agreement.pdf", final, content_type="application/pdf"
                )
            },
        )
        assert response.status_code == 200
        assert "Genuine and unmodified" in response.content.decode()


def test_the_certificate_in_use_is_described_for_the_settings_page(ca, super_admin):
    generated = certificate_in_use()
    assert generated.source == "Made by Cohortly at provisioning"
    assert not generated.is_uploaded
    assert generated.is_self_signed
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = seal_certificate(ca, key)
    certificate_import_pkcs12(
        data=pkcs12_file(key, leaf, [ca[1]]), password=PASSWORD, actor=super_admin
    )
    uploaded = certificate_in_use()
    assert uploaded.is_uploaded
    assert uploaded.subject == "Alpha College document seal"
    assert uploaded.subject_dn == "O=Alpha College,CN=Alpha College document seal"
    assert uploaded.issuer == "Alpha College Test Root CA"
    assert not uploaded.is_self_signed
    assert uploaded.fingerprint_sha256 == leaf.fingerprint(hashes.SHA256()).hex(":").upper()
    assert uploaded.valid_until == leaf.not_valid_after_utc


def _garbage(ca) -> tuple[bytes, str]:
    return b"%PDF-1.7 this is not a certificate", PASSWORD


def _wrong_password(ca) -> tuple[bytes, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    return pkcs12_file(key, seal_certificate(ca, key), [ca[1]]), "wrong horse"


def _expired(ca) -> tuple[bytes, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = seal_certificate(
        ca, key, starts=datetime.timedelta(days=-400), ends=datetime.timedelta(days=-2)
    )
    return pkcs12_file(key, leaf, [ca[1]]), PASSWORD


def _not_yet_valid(ca) -> tuple[bytes, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = seal_certificate(ca, key, starts=datetime.timedelta(days=3))
    return pkcs12_file(key, leaf, [ca[1]]), PASSWORD


def _mismatched_key(ca) -> tuple[bytes, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    other_key = ec.generate_private_key(ec.SECP256R1())
    return pkcs12_file(other_key, None, [seal_certificate(ca, key), ca[1]]), PASSWORD


def _key_only(ca) -> tuple[bytes, str]:
    return pkcs12_file(ec.generate_private_key(ec.SECP256R1()), None, []), PASSWORD


def _certificates_only(ca) -> tuple[bytes, str]:
    return pkcs12_file(None, None, [ca[1]]), PASSWORD


def _weak_rsa_key(ca) -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return pkcs12_file(key, seal_certificate(ca, key), []), PASSWORD


def _unsupported_curve(ca) -> tuple[bytes, str]:
    key = ec.generate_private_key(ec.SECP256K1())
    return pkcs12_file(key, seal_certificate(ca, key), []), PASSWORD


def _too_large(ca) -> tuple[bytes, str]:
    return b"0" * (100 * 1024 + 1), PASSWORD


@pytest.mark.parametrize(
    ("make_file", "field", "message"),
    [
        (_garbage, "file", "This is not a PKCS#12 file"),
        (_wrong_password, "password", "This password does not open the file."),
        (_expired, "file", "The certificate expired on"),
        (_not_yet_valid, "file", "The certificate is not valid until"),
        (_mismatched_key, "file", "None of the certificates in the file belongs to its private"),
        (_key_only, "file", "The file holds a private key but no certificate."),
        (_certificates_only, "file", "The file holds no private key"),
        (_weak_rsa_key, "file", "The RSA key is 1024 bits long"),
        (_unsupported_curve, "file", "choose an RSA key or an ECDSA key"),
        (_too_large, "file", "larger than 100 KB"),
    ],
)
def test_unusable_files_are_refused_with_a_reason(ca, super_admin, make_file, field, message):
    active = certificate_for_institution()
    data, password = make_file(ca)
    with pytest.raises(ValidationError) as error:
        certificate_import_pkcs12(data=data, password=password, actor=super_admin)
    assert message in " ".join(error.value.message_dict[field])
    assert InstitutionCertificate.objects.get(is_active=True) == active
    assert InstitutionCertificate.objects.count() == 1
    assert not AuditEvent.objects.filter(action="signing.certificate_imported").exists()


@pytest.mark.parametrize("role", [SystemRole.ADMIN, SystemRole.AUDITOR, SystemRole.STUDENT])
def test_only_a_super_admin_may_replace_the_certificate(ca, institution, role):
    key = ec.generate_private_key(ec.SECP256R1())
    person = UserFactory(roles=[role])
    with pytest.raises(PermissionDenied):
        certificate_import_pkcs12(
            data=pkcs12_file(key, seal_certificate(ca, key), [ca[1]]),
            password=PASSWORD,
            actor=person,
        )
    assert not InstitutionCertificate.objects.filter(source=CertificateSource.UPLOADED).exists()
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="signing.certificate_import_pkcs12"
    ).exists()
