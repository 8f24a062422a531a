"""The student portal in Chromium: a student fills in their details, uploads documents with the
file picker and by dragging them in, follows the progress bar, signs, and fixes a rejected
document. Each page is checked at desktop and phone widths (nothing scrolls sideways, no inline
style, no script or CSP error).

With SCREENSHOTS=1 each page is saved under screenshots/ (git ignores it):
`SCREENSHOTS=1 .venv/bin/pytest tests/enrolments/test_portal_browser.py -p no:xdist`.
"""

import base64
import re
import secrets

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole, User
from cohorts.models import DocumentType
from enrolments.models import StudentDocument
from enrolments.services import enrollment_invite
from tenants.services import institution_provision
from tenants.sites import institution_domain
from tests.browser.support import PASSWORD, PageChecker, fill_in_details, sign_in
from tests.factories import CohortFactory
from tests.files import PDF_BYTES, png_bytes
from verification.services import document_review

pytestmark = pytest.mark.browser


@pytest.fixture
def enrolled(committed_db):
    """A student of an institution of the test's own (the data is committed, for the live server
    to see, and must not show up in other tests), enrolled in a cohort asking for three
    documents, who has set their password."""
    unique = secrets.token_hex(4)
    institution = institution_provision(
        name="Riverside Skills College",
        code=f"portal-{unique}",
        admin_email=f"head@{unique}.example",
    )
    with tenant_context(institution):
        admin = User.objects.create_user(
            email=f"portal-admin-{unique}@alpha.example",
            password=PASSWORD,
            full_name="Ada Admin",
            roles=[SystemRole.ADMIN],
        )
        cohort = CohortFactory(
            active=True,
            name="Electrical Engineering Learnership 2027",
            required_document_types=DocumentType.objects.filter(
                name__in=["South African ID or passport", "Matric certificate", "CV"]
            ),
        )
        enrollment = enrollment_invite(
            cohort=cohort,
            actor=admin,
            email=f"thandi-{unique}@example.org",
            full_name="Thandi Mokoena",
        )
        enrollment.user.set_password(PASSWORD)
        enrollment.user.save(update_fields=["password"])
    return institution, admin, enrollment


def _drop_file(page: Page, selector: str, name: str, content: bytes, mime: str) -> None:
    """Drag a file from outside the browser onto a drop zone."""
    page.evaluate(
        """([selector, name, data, mime]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: mime }));
            const zone = document.querySelector(selector);
            for (const type of ["dragover", "drop"]) {
                const init = { dataTransfer: transfer, bubbles: true, cancelable: true };
                zone.dispatchEvent(new DragEvent(type, init));
            }
        }""",
        [selector, name, base64.b64encode(content).decode(), mime],
    )


