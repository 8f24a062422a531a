"""Cancelling a student import in Chromium: a large file whose check never starts (no worker
takes it) shows its progress with a Cancel button; the admin first thinks better of it, then
cancels, and the page says the import is over and nothing was imported."""

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from cohorts.models import StudentImport, StudentImportStatus
from enrolments.models import CohortEnrollment
from tests.browser.support import PageChecker, sign_in
from tests.factories import CohortFactory
from tests.imports.support import csv_bytes, student_row, unique_email

pytestmark = pytest.mark.browser


def test_an_admin_cancels_an_import_that_does_not_move_after_confirming(
    page: Page, site, make_institution, make_person, media, settings, unique
):
    # Every file goes to a worker, and none runs in this test: the import waits, as it would
    # with the workers down.
    settings.COHORT_IMPORT_SYNCHRONOUS_MAX_BYTES = 0
    institution = make_institution("cancel")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        cohort = CohortFactory(name=f"Cancel Learnership {unique}")
    url = lambda path="/": site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "import-cancel", structure=True)
    content = csv_bytes([student_row(email=unique_email("cancel")) for _ in range(3)])

    sign_in(page, url("/accounts/login/"), admin.email)
    page.goto(url(f"/cohorts/{cohort.pk}/import/"))
    page.get_by_label("Spreadsheet").set_input_files(
        files=[{"name": "students.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="Upload and check").click()
    expect(page.locator("#import-progress").get_by_role("status")).to_contain_text(
        "Checking the rows"
    )
    detail_url = page.url
    checker.look("waiting")

    # Second thoughts: the confirmation page changes nothing.
    page.get_by_role("link", name="Cancel import").click()
    expect(page.get_by_role("heading", name="Cancel the import of students.csv?")).to_be_visible()
    expect(page.get_by_text("The file is still being checked.")).to_be_visible()
    checker.look("confirm")
    page.get_by_role("link", name="Keep it").click()
    expect(page.locator("#import-progress").get_by_role("status")).to_contain_text(
        "Checking the rows"
    )
    assert page.url == detail_url

    page.get_by_role("link", name="Cancel import").click()
    page.get_by_role("button", name="Cancel import").click()

    expect(
        page.get_by_text("Import cancelled: nothing was imported from this file.")
    ).to_be_visible()
    expect(
        page.get_by_role("status").filter(has_text="This import was cancelled on")
    ).to_be_visible()
    expect(page.locator("#import-progress")).to_have_count(0)
    expect(page.get_by_role("link", name="Cancel import")).to_have_count(0)
    checker.look("cancelled")
    checker.assert_clean()
    with tenant_context(institution):
        student_import = StudentImport.objects.get(cohort=cohort)
        assert student_import.status == StudentImportStatus.CANCELLED
        assert not student_import.file
        assert not CohortEnrollment.objects.filter(cohort=cohort).exists()
