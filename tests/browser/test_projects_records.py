"""Innovation projects in reports and on the cohort page: an admin runs the innovation
projects report (a status with no projects first, then every project) and sees the project's
row with its leader and panel mean; the delayed milestones report lists the late milestone;
the cohort page shows the projects panel with the delayed milestone. Desktop and phone widths,
axe-core on every page."""

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from projects.models import MilestoneStatus, ProjectStatus, ProjectStatusChange
from tests.browser.support import PageChecker, sign_in
from tests.projects.support import project_world

pytestmark = pytest.mark.browser


def test_an_admin_reports_on_projects_and_sees_them_on_the_cohort_page(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("projrec")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        world = project_world(admin)
        project = world.project(status=ProjectStatus.IN_PROGRESS, round=1)
        ProjectStatusChange.objects.create(
            project=project,
            round=1,
            from_status=ProjectStatus.IN_REVIEW,
            to_status=ProjectStatus.APPROVED,
            panel_scores={"criteria": {"Impact": {"mean": 4, "count": 2}}},
        )
        world.milestone(
            project,
            title="Prototype built",
            due_date=timezone.localdate() - datetime.timedelta(days=6),
            status=MilestoneStatus.DELAYED,
        )
        cohort = world.cohort
    checker = PageChecker(page, "projects-records", structure=True)
    url = lambda path: site.institution(institution.code, path)  # noqa: E731

    sign_in(page, url("/accounts/login/"), admin.email)
    page.goto(url("/reports/"))
    page.get_by_role("link", name="Innovation projects", exact=True).click()
    expect(page.get_by_role("heading", name="Innovation projects", exact=True)).to_be_visible()
    checker.look("report")

    page.get_by_role("combobox", name="Status").select_option(ProjectStatus.COMPLETED)
    page.get_by_role("button", name="Show on this page").click()
    expect(page.get_by_text("No rows for these parameters.")).to_be_visible()
    checker.look("report-nothing-completed")

    page.get_by_role("combobox", name="Status").select_option("")
    page.get_by_role("button", name="Show on this page").click()
    preview = page.get_by_role("table", name="Innovation projects")
    row = preview.get_by_role("row").filter(has_text="Solar kiosks for taxi ranks")
    expect(row).to_contain_text("Thandi Nkosi")
    expect(row).to_contain_text("In progress")
    expect(row).to_contain_text("4.00")
    checker.look("report-preview")

    page.goto(url("/reports/"))
    page.get_by_role("link", name="Delayed milestones", exact=True).click()
    expect(page.get_by_role("heading", name="Delayed milestones", exact=True)).to_be_visible()
    page.get_by_role("button", name="Show on this page").click()
    late = page.get_by_role("table", name="Delayed milestones").get_by_role("row")
    expect(late.filter(has_text="Prototype built")).to_contain_text("6")
    checker.look("delayed-preview")

    page.goto(url(f"/cohorts/{cohort.pk}/"))
    panel = page.locator('[data-panel="projects"]')
    expect(panel.get_by_role("heading", name="Innovation projects")).to_be_visible()
    expect(panel.get_by_text("Prototype built")).to_be_visible()
    expect(panel.get_by_text("6 days late")).to_be_visible()
    checker.look("cohort-panel")
    checker.assert_clean()
