"""Uploads that are not what they should be, in Chromium: a student's PDF with JavaScript is
refused with what was found and how to fix it; a full disk gives "We could not store your
file"; the super admin ticks "Accept PDFs with active content, storing a copy without it" on
the settings page, after which the same PDF is accepted and the reviewer is told that active
content was removed (and that no virus scanner is configured)."""

import hashlib

import pytest
from django.core.files.storage import default_storage
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from cohorts.models import DocumentType
from enrolments.models import StudentDocument
from enrolments.services import enrollment_invite
from tests.browser.support import PASSWORD, PageChecker, open_account_menu_item, sign_in
from tests.factories import CohortFactory
from tests.files import PDF_BYTES
from tests.uploads.active_pdfs import ACTIVE_PDFS, active_parts, build_pdf
from tests.uploads.storage import FullDiskStorage

pytestmark = pytest.mark.browser

SETTING = "Accept PDFs with active content, storing a copy without it"


@pytest.fixture
def full_disk(settings, tmp_path):
    """Switch the application's storage to a disk of `capacity` bytes (tests.uploads.storage),
    in a media folder of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"

    def install(capacity: int) -> None:
        FullDiskStorage.capacity = capacity
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "tests.uploads.storage.FullDiskStorage"},
        }

    return install


def _choose(card, name: str, content: bytes) -> None:
    card.locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "application/pdf", "buffer": content}]
    )
    card.get_by_role("button", name="Upload", exact=True).click()


def test_pdf_with_javascript_is_refused_and_then_accepted_as_a_copy_once_chosen(
    page: Page, site, make_institution, make_person, unique, full_disk, ratelimit_reset, settings
):
    settings.CLAMAV_ADDRESS = ""
    full_disk(1024 * 1024)
    institution = make_institution("safety")
    head = make_person(institution, SystemRole.SUPER_ADMIN, name="Sena Head")
    with tenant_context(institution):
        matric, cv = (DocumentType.objects.get(name=name) for name in ["Matric certificate", "CV"])
        cohort = CohortFactory(active=True, required_document_types=[matric, cv])
        enrollment = enrollment_invite(
            cohort=cohort, actor=head, email=f"thandi-{unique}@example.org",
            full_name="Thandi Mokoena",
        )  # fmt: skip
        enrollment.user.set_password(PASSWORD)
        enrollment.user.save(update_fields=["password"])
    scripted = build_pdf(ACTIVE_PDFS["JavaScript run on opening (/OpenAction)"][0])
    checker = PageChecker(page, "document-safety")

    # The student's PDF with JavaScript is refused beside the document, saying what and how.
    sign_in(page, site.institution(institution.code, "/accounts/login/?next=/my/"),
            enrollment.user.email)  # fmt: skip
    matric_card = page.locator(f"#document-{matric.pk}")
    _choose(matric_card, "matric.pdf", scripted)
    refusal = matric_card.get_by_role("alert")
    expect(refusal).to_contain_text("This PDF contains JavaScript (program code)")
    expect(refusal).to_contain_text("print it to a new PDF")
    expect(matric_card.get_by_label("Choose a file")).to_have_class("form-control is-invalid")
    checker.look("active-content-refused")

    # The disk is full: the CV cannot be stored, and the student is told so.
    full_disk(0)
    cv_card = page.locator(f"#document-{cv.pk}")
    _choose(cv_card, "cv.pdf", PDF_BYTES)
    expect(cv_card.get_by_role("alert")).to_contain_text(
        "We could not store your file. Try again later."
    )
    checker.look("storage-full")
    full_disk(1024 * 1024)
    _choose(cv_card, "cv.pdf", PDF_BYTES)
    expect(cv_card.get_by_text("Uploaded. It is now waiting for review.")).to_be_visible()

    # The super admin chooses to accept such PDFs as copies without the active content.
    admin_page = page.context.browser.new_page()
    admin_checker = PageChecker(admin_page, "document-safety-admin", structure=True)
    sign_in(admin_page, site.institution(institution.code, "/accounts/login/"), head.email)
    open_account_menu_item(admin_page, "Settings")
    checkbox = admin_page.get_by_label(SETTING)
    expect(checkbox).not_to_be_checked()
    checkbox.check()
    admin_page.get_by_role("button", name="Save settings").click()
    expect(admin_page.get_by_text("Institution settings saved.")).to_be_visible()
    expect(admin_page.get_by_label(SETTING)).to_be_checked()
    admin_checker.look("setting-ticked")

    # The same PDF now goes through; only the copy without the script is kept.
    _choose(matric_card, "matric.pdf", scripted)
    expect(matric_card.get_by_text("Uploaded. It is now waiting for review.")).to_be_visible()
    with tenant_context(institution):
        document = StudentDocument.objects.get(enrollment=enrollment, document_type=matric)
        with default_storage.open(document.file.name, "rb") as stored:
            assert active_parts(stored.read()) == []
    assert document.original_sha256 == hashlib.sha256(scripted).hexdigest()

    # The reviewer is told what happened to the file, and that nothing scans for viruses.
    admin_page.goto(site.institution(institution.code, f"/review/documents/{document.pk}/"))
    expect(admin_page.get_by_text("Active content (such as JavaScript or attached files) was "
                                  "removed")).to_be_visible()  # fmt: skip
    expect(admin_page.get_by_text(document.original_sha256)).to_be_visible()
    expect(
        admin_page.get_by_text(
            "Uploaded files are not scanned for viruses: no scanner is configured."
        )
    ).to_be_visible()
    admin_checker.look("review")

    # Unticked again, such a PDF is refused once more.
    open_account_menu_item(admin_page, "Settings")
    admin_page.get_by_label(SETTING).uncheck()
    admin_page.get_by_role("button", name="Save settings").click()
    expect(admin_page.get_by_text("Institution settings saved.")).to_be_visible()
    expect(admin_page.get_by_label(SETTING)).not_to_be_checked()
    matric_card.get_by_text("Sent the wrong file? Replace it").click()
    _choose(matric_card, "matric.pdf", scripted)
    expect(matric_card.get_by_role("alert")).to_contain_text("This PDF contains JavaScript")

    checker.assert_clean()
    admin_checker.assert_clean()
    admin_page.close()
