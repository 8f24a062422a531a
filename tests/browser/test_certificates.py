"""Certificates in Chromium: an admin issues a certificate and a statement of results from the
cohort's page, refuses a revocation without a reason, then revokes the statement; the wording
page refuses an unknown field; the learner downloads their certificate and transcript; the
public verify page accepts the certificate, refuses it once one byte is changed, and says the
revoked statement is revoked. Desktop and phone widths, axe-core on every page.

With SCREENSHOTS=1 the pages are saved under screenshots/ (certificates-*.png)."""

import datetime
from decimal import Decimal

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from delivery.models import Certificate, CourseEnrollmentStatus
from enrolments.models import ProgrammeOutcome
from enrolments.services import enrollment_invite
from tests.browser.support import PASSWORD, PageChecker, sign_in
from tests.factories import (
    CohortFactory,
    CourseEnrollmentFactory,
    CourseFactory,
    CourseRunFactory,
    ProgrammeFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]


@pytest.fixture
def finished_cohort(site, make_institution, make_person, unique):
    """A cohort of a two-course programme: Thandi completed it, Sipho did not yet."""
    institution = make_institution("certs")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        programme = ProgrammeFactory(name="Business Administration NQF 4", code=f"BA-{unique}")
        cohort = CohortFactory(active=True, name="Business Administration 2027")
        cohort.programme = programme
        cohort.save(update_fields=["programme"])
        runs = [
            CourseRunFactory(
                cohort=cohort,
                course=CourseFactory(programme=programme, code=code, name=name),
            )
            for code, name in (("BA401", "Business communication"), ("BA402", "Office admin"))
        ]
        learners = {}
        for full_name, outcome in (
            ("Thandi Mokoena", ProgrammeOutcome.COMPLETED),
            ("Sipho Dlamini", ProgrammeOutcome.NOT_YET_COMPETENT),
        ):
            enrollment = enrollment_invite(
                cohort=cohort,
                actor=admin,
                email=f"{full_name.split()[0].lower()}-{unique}@example.org",
                full_name=full_name,
            )
            enrollment.user.set_password(PASSWORD)
            enrollment.user.save(update_fields=["password"])
            for number, run in enumerate(runs):
                passed = outcome == ProgrammeOutcome.COMPLETED or number == 0
                CourseEnrollmentFactory(
                    enrollment=enrollment,
                    course_run=run,
                    status=CourseEnrollmentStatus.COMPLETED
                    if passed
                    else CourseEnrollmentStatus.ENROLLED,
                    score=Decimal("74") if passed else Decimal("38"),
                    grade="B" if passed else "F",
                )
            enrollment.programme_outcome = outcome
            enrollment.completion_date = datetime.date(2027, 11, 26)
            enrollment.save(update_fields=["programme_outcome", "completion_date"])
            learners[full_name] = enrollment
    return institution, admin, cohort, learners


def test_a_certificate_is_issued_downloaded_verified_and_a_tampered_copy_refused(
    page: Page, site, finished_cohort, tmp_path
):
    institution, admin, cohort, learners = finished_cohort
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "certificates", structure=True)

    sign_in(page, url("/accounts/login/"), admin.email)
    page.goto(url("/delivery/certificates/"))
    expect(page.get_by_role("heading", name="Certificates")).to_be_visible()
    checker.look("index")
    page.get_by_role("link", name="Business Administration 2027").click()
    expect(page.get_by_role("button", name="Issue 2 due")).to_be_visible()
    checker.look("cohort")

    # The first seal of a new institution makes its certificate and loads the fonts: slow.
    with page.expect_navigation(timeout=60_000):
        page.get_by_role("button", name="Issue to Thandi Mokoena").click()
    expect(page.get_by_text("Issued Certificate")).to_be_visible()
    expect(page.get_by_role("heading", name="Certificate Valid")).to_be_visible()
    checker.look("certificate")
    page.get_by_role("link", name="Business Administration 2027").click()
    with page.expect_navigation(timeout=30_000):
        page.get_by_role("button", name="Issue to Sipho Dlamini").click()
    expect(page.get_by_role("heading", name="Statement of results Valid")).to_be_visible()
    with tenant_context(institution):
        statement = Certificate.objects.get(enrollment=learners["Sipho Dlamini"])

    page.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke statement of results").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    checker.look("revoke-without-reason")
    page.get_by_label("Reason").fill("Results were recorded before moderation.")
    page.get_by_role("button", name="Revoke statement of results").click()
    expect(page.get_by_text("is revoked: the verify page now says so")).to_be_visible()
    expect(page.get_by_role("heading", name="Statement of results Revoked")).to_be_visible()
    checker.look("revoked")

    page.goto(url("/delivery/certificates/templates/"))
    checker.look("templates")
    page.get_by_role("link", name="Edit certificate").click()
    page.get_by_label("Wording").fill("{learner} completed {programme} with {nickname}.")
    page.get_by_role("button", name="Save wording").click()
    expect(page.get_by_text("Unknown field {nickname}")).to_be_visible()
    checker.look("template-refused")

    # The learner, in the portal.
    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), learners["Thandi Mokoena"].user.email)
    page.goto(url("/delivery/my/certificates/"))
    expect(page.get_by_role("heading", name="My certificates")).to_be_visible()
    checker.look("my-certificates")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download certificate").click()
    document = tmp_path / "certificate.pdf"
    download.value.save_as(document)
    with page.expect_download() as transcript:
        page.get_by_role("link", name="Download transcript").click()
    assert transcript.value.suggested_filename == "transcript.pdf"

    # Anyone, on the verify page.
    page.context.clear_cookies()
    page.goto(url("/certificates/verify/"))
    expect(page.get_by_role("heading", name="Verify a certificate")).to_be_visible()
    checker.look("verify")
    page.get_by_label("Certificate PDF").set_input_files(document)
    page.get_by_role("button", name="Check PDF").click()
    result = page.get_by_role("status")
    expect(result).to_contain_text("Valid certificate")
    expect(result).to_contain_text("Thandi Mokoena")
    expect(result).to_contain_text("Business communication")
    checker.look("verified")

    changed = bytearray(document.read_bytes())
    changed[len(changed) // 2] ^= 0x01
    tampered = tmp_path / "certificate-changed.pdf"
    tampered.write_bytes(bytes(changed))
    page.get_by_label("Certificate PDF").set_input_files(tampered)
    page.get_by_role("button", name="Check PDF").click()
    expect(page.get_by_role("alert")).to_contain_text("Not verified")
    checker.look("tampered")

    page.get_by_label("Verification code").fill(statement.verification_code.lower())
    page.get_by_role("button", name="Check code").click()
    expect(page.get_by_role("alert")).to_contain_text("Revoked")
    # A revoked one shows its kind, code and revocation date, not whose it was.
    expect(page.get_by_role("alert")).to_contain_text(statement.verification_code)
    expect(page.get_by_role("alert")).not_to_contain_text("Sipho Dlamini")
    checker.look("revoked-code")
    checker.assert_clean()
