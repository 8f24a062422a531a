"""A running project's team and milestones in the browser: the leader adds a mentor found by
name, tries to leave (refused: hand over first), completes a milestone with a file and another
with a link (a link that is not a web address refused first), and a milestone missed yesterday
shows Delayed on the timeline once the daily run has marked it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from projects.models import MilestoneStatus, ProjectStatus
from projects.services.milestones import milestones_mark_delayed
from tenants.zones import institution_time
from tests.browser.support import PageChecker, sign_in
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.files import png_bytes
from tests.projects.support import project_world

pytestmark = pytest.mark.browser


def days(n: int) -> timedelta:
    return timedelta(days=n)


def test_the_leader_runs_the_team_and_the_milestones(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("projteam")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution), institution_time(institution):
        world = project_world(admin)
        today = timezone.localdate()
        project = world.project(status=ProjectStatus.IN_PROGRESS, end_date=today + days(60))
        world.milestone(project, due_date=today - days(1), title="Survey commuters")
        world.milestone(project, due_date=today + days(5), title="Prototype built")
        world.milestone(project, due_date=today + days(12), title="Pilot at two ranks")
        milestones_mark_delayed(today=today)
        leader = world.learner
    checker = PageChecker(page, "projects-team", structure=True)
    url = lambda path: site.institution(institution.code, path)  # noqa: E731

    sign_in(page, url("/accounts/login/"), leader.email, FACTORY_PASSWORD)
    page.goto(url(reverse("projects:members", args=[project.pk])))
    expect(page.get_by_role("heading", name="Team")).to_be_visible()
    checker.look("members")

    page.get_by_role("link", name="Add a person").click()
    expect(page.get_by_role("heading", name="Add a person to the team")).to_be_visible()
    checker.look("member-add")
    page.get_by_label("Find the person").fill("Rami")
    page.get_by_label("Rami Reviewer").check()
    page.get_by_label("Mentor: guides the team").check()
    checker.look("member-add-found")
    page.get_by_role("button", name="Add to the team").click()
    expect(page.get_by_text("Rami Reviewer is now a mentor of the project.")).to_be_visible()
    expect(page.get_by_test_id("current-members")).to_contain_text("Rami Reviewer")

    page.get_by_role("link", name="Leave the project").click()
    expect(page.get_by_test_id("refusal")).to_contain_text("The leader cannot leave the project")
    checker.look("leader-leave-refused")

    page.get_by_role("link", name="Milestones", exact=True).click()
    survey = page.get_by_test_id("milestone").filter(has_text="Survey commuters")
    expect(survey).to_contain_text("Delayed")
    expect(survey).to_contain_text("1 day overdue")
    expect(page.get_by_test_id("today-marker")).to_be_visible()
    checker.look("timeline")

    page.get_by_role("link", name="Complete Prototype built").click()
    expect(page.get_by_role("heading", name="Complete “Prototype built”")).to_be_visible()
    checker.look("complete")
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "prototype.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    page.get_by_label("Note", exact=True).fill("Built and tested at the Bree Street rank.")
    page.get_by_role("button", name="Complete the milestone").click()
    expect(page.get_by_text("The milestone Prototype built is completed.")).to_be_visible()
    prototype = page.get_by_test_id("milestone").filter(has_text="Prototype built")
    expect(prototype).to_contain_text("Completed")
    expect(prototype.get_by_role("link", name="prototype.png")).to_be_visible()

    page.get_by_role("link", name="Complete Pilot at two ranks").click()
    page.get_by_label("Link", exact=True).fill("javascript:alert(1)")
    page.get_by_role("button", name="Complete the milestone").click()
    expect(
        page.get_by_text("Give a web address starting with http:// or https://.")
    ).to_be_visible()
    checker.look("complete-bad-link")
    page.get_by_label("Link", exact=True).fill("https://example.org/pilot-report")
    page.get_by_role("button", name="Complete the milestone").click()
    expect(page.get_by_text("The milestone Pilot at two ranks is completed.")).to_be_visible()
    pilot = page.get_by_test_id("milestone").filter(has_text="Pilot at two ranks")
    expect(pilot.get_by_role("link", name="https://example.org/pilot-report")).to_be_visible()
    survey = page.get_by_test_id("milestone").filter(has_text="Survey commuters")
    expect(survey).to_contain_text("Delayed")
    checker.look("timeline-after")

    page.get_by_role("link", name="Complete the project").click()
    expect(page.get_by_text("Complete every milestone first")).to_contain_text("Survey commuters")
    checker.look("project-complete-refused")
    with tenant_context(institution):
        assert project.milestones.filter(status=MilestoneStatus.COMPLETED).count() == 2
    checker.assert_clean()


def test_planning_a_milestone_outside_the_projects_dates_is_refused(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("projplan")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution), institution_time(institution):
        world = project_world(admin)
        today = timezone.localdate()
        project = world.project(
            status=ProjectStatus.APPROVED,
            start_date=today,
            end_date=today + days(30),
        )
    checker = PageChecker(page, "projects-plan", structure=True)
    url = lambda path: site.institution(institution.code, path)  # noqa: E731

    sign_in(page, url("/accounts/login/"), world.learner.email, FACTORY_PASSWORD)
    page.goto(url(reverse("projects:milestones", args=[project.pk])))
    expect(page.get_by_test_id("empty")).to_contain_text("No milestones yet")
    checker.look("empty-timeline")
    page.get_by_role("link", name="Add a milestone").first.click()
    page.get_by_label("Title").fill("Business plan")
    late = today + days(45)
    page.get_by_label("Due date").fill(late.isoformat())
    page.get_by_role("button", name="Add the milestone").click()
    expect(page.get_by_text("Choose a date on or before the project's end")).to_be_visible()
    checker.look("milestone-add-refused")
    page.get_by_label("Due date").fill((today + days(20)).isoformat())
    page.get_by_role("button", name="Add the milestone").click()
    expect(page.get_by_text("The milestone Business plan is planned.")).to_be_visible()

    page.get_by_role("link", name="Start the project").click()
    expect(page.get_by_role("heading", name="Start the project?")).to_be_visible()
    checker.look("project-start")
    page.get_by_role("button", name="Start the project").click()
    expect(page.get_by_text("The project is under way")).to_be_visible()
    expect(page.get_by_role("link", name="Complete Business plan")).to_be_visible()
    checker.assert_clean()
