"""A student of a completed cohort sees it closed, in Chromium: her list of enrolments marks a
completed and a cancelled cohort; the completed one says so, shows her details, her verified
documents and her sealed agreement (which she downloads) and offers no button; the cancelled
one shows the document she had uploaded, never reviewed, and the one she had not.

The data is committed in an institution of the test's own. With SCREENSHOTS=1 every page is
saved under screenshots/ at desktop and phone widths:
`SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_closed_cohort.py -p no:xdist`.
"""

import threading
from pathlib import Path

import pytest
from django.db import connections
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole, User
from cohorts.models import DocumentType
from cohorts.services import cohort_cancel, cohort_complete
from enrolments.agreements import enrollment_agreement_start
from enrolments.models import CohortEnrollment, EnrollmentState
from enrolments.services import enrollment_details_save, enrollment_invite
from learners.forms import LearnerDetailsForm
from signing.selectors import link_for_token
from signing.services.completion import submitter_sign
from tests.browser.support import PASSWORD, PageChecker, sign_in
from tests.enrolments.conftest import upload_document
from tests.factories import CohortFactory
from tests.learners.support import unused_sa_id_number
from tests.signing.conftest import others_sign, token_from
from verification.services import document_review

pytestmark = pytest.mark.browser

FINISHED = "Electrical Engineering Learnership 2026"
STOPPED = "Solar Installation Learnership 2026"

DETAILS = {
    "date_of_birth": "",
    "gender": "",
    "race": "african",
    "disability": "none",
    "city": "Soweto",
    "home_language": "isizulu",
    "highest_qualification": "matric",
}


def _sign_in_a_thread_of_its_own(institution, enrollment: CohortEnrollment) -> None:
    """The student signs her agreement as the signing page would record it. Sealing runs an
    event loop of its own, which Playwright's, running in the test's thread, would refuse."""
    failures: list[BaseException] = []

    def sign() -> None:
        try:
            with tenant_context(institution):
                url = enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)
                link = link_for_token(token_from(url))
                submitter_sign(
                    link=link,
                    signed_name="Thandi Mokoena",
                    consent=True,
                    signature_text="Thandi Mokoena",
                )
                others_sign(link.submitter.submission)  # the institution countersigns
        except BaseException as error:  # reported in the test's thread
            failures.append(error)
        finally:
            connections.close_all()

    worker = threading.Thread(target=sign)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "signing did not finish"
    if failures:
        raise failures[0]


@pytest.fixture
def thandi(site, make_institution, media):
    """Thandi finished her part of a cohort, which was then completed (her agreement sealed, her
    documents verified), and had uploaded her ID in another, which was cancelled."""
    institution = make_institution("closed")
    with tenant_context(institution):
        admin = User.objects.create_user(
            email=f"admin@{institution.code}.example",
            password=PASSWORD,
            full_name="Ada Admin",
            roles=[SystemRole.ADMIN],
        )
        id_type = DocumentType.objects.get(name="South African ID or passport")
        matric = DocumentType.objects.get(name="Matric certificate")
        finished = CohortFactory(
            active=True,
            name=FINISHED,
            required_document_types=[id_type, matric],
        )
        enrollment = enrollment_invite(
            cohort=finished,
            actor=admin,
            email=f"thandi@{institution.code}.example",
            full_name="Thandi Mokoena",
        )
        student = enrollment.user
        student.set_password(PASSWORD)
        student.save(update_fields=["password"])
        form = LearnerDetailsForm({**DETAILS, "id_number": unused_sa_id_number()})
        assert form.is_valid(), form.errors
        enrollment_details_save(enrollment=enrollment, actor=student, details=form.details())
        for document_type, name in [(id_type, "thandi-id.pdf"), (matric, "matric.pdf")]:
            document = upload_document(enrollment, document_type, name=name)
            document_review(document=document, reviewer=admin, approve=True)
    _sign_in_a_thread_of_its_own(institution, enrollment)
    with tenant_context(institution):
        enrollment.refresh_from_db()
        assert enrollment.state == EnrollmentState.COMPLETE
        cohort_complete(cohort=finished, actor=admin)

        # It asks for an ID uploaded for it (her verified one would count otherwise) and for
        # a document the first did not ask for.
        stopped = CohortFactory(
            active=True,
            name=STOPPED,
            required_document_types=[
                id_type,
                DocumentType.objects.get(name="Highest qualification"),
            ],
        )
        stopped.fresh_document_types.set([id_type])
        other = enrollment_invite(
            cohort=stopped, actor=admin, email=student.email, full_name="Thandi Mokoena"
        )
        upload_document(other, id_type, name="thandi-id.pdf")
        cohort_cancel(cohort=stopped, actor=admin, reason="The sponsor withdrew its funding.")
    return institution, student, enrollment, other