def test_student_completes_their_part_in_the_browser(page: Page, live_server_port, enrolled):
    institution, admin, enrollment = enrolled
    base = f"http://{institution_domain(institution.code)}:{live_server_port}"
    checker = PageChecker(page, "portal")
    with tenant_context(institution):
        id_type, matric, cv = (
            DocumentType.objects.get(name=name)
            for name in ["South African ID or passport", "Matric certificate", "CV"]
        )

    sign_in(page, f"{base}/accounts/login/?next=/my/", enrollment.user.email)

    # With one enrolment, "my enrolments" is the enrolment itself.
    expect(page).to_have_url(f"{base}/my/{enrollment.pk}/")
    expect(page.get_by_role("heading", name=enrollment.cohort.name)).to_be_visible()
    expect(page.get_by_text("0 of 6 steps done")).to_be_visible()
    checker.look("enrolment-start")

    # Details: refused first, then accepted with the date of birth from the ID number.
    page.get_by_role("link", name="Fill in your details").click()
    page.get_by_label("South African ID number").fill("9904125800081")
    page.get_by_role("button", name="Save your details").click()
    expect(page.get_by_text("check digit is wrong")).to_be_visible()
    expect(page.get_by_text("Choose your population group")).to_be_visible()
    checker.look("details-errors")
    fill_in_details(page, "9904125800080")
    expect(page.get_by_text("Your details are saved.")).to_be_visible()
    expect(page.get_by_text("12 April 1999")).to_be_visible()
    expect(page.get_by_text("1 of 6 steps done")).to_be_visible()

    # The ID with the file picker, through htmx: the card is replaced in place and the progress
    # bar saw the upload.
    page.evaluate(
        """() => document.addEventListener("htmx:xhr:progress", (event) => {
            const bar = event.target.closest("form")?.querySelector("progress");
            if (bar) window.uploadProgress = bar.value;
        })"""
    )
    card = page.locator(f"#document-{id_type.pk}")
    card.get_by_label("Choose a file").set_input_files(
        files=[{"name": "id-card.png", "mimeType": "image/png", "buffer": png_bytes((400, 250))}]
    )
    expect(card.get_by_text("id-card.png (", exact=False)).to_be_visible()
    card.get_by_role("button", name="Upload", exact=True).click()
    expect(card.get_by_text("Uploaded. It is now waiting for review.")).to_be_visible()
    expect(card.get_by_text("Waiting for review", exact=True)).to_be_visible()
    assert page.evaluate("window.uploadProgress") == 100

    # A web page saved as .pdf is refused beside the document, without leaving the page.
    matric_card = page.locator(f"#document-{matric.pk}")
    _drop_file(
        page,
        f"#document-{matric.pk} [data-upload-drop]",
        "matric.pdf",
        b"<!doctype html><html><body>matric</body></html>",
        "application/pdf",
    )
    expect(matric_card.get_by_text("matric.pdf (")).to_be_visible()
    matric_card.get_by_role("button", name="Upload", exact=True).click()
    expect(
        matric_card.get_by_text("This file is not a PDF, JPEG image or PNG image")
    ).to_be_visible()
    checker.look("upload-refused")

    # Dragged in again, a real PDF.
    _drop_file(
        page,
        f"#document-{matric.pk} [data-upload-drop]",
        "matric.pdf",
        PDF_BYTES,
        "application/pdf",
    )
    matric_card.get_by_role("button", name="Upload", exact=True).click()
    expect(matric_card.get_by_text("Uploaded. It is now waiting for review.")).to_be_visible()

    # Too large for the CV's limit: the browser warns before sending anything.
    cv_card = page.locator(f"#document-{cv.pk}")
    cv_card.get_by_label("Choose a file").set_input_files(
        files=[
            {
                "name": "cv.pdf",
                "mimeType": "application/pdf",
                "buffer": PDF_BYTES + b"0" * (10 * 1024 * 1024 + 1),
            }
        ]
    )
    expect(cv_card.get_by_text("is more than the 10 MB allowed")).to_be_visible()
    expect(cv_card.get_by_role("button", name="Upload", exact=True)).to_be_disabled()
    checker.look("uploads")

    # The agreement.
    page.get_by_role("link", name="Read and sign").click()
    expect(page.get_by_role("heading", name="Programme participation agreement")).to_be_visible()
    agreement_url = page.url
    page.get_by_role("button", name="Sign the agreement").click()
    # On the signing page: consent is required.
    page.get_by_label("Type your signature").fill("Thandi Mokoena")
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("#form-problems")).to_contain_text(
        "Tick the box to agree to sign electronically."
    )
    expect(page.get_by_label("Type your signature")).to_have_value("Thandi Mokoena")
    checker.look("agreement-error")
    page.locator("#id_consent").check()
    page.get_by_role("button", name="Sign", exact=True).click()
    # Back in the portal, told whose signatures the agreement still waits for.
    expect(page.get_by_text("You signed “Programme participation agreement”.")).to_be_visible()
    expect(page.locator("#agreement-waiting")).to_contain_text(
        "Signed by you. Not yet signed by the institution"
    )
    page.goto(agreement_url)
    expect(page.locator("#agreement-waiting")).to_contain_text("You have signed.")
    expect(page.locator("#agreement-parties")).to_contain_text("Not signed yet")
    page.goto(agreement_url.replace("agreement/", ""))
    expect(page.get_by_text("1 of 6 steps done")).to_be_visible()

    # The reviewer rejects the ID: the reason shows beside it, with a way to send a new version.
    with tenant_context(institution):
        document_review(
            document=StudentDocument.objects.get(
                enrollment=enrollment, document_type=id_type, is_current=True
            ),
            reviewer=admin,
            approve=False,
            reason="The photo is cut off at the bottom: include the whole card.",
        )
    page.reload()
    expect(page.get_by_text("A document was not accepted.")).to_be_visible()
    card = page.locator(f"#document-{id_type.pk}")
    expect(card.get_by_text("The photo is cut off at the bottom")).to_be_visible()
    expect(card.get_by_label("Upload a new version")).to_be_visible()
    checker.look("rejected")
    card.get_by_label("Upload a new version").set_input_files(
        files=[{"name": "id-card-whole.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    card.get_by_role("button", name="Upload", exact=True).click()
    expect(card.get_by_text("Uploaded. It is now waiting for review.")).to_be_visible()
    card.get_by_text("Earlier versions (1)").click()
    expect(card.get_by_text(re.compile(r"not accepted: The photo is cut off"))).to_be_visible()
    checker.look("new-version")

    # Enrolled in a second cohort, the student's home lists both.
    with tenant_context(institution):
        enrollment_invite(
            cohort=CohortFactory(name="Data Analytics Internship 2027", program_type="internship"),
            actor=admin,
            email=enrollment.user.email,
            full_name="Thandi Mokoena",
        )
    page.goto(f"{base}/my/")
    expect(page.get_by_role("heading", name="My enrolments")).to_be_visible()
    expect(page.get_by_role("link", name="Data Analytics Internship 2027")).to_be_visible()
    expect(page.get_by_text("A document needs a new version")).to_have_count(0)
    checker.look("my-enrolments")

    checker.assert_clean()
