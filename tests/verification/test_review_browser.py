"""The review queue in Chromium: an admin works through it with the keyboard (a approves,
r then a reason rejects, n skips) and sees the next document each time. The queue, the review
page and the enrolment's history are checked at desktop and phone widths (nothing scrolls
sideways, no inline style, no script or CSP error, the PDF frame is allowed).

With SCREENSHOTS=1 each page is saved under screenshots/ (git ignores it):
`SCREENSHOTS=1 .venv/bin/pytest tests/verification/test_review_browser.py -p no:xdist`.
"""

import secrets
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole, User
from enrolments.models import DocumentStatus, StudentDocument
from enrolments.services import enrollment_invite
from tenants.services import institution_provision
from tenants.sites import institution_domain
from tests.browser.support import PASSWORD, PageChecker, sign_in
from tests.factories import CohortFactory
from tests.files import png_bytes
from verification.models import DocumentVerification, VerificationAction
from verification.reasons import rejection_reasons

from .conftest import give_details, id_type, matric_type, upload_document

pytestmark = pytest.mark.browser


@pytest.fixture
def queue_of_four(committed_db):
    """An institution of the test's own (committed, for the live server) with an admin and two
    students who uploaded both required documents, oldest first: Amahle's ID (a photo) and
    matric (a PDF), then Bongani's ID and matric."""
    unique = secrets.token_hex(4)
    institution = institution_provision(
        name="Riverside Skills College",
        code=f"review-{unique}",
        admin_email=f"head@review-{unique}.example",
    )
    with tenant_context(institution):
        admin = User.objects.create_user(
            email=f"ada-{unique}@example.org",
            password=PASSWORD,
            full_name="Ada Admin",
            roles=[SystemRole.ADMIN],
        )
        cohort = CohortFactory(name="Electrical Engineering Learnership 2027")
        documents = []
        for name in ("Amahle Dlamini", "Bongani Nkosi"):
            enrollment = enrollment_invite(
                cohort=cohort,
                actor=admin,
                full_name=name,
                email=f"{name.split()[0].lower()}-{unique}@example.org",
            )
            if name.startswith("Amahle"):
                # The ID number says female; she entered male: the page flags it.
                give_details(enrollment, gender="male")
            documents.append(
                upload_document(
                    enrollment,
                    id_type(),
                    name="id-card.png",
                    content=png_bytes((900, 560)),
                    content_type="image/png",
                )
            )
            documents.append(upload_document(enrollment, matric_type(), name="matric.pdf"))
        now = timezone.now()
        for age, document in enumerate(reversed(documents)):
            StudentDocument.objects.filter(pk=document.pk).update(
                uploaded_at=now - timedelta(hours=30 * age + 1)
            )
    return institution, admin, documents


def test_an_admin_works_through_the_queue_with_the_keyboard(
    page: Page, queue_of_four, live_server_port
):
    institution, admin, documents = queue_of_four
    amahle_id, amahle_matric, bongani_id, bongani_matric = documents
    base = f"http://{institution_domain(institution.code)}:{live_server_port}"
    checker = PageChecker(page, "review")
    heading = page.get_by_role("heading", level=1)

    sign_in(page, f"{base}/accounts/login/?next=/review/", admin.email)

    expect(page.get_by_role("heading", name="Documents to review")).to_be_visible()
    expect(page.locator('[data-count="total"]')).to_have_text("4")
    expect(page.locator("tbody tr")).to_have_count(4)
    expect(page.locator("tbody tr").first).to_contain_text("Amahle Dlamini")
    page.get_by_label("Select South African ID or passport of Bongani Nkosi").check()
    expect(page.get_by_role("button", name="Approve 1 selected")).to_be_enabled()
    checker.look("queue")
    page.get_by_label("Select South African ID or passport of Bongani Nkosi").uncheck()

    page.get_by_role("link", name="Start reviewing").click()
    expect(heading).to_contain_text("South African ID or passport")
    expect(page.get_by_text("Amahle Dlamini").first).to_be_visible()
    expect(page.get_by_text("Check: does not match")).to_be_visible()
    image = page.get_by_role("img", name="South African ID or passport uploaded by Amahle")
    expect(image).to_be_visible()
    page.keyboard.press("+")
    expect(image).to_have_attribute("data-zoom-value", "100")
    page.get_by_role("button", name="Zoom in").click()
    expect(image).to_have_attribute("data-zoom-value", "150")
    page.keyboard.press("0")
    expect(image).to_have_attribute("data-zoom-value", "fit")
    checker.look("document-image")

    # a: approve; the next document is Amahle's matric certificate, a PDF in the viewer.
    page.keyboard.press("a")
    approved = "Approved: South African ID or passport of Amahle Dlamini."
    expect(page.get_by_text(approved)).to_be_visible()
    expect(heading).to_contain_text("Matric certificate")
    expect(page.locator("iframe.review-pdf")).to_be_attached()
    checker.look("document-pdf")

    # r, then a common reason picked with the arrow keys, then Enter: rejected.
    page.keyboard.press("r")
    expect(page.get_by_label("Reason for rejecting")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Rejected: Matric certificate of Amahle Dlamini.")).to_be_visible()
    expect(heading).to_contain_text("South African ID or passport")
    expect(page.get_by_text("Bongani Nkosi").first).to_be_visible()

    # n: skip Bongani's ID for now; r and a typed reason on his matric, then a on his ID.
    page.keyboard.press("n")
    expect(heading).to_contain_text("Matric certificate")
    expect(page.get_by_text("Bongani Nkosi").first).to_be_visible()
    page.keyboard.press("r")
    page.keyboard.press("Tab")
    page.keyboard.type("The page is upside down.")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Rejected: Matric certificate of Bongani Nkosi.")).to_be_visible()
    # Only the skipped one is left.
    expect(heading).to_contain_text("South African ID or passport")
    expect(page.get_by_text("Bongani Nkosi").first).to_be_visible()
    page.keyboard.press("a")
    expect(page.get_by_text("Nothing else is waiting for review.")).to_be_visible()
    expect(page.get_by_role("heading", name="Documents to review")).to_be_visible()
    expect(page.get_by_text("Nothing is waiting for review.")).to_be_visible()

    with tenant_context(institution):
        decisions = {
            v.document_id: v
            for v in DocumentVerification.objects.filter(admin=admin).select_related("admin")
        }
        assert decisions[amahle_id.pk].action == VerificationAction.APPROVED
        assert decisions[amahle_matric.pk].action == VerificationAction.REJECTED
        assert decisions[amahle_matric.pk].reason == rejection_reasons("Matric certificate")[0]
        assert decisions[bongani_matric.pk].reason == "The page is upside down."
        assert decisions[bongani_id.pk].action == VerificationAction.APPROVED
        assert all(v.metadata["seconds_spent"] is not None for v in decisions.values())
        assert StudentDocument.objects.get(pk=amahle_matric.pk).status == DocumentStatus.REJECTED

    # The enrolment's history: who decided what, and why.
    page.goto(f"{base}/review/enrolments/{amahle_id.enrollment_id}/")
    expect(heading).to_have_text("Amahle Dlamini")
    expect(page.get_by_text(rejection_reasons("Matric certificate")[0])).to_be_visible()
    checker.look("enrollment")
    page.goto(f"{base}/review/documents/{amahle_matric.pk}/")
    expect(page.get_by_text("Rejected by Ada Admin", exact=False).first).to_be_visible()
    checker.look("document-decided")

    checker.assert_clean()
