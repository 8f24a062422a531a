"""A returning student, in Chromium: Thandi completed a cohort (her details given, her ID and
matric certificate verified, her agreement sealed) and is enrolled in another, which also asks
for her highest qualification. Her details and her verified documents are already there, said
to be used again; only the qualification is asked for, and she uploads it.

The data is committed in an institution of the test's own. With SCREENSHOTS=1 every page is
saved under screenshots/ at desktop and phone widths:
`SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_returning_learner.py -p no:xdist`.
"""

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole, User
from cohorts.models import DocumentType
from cohorts.services import cohort_complete
from enrolments.models import EnrollmentState
from enrolments.services import enrollment_details_save, enrollment_invite
from learners.forms import LearnerDetailsForm
from tests.browser.support import PASSWORD, PageChecker, sign_in
from tests.browser.test_closed_cohort import DETAILS, _sign_in_a_thread_of_its_own
from tests.enrolments.conftest import upload_document
from tests.factories import CohortFactory
from tests.files import PDF_BYTES
from tests.learners.support import unused_sa_id_number
from verification.services import document_review

pytestmark = pytest.mark.browser

FINISHED = "Electrical Engineering Learnership 2026"
NEXT = "Electrical Engineering Advanced 2027"


@pytest.fixture
def thandi(site, make_institution, media):
    """Thandi, whose first cohort is completed, enrolled in the next one."""
    institution = make_institution("returning")
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
            active=True, name=FINISHED, required_document_types=[id_type, matric]
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
        qualification = DocumentType.objects.get(name="Highest qualification")
        following = CohortFactory(
            active=True, name=NEXT, required_document_types=[id_type, matric, qualification]
        )
        returning = enrollment_invite(
            cohort=following, actor=admin, email=student.email, full_name="Thandi Mokoena"
        )
    return institution, student, returning, qualification


def test_a_returning_student_finds_her_details_and_verified_documents(
    page: Page, site, thandi, tmp_path
):
    institution, student, returning, qualification = thandi
    checker = PageChecker(page, "returning-learner", structure=True)

    sign_in(page, site.institution(institution.code, "/accounts/login/?next=/my/"), student.email)
    expect(page.get_by_role("heading", name="My enrolments")).to_be_visible()
    checker.look("my-enrolments")

    page.get_by_role("link", name=NEXT).click()
    expect(page.get_by_role("heading", name=NEXT)).to_be_visible()
    # Her details, given for the first cohort.
    expect(page.get_by_text("Soweto")).to_be_visible()
    expect(page.get_by_role("link", name="Fill in your details")).to_have_count(0)
    # Her ID and matric, verified in the first cohort, used again: nothing to upload for them.
    for name, file in [
        ("South African ID or passport", "thandi-id.pdf"),
        ("Matric certificate", "matric.pdf"),
    ]:
        step = page.locator("li.portal-step").filter(has=page.get_by_role("heading", name=name))
        expect(step.get_by_text(f"Verified in {FINISHED}, used again.")).to_be_visible()
        expect(step.get_by_role("link", name=file)).to_be_visible()
        expect(step.locator("input[type=file]")).to_have_count(0)
    # Only the new document type is asked for.
    expect(page.locator("input[type=file]")).to_have_count(1)
    step = page.locator(f"#document-{qualification.pk}")
    expect(step.get_by_text("Not uploaded")).to_be_visible()
    checker.look("next-cohort")

    certificate = tmp_path / "diploma.pdf"
    certificate.write_bytes(PDF_BYTES)
    step.locator("input[type=file]").set_input_files(certificate)
    step.get_by_role("button", name="Upload").click()
    step = page.locator(f"#document-{qualification.pk}")
    expect(step.get_by_text("Uploaded. It is now waiting for review.")).to_be_visible()
    expect(step.get_by_role("link", name="diploma.pdf")).to_be_visible()
    checker.look("uploaded")
    checker.assert_clean()

    with tenant_context(institution):
        assert list(returning.documents.values_list("document_type", flat=True)) == [
            qualification.pk
        ]