def test_a_student_of_a_completed_cohort_sees_it_closed(page: Page, site, thandi):
    institution, student, finished, stopped = thandi
    base = site.institution(institution.code)
    checker = PageChecker(page, "closed-cohort", structure=True)

    sign_in(page, site.institution(institution.code, "/accounts/login/?next=/my/"), student.email)

    # Her enrolments: both cohorts, each marked closed.
    expect(page.get_by_role("heading", name="My enrolments")).to_be_visible()
    completed_card = page.get_by_role("listitem").filter(has_text=FINISHED)
    expect(completed_card.get_by_text("Cohort completed")).to_be_visible()
    cancelled_card = page.get_by_role("listitem").filter(has_text=STOPPED)
    expect(cancelled_card.get_by_text("Cohort cancelled")).to_be_visible()
    checker.look("my-enrolments")

    # The completed cohort: closed, with what she has and nothing to press but downloads.
    page.get_by_role("link", name=FINISHED).click()
    expect(page).to_have_url(f"{base.rstrip('/')}/my/{finished.pk}/")
    closed = page.locator("#cohort-closed")
    expect(closed.get_by_role("heading", name="This cohort is completed")).to_be_visible()
    expect(closed).to_contain_text("nothing more can be uploaded, changed or signed here")
    expect(closed).to_contain_text("Your enrolment was complete.")
    expect(closed).to_contain_text(
        "your details, the documents you uploaded and your signed agreement"
    )
    expect(page.get_by_text("Soweto")).to_be_visible()
    expect(page.get_by_role("link", name="thandi-id.pdf")).to_be_visible()
    expect(page.get_by_role("link", name="matric.pdf")).to_be_visible()
    expect(page.get_by_text("Verified", exact=True)).to_have_count(2)
    expect(page.locator("input[type=file]")).to_have_count(0)
    expect(page.get_by_text("up to 10 MB")).to_have_count(0)  # what an upload may be: moot
    expect(page.get_by_role("link", name="Change your details")).to_have_count(0)
    expect(page.locator("main form")).to_have_count(0)
    checker.look("completed")

    with page.expect_download() as download:
        closed.get_by_role("link", name="Download your signed agreement (PDF)").click()
    assert download.value.suggested_filename == "signed-agreement.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")

    page.get_by_role("link", name="Read the agreement").click()
    expect(
        page.get_by_text("Signed by every party. You signed as “Thandi Mokoena”")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Download the signed agreement (PDF)")).to_be_visible()
    expect(page.get_by_role("button", name="Sign the agreement")).to_have_count(0)
    checker.look("completed-agreement")

    # The cancelled cohort: the ID she sent, never reviewed; the certificate she never sent.
    page.goto(f"{base.rstrip('/')}/my/{stopped.pk}/")
    closed = page.locator("#cohort-closed")
    expect(closed.get_by_role("heading", name="This cohort is cancelled")).to_be_visible()
    expect(closed).to_contain_text(
        "What you gave is kept here for you to see: your details and the documents"
    )
    expect(page.get_by_text("Not reviewed", exact=True)).to_be_visible()
    expect(page.get_by_text("Not uploaded before the cohort closed.")).to_be_visible()
    expect(page.get_by_text("Not signed before the cohort closed.")).to_be_visible()
    expect(page.locator("input[type=file]")).to_have_count(0)
    expect(page.get_by_role("link", name="Fill in your details")).to_have_count(0)
    expect(page.get_by_role("link", name="Read and sign")).to_have_count(0)
    checker.look("cancelled")
    checker.assert_clean()
