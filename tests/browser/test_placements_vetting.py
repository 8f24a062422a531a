"""An admin vets a learner: opens a police clearance check, has a file that is not a PDF refused,
uploads the certificate, clears the check with an expiry date; opens an identity check and fails
it with a reason (refused first without one). The learner then reads their vetting in the
portal."""

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from placements.models import ProgrammeVettingRequirement, VettingRecord, VettingType
from tests.browser.support import PageChecker, sign_in
from tests.delivery.runs_support import enrol
from tests.factories import PASSWORD, CohortFactory, ProgrammeFactory
from tests.files import PDF_BYTES
from tests.uploads.hostile import HTML_PAGE

pytestmark = pytest.mark.browser


def test_an_admin_clears_one_check_with_evidence_and_fails_another(
    page: Page, site, make_institution, make_person, ratelimit_reset, media
):
    institution = make_institution("vetting")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        programme = ProgrammeFactory(name="Teaching Internship")
        for code in ("identity", "police_clearance"):
            ProgrammeVettingRequirement.objects.create(
                programme=programme, vetting_type=VettingType.objects.get(code=code)
            )
        cohort = CohortFactory(active=True, programme=programme)
        enrollment = enrol(admin, cohort, full_name="Thandi Mokoena")
        learner, student = enrollment.learner, enrollment.user
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "vetting", structure=True)

    sign_in(page, url("/accounts/login/"), admin.email)
    page.goto(url(f"/placements/learners/{learner.pk}/vetting/"))
    expect(page.get_by_role("heading", name="Thandi Mokoena's vetting")).to_be_visible()
    checker.look("learner-empty")

    # Open a police clearance check.
    page.get_by_label("Type").select_option(label="Police clearance")
    page.get_by_label("Reference").fill("SAPS-2027-0042")
    page.get_by_role("button", name="Open the check").click()
    expect(page.get_by_role("heading", name="Police clearance for Thandi Mokoena")).to_be_visible()
    clear = page.get_by_role("button", name="Clear…")
    expect(clear).to_be_disabled()
    expect(page.get_by_text("Clearing needs at least one evidence file")).to_be_visible()
    checker.look("opened")

    # A web page named .pdf is refused, and nothing is listed.
    evidence = page.get_by_label("Evidence file")
    evidence.set_input_files(
        files=[{"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": HTML_PAGE}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-errors")).to_contain_text("This file is not a PDF")
    expect(page.get_by_text("No evidence yet.")).to_be_visible()
    checker.look("refused-file")

    # The certificate is uploaded; now the check can be cleared.
    page.get_by_label("Evidence file").set_input_files(
        files=[{"name": "SAPS certificate.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("SAPS certificate.pdf is uploaded.")).to_be_visible()
    expect(page.get_by_role("link", name="SAPS certificate.pdf")).to_be_visible()
    checker.look("evidence")

    page.get_by_role("link", name="Clear…").click()
    expect(
        page.get_by_role("heading", name="Clear Thandi Mokoena's police clearance check?")
    ).to_be_visible()
    offered = timezone.localdate() + datetime.timedelta(days=180)
    expires = page.get_by_label("Expires on")
    expect(expires).to_have_value(offered.isoformat())
    expires.fill("2020-01-01")
    page.get_by_role("button", name="Clear the check").click()
    expect(page.get_by_text("This date has passed")).to_be_visible()
    checker.look("clear-past-date")
    page.get_by_label("Expires on").fill(offered.isoformat())
    page.get_by_label("Notes").fill("Certificate seen; no record.")
    page.get_by_role("button", name="Clear the check").click()
    expect(page.get_by_text("Thandi Mokoena's Police clearance is cleared.")).to_be_visible()
    expect(page.locator("[data-status=cleared]").first).to_be_visible()
    checker.look("cleared")

    # An identity check, failed: first without a reason, then with one.
    page.get_by_role("link", name="Thandi Mokoena").click()
    page.get_by_label("Type").select_option(label="Identity")
    page.get_by_role("button", name="Open the check").click()
    page.get_by_role("link", name="Fail…").click()
    expect(
        page.get_by_role("heading", name="Fail Thandi Mokoena's identity check?")
    ).to_be_visible()
    page.get_by_role("button", name="Fail the check").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    checker.look("fail-without-reason")
    page.get_by_label("Reason").fill("The ID document does not match the person.")
    page.get_by_role("button", name="Fail the check").click()
    expect(page.get_by_text("The check is recorded as failed.")).to_be_visible()
    expect(page.get_by_test_id("reason")).to_have_text("The ID document does not match the person.")
    checker.look("failed")

    page.get_by_role("link", name="Thandi Mokoena").click()
    expect(page.locator("[data-requirement=police_clearance]")).to_have_attribute(
        "data-state", "cleared"
    )
    expect(page.locator("[data-requirement=identity]")).to_have_attribute("data-state", "missing")
    checker.look("learner-after")

    page.goto(url("/placements/vetting/"))
    expect(page.get_by_role("heading", name="Vetting", exact=True)).to_be_visible()
    checker.look("list")
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    page.get_by_label("Search learners").fill("nobody at all")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No vetting record matches these filters.")).to_be_visible()
    checker.look("list-empty")

    page.goto(url("/placements/vetting/types/"))
    expect(page.get_by_role("heading", name="Vetting types")).to_be_visible()
    checker.look("types")
    page.get_by_role("link", name="Change what Teaching Internship requires").click()
    expect(page.get_by_label("Medical")).to_be_visible()
    checker.look("programme")

    with tenant_context(institution):
        assert VettingRecord.objects.filter(learner=learner).count() == 2

    # The learner reads their own vetting in the portal.
    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), student.email, PASSWORD)
    page.goto(url("/placements/my/vetting/"))
    expect(page.get_by_role("heading", name="My vetting")).to_be_visible()
    expect(page.get_by_text("The ID document does not match the person.")).to_be_visible()
    expect(page.get_by_role("link", name="SAPS certificate.pdf")).to_have_count(0)
    checker.look("my-vetting")
    page.get_by_role("link", name="See my placements").click()
    expect(page).to_have_url(url("/placements/my/placements/"))
    checker.assert_clean()
