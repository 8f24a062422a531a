"""Staff follow projects: an admin filters and searches the projects list (a search that finds
nothing says so), opens a project's overview and its activity, and the portfolio with a
delayed milestone; a learner who opens another learner's project gets the not-found page."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from projects.models import MemberRole, MilestoneStatus, ProjectMember, ProjectStatus
from tests.browser.support import PASSWORD, PageChecker, sign_in
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.projects.support import learner_user, project_world

pytestmark = pytest.mark.browser


def test_an_admin_follows_projects_and_a_learner_cannot_open_anothers(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("projects")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    today = timezone.localdate()
    with tenant_context(institution):
        world = project_world(admin)
        kiosks = world.project(
            title="Solar kiosks for taxi ranks",
            status=ProjectStatus.IN_PROGRESS,
            start_date=today - datetime.timedelta(days=60),
            end_date=today + datetime.timedelta(days=20),
            objectives="Build two kiosks.\nRun them for a term.",
        )
        ProjectMember.objects.create(
            project=kiosks,
            user=world.organisation_member,
            role=MemberRole.MENTOR,
            joined_date=today - datetime.timedelta(days=30),
        )
        world.milestone(
            kiosks,
            title="Prototype built",
            due_date=today - datetime.timedelta(days=20),
            completed_date=today - datetime.timedelta(days=21),
            status=MilestoneStatus.COMPLETED,
        )
        world.milestone(
            kiosks,
            title="First hundred charges",
            due_date=today - datetime.timedelta(days=4),
            status=MilestoneStatus.DELAYED,
        )
        world.project(
            title="Water tanks for crèches",
            status=ProjectStatus.SUBMITTED,
            leader=world.other_learner,
        )
        world.project(title="Recycling at the depot", leader=learner_user(full_name="Lwazi Dube"))
    checker = PageChecker(page, "projects-pages", structure=True)
    url = lambda path: site.institution(institution.code, path)  # noqa: E731

    sign_in(page, url("/accounts/login/"), admin.email, PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Projects").click()
    page.get_by_role("link", name="All projects").click()
    expect(page.get_by_role("heading", name="Innovation projects")).to_be_visible()
    expect(page.get_by_test_id("project-row")).to_have_count(3)
    checker.look("list")

    page.get_by_label("Status").select_option("submitted")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("project-row")).to_have_count(1)
    expect(page.get_by_role("link", name="Water tanks for crèches")).to_be_visible()

    page.get_by_label("Status").select_option("")
    page.get_by_label("Search").fill("lwazi")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_test_id("project-row")).to_have_count(1)
    expect(page.get_by_role("link", name="Recycling at the depot")).to_be_visible()

    page.get_by_label("Search").fill("nothing like this")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No project matches these filters.")).to_be_visible()
    checker.look("list-nothing-matches")

    page.get_by_label("Search").fill("kiosk")
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_test_id("project-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("1 of 2 completed")
    expect(row).to_contain_text("1 delayed")
    row.get_by_role("link", name="Solar kiosks for taxi ranks").click()
    expect(page.get_by_role("heading", name="Solar kiosks for taxi ranks")).to_be_visible()
    expect(page.get_by_test_id("team-summary")).to_contain_text("Olga Organisation")
    expect(page.get_by_test_id("milestone-summary")).to_contain_text("1 of 2")
    checker.look("overview")

    page.get_by_test_id("project-tabs").get_by_role("link", name="Activity").click()
    activity = page.get_by_test_id("activity")
    expect(activity).to_contain_text("Milestone missed its due date: First hundred charges")
    expect(activity).to_contain_text("Milestone completed: Prototype built")
    expect(activity).to_contain_text("Olga Organisation joined as mentor")
    checker.look("activity")

    page.goto(url(reverse("projects:portfolio")))
    expect(page.get_by_role("heading", name="Projects portfolio")).to_be_visible()
    delayed = page.get_by_test_id("delayed-row")
    expect(delayed).to_have_count(1)
    expect(delayed).to_contain_text("First hundred charges")
    expect(delayed).to_contain_text("Thandi Nkosi")
    expect(page.get_by_test_id("ending-soon")).to_contain_text("Solar kiosks for taxi ranks")
    checker.look("portfolio")

    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), world.other_learner.email, FACTORY_PASSWORD)
    response = page.goto(url(reverse("projects:project", args=[kiosks.pk])))
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_text("Solar kiosks for taxi ranks")).to_have_count(0)
    checker.look("another-learners-project")
    checker.assert_clean()
