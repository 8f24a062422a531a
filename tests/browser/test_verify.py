"""Anyone checks a sealed agreement on the verify page: it gives the completion and each
signature to the second in the institution's zone, as the document's audit certificate does."""

import io
import re

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import User
from signing.models import Submission
from signing.services.submissions import submission_create, submission_send
from signing.services.templates import template_create
from tenants.models import Institution
from tests.browser.support import PageChecker

pytestmark = pytest.mark.browser

FOUNDER = "founder@alpha.example"  # alpha's super admin, from the session's fixtures
EXACT = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d SAST")


def _certificate_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.usefixtures("ratelimit_reset")
def test_the_verify_page_and_the_certificate_give_the_same_times(
    page: Page, site, unique, tmp_path
):
    institution = Institution.objects.get(code="alpha")
    with tenant_context(institution):
        admin = User.objects.get(email=FOUNDER)
        template = template_create(
            title=f"Code of conduct {unique}",
            body="<p>{{ student.full_name }} keeps the code of conduct.</p>",
            signer_roles=["student"],
            actor=admin,
        )
        submission = submission_create(
            template=template,
            context={"student.full_name": "Thandi Mokoena"},
            signers=[
                {
                    "role": "student",
                    "name": "Thandi Mokoena",
                    "email": f"thandi-{unique}@example.org",
                }
            ],  # fmt: skip
            actor=admin,
        )
        url = submission_send(submission=submission, notify=False, actor=admin)

    # Signed in the browser: the live server seals it (this thread's event loop is Playwright's).
    page.goto(url)
    page.get_by_label("Type your signature").fill("T. Mokoena")
    page.locator("#id_consent").check()
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("heading", name="Thank you, you have signed")).to_be_visible()
    with tenant_context(institution):
        sealed = Submission.objects.get(pk=submission.pk)
        with sealed.final_pdf.open("rb") as stored:
            pdf = stored.read()
    document = tmp_path / "agreement.pdf"
    document.write_bytes(pdf)

    checker = PageChecker(page, "verify", structure=True)
    page.goto(site.institution("alpha", "/sign/verify/"))
    expect(page.get_by_role("heading", name="Verify a signed document")).to_be_visible()
    checker.look("form")
    page.get_by_label("Signed PDF").set_input_files(document)
    page.get_by_role("button", name="Check").click()
    result = page.get_by_role("status")
    expect(result).to_contain_text("Genuine and unmodified")
    expect(result).to_contain_text("Times are in Africa/Johannesburg (SAST, UTC+02:00)")
    checker.look("genuine")
    checker.assert_clean()

    shown = EXACT.findall(result.inner_text())
    assert len(shown) == 2  # completed, and the one signature
    certificate = _certificate_text(pdf)
    for moment in shown:
        assert moment in certificate
