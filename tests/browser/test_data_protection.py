"""A super admin sets the institution's retention rules (a bad value is refused with its
message), dry-runs the archive job and reads what it would archive, then runs it after
confirming: the old cohort is archived and says so on its page."""

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from cohorts.models import Cohort
from tests.browser.support import PageChecker, open_account_menu_item, sign_in
from tests.factories import CohortFactory
from tests.privacy.support import cohort_ended

pytestmark = pytest.mark.browser


def test_a_super_admin_sets_retention_and_archives_old_cohorts_after_a_dry_run(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("retention")
    super_admin = make_person(institution, SystemRole.SUPER_ADMIN, name="Sara Super")
    with tenant_context(institution):
        old = cohort_ended(CohortFactory(name="Electricians 2016"), years_ago=9)
        CohortFactory(active=True, name="Electricians now")
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "data-protection", structure=True)

    sign_in(page, url("/accounts/login/"), super_admin.email)
    open_account_menu_item(page, "Data protection")
    expect(page.get_by_role("heading", name="How long")).to_be_visible()
    checker.look("settings")

    page.get_by_label("Archive completed cohorts after (years)").fill("0")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("At least one year.")).to_be_visible()
    checker.look("settings-refused")
    page.get_by_label("Archive completed cohorts after (years)").fill("6")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("The retention settings are saved.")).to_be_visible()

    page.get_by_role("link", name="Jobs", exact=True).click()
    expect(page.get_by_text("No job has run yet.")).to_be_visible()
    checker.look("jobs-empty")
    page.get_by_role("button", name="Dry run: Archive completed cohorts").click()
    expect(page.get_by_text("A dry run: nothing was changed.")).to_be_visible()
    expect(page.get_by_role("cell", name="Cohort: Electricians 2016")).to_be_visible()
    expect(page.get_by_text("Electricians now")).to_have_count(0)
    checker.look("dry-run")

    page.get_by_role("link", name="Run now…", exact=True).click()
    expect(page.get_by_role("heading", name="Run “Archive completed cohorts” now?")).to_be_visible()
    expect(page.get_by_role("cell", name="Cohort: Electricians 2016")).to_be_visible()
    checker.look("confirm")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Run now", exact=True).click()
    expect(page.get_by_text("Done: 1 item(s) changed.")).to_be_visible()
    checker.look("run")

    with tenant_context(institution):
        assert Cohort.objects.get(pk=old.pk).archived_at is not None
    page.goto(url(f"/cohorts/{old.pk}/"))
    expect(page.get_by_text("this cohort is read-only")).to_be_visible()
    checker.look("archived-cohort")
    page.goto(url("/data-protection/jobs/"))
    expect(page.locator("tbody tr")).to_have_count(2)
    checker.look("jobs")
    checker.assert_clean()
