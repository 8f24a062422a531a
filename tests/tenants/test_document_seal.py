"""The "Document seal" section of the settings page: the certificate in use, and the super
admin's upload of the institution's own certificate."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import SystemRole
from signing.models import CertificateSource, InstitutionCertificate
from signing.services.certificates import certificate_for_institution
from tests.factories import UserFactory
from tests.signing.certificates import (
    PASSWORD,
    certificate_authority,
    pkcs12_file,
    seal_certificate,
)

pytestmark = pytest.mark.django_db


def _upload(client, password: str = PASSWORD, data: bytes | None = None):
    if data is None:
        ca = certificate_authority()
        key = ec.generate_private_key(ec.SECP256R1())
        data = pkcs12_file(key, seal_certificate(ca, key), [ca[1]])
    return client.post(
        "/settings/seal/",
        {"file": SimpleUploadedFile("seal.p12", data), "password": password},
    )


def test_settings_page_shows_the_certificate_in_use(super_admin_client):
    generated = certificate_for_institution()
    page = super_admin_client.get("/settings/").content.decode()
    assert "Document seal" in page
    assert "Made by Cohortly at provisioning" in page
    assert "Itself (self-signed)" in page
    assert generated.fingerprint_sha256[:2].upper() + ":" in page


def test_super_admin_uploads_a_certificate_and_sees_it_in_use(super_admin_client):
    response = _upload(super_admin_client)
    assert response.status_code == 302
    assert response["Location"] == "/settings/#document-seal"
    page = super_admin_client.get(response["Location"]).content.decode()
    assert "Agreements completed from now on are sealed with" in page
    assert "Uploaded by the institution (PKCS#12)" in page
    assert "Alpha College Test Root CA" in page
    assert "Itself (self-signed)" not in page
    assert InstitutionCertificate.objects.get(is_active=True).source == CertificateSource.UPLOADED


def test_a_wrong_password_is_explained_and_not_shown_again(super_admin_client):
    certificate_for_institution()
    response = _upload(super_admin_client, password="not-the-password")
    page = response.content.decode()
    assert response.status_code == 200
    assert "This password does not open the file." in page
    assert "not-the-password" not in page
    assert not InstitutionCertificate.objects.filter(source=CertificateSource.UPLOADED).exists()


def test_a_file_that_is_not_pkcs12_is_refused(super_admin_client):
    response = _upload(super_admin_client, data=b"\x89PNG\r\n\x1a\n not a certificate")
    assert response.status_code == 200
    assert "This is not a PKCS#12 file" in response.content.decode()


def test_a_file_over_the_size_limit_is_refused(super_admin_client):
    response = _upload(super_admin_client, data=b"0" * (5 * 1024 * 1024))
    assert response.status_code == 200
    assert "larger than 100 KB" in response.content.decode()


@pytest.mark.parametrize("role", [SystemRole.ADMIN, SystemRole.AUDITOR, SystemRole.STUDENT])
def test_only_super_admins_upload_a_certificate(institution, client_for, role):
    client = client_for(institution)
    client.force_login(UserFactory(roles=[role]))
    assert _upload(client).status_code == 404
    assert not InstitutionCertificate.objects.filter(source=CertificateSource.UPLOADED).exists()


def test_the_upload_address_takes_only_posts(super_admin_client):
    assert super_admin_client.get("/settings/seal/").status_code == 405
