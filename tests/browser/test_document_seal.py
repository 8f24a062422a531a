"""The super admin replaces the institution's document seal with its own certificate on the
settings page: a wrong password is explained, the right one puts the new certificate in use."""

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from signing.models import CertificateSource, InstitutionCertificate
from tests.browser.support import PageChecker, open_account_menu_item, sign_in
from tests.signing.certificates import (
    PASSWORD,
    certificate_authority,
    pkcs12_file,
    seal_certificate,
)

pytestmark = pytest.mark.browser


def test_super_admin_uploads_the_institutions_own_certificate(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("seal")
    head = make_person(institution, SystemRole.SUPER_ADMIN, name="Sena Seal")
    ca = certificate_authority(institution.name)
    key = ec.generate_private_key(ec.SECP256R1())
    upload = {
        "name": "document-seal.p12",
        "mimeType": "application/x-pkcs12",
        "buffer": pkcs12_file(key, seal_certificate(ca, key), [ca[1]]),
    }
    checker = PageChecker(page, "document-seal", structure=True)

    sign_in(page, site.institution(institution.code, "/accounts/login/"), head.email)
    open_account_menu_item(page, "Settings")
    seal = page.locator("#document-seal")
    expect(seal.get_by_role("heading", name="Document seal")).to_be_visible()
    expect(seal).to_contain_text("Made by Cohortly at provisioning")
    checker.look("settings")

    seal.get_by_label("Certificate file (.p12 or .pfx)").set_input_files(files=[upload])
    seal.get_by_label("The file's password").fill("not the password")
    seal.get_by_role("button", name="Upload certificate").click()
    expect(seal.locator(".invalid-feedback")).to_contain_text(
        "This password does not open the file."
    )
    expect(seal.get_by_label("The file's password")).to_have_value("")
    expect(seal.get_by_text("choose the file again")).to_be_visible()
    checker.look("wrong-password")

    seal.get_by_label("Certificate file (.p12 or .pfx)").set_input_files(files=[upload])
    seal.get_by_label("The file's password").fill(PASSWORD)
    seal.get_by_role("button", name="Upload certificate").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Agreements completed from now on are sealed with “{institution.name} document seal”."
    )
    expect(seal).to_contain_text("Uploaded by the institution (PKCS#12)")
    expect(seal).to_contain_text(f"{institution.name} Test Root CA")
    checker.look("uploaded")
    checker.assert_clean()

    with tenant_context(institution):
        in_use = InstitutionCertificate.objects.get(is_active=True)
        assert in_use.source == CertificateSource.UPLOADED
        assert InstitutionCertificate.objects.count() == 2
