"""An innovation project from proposal to a delayed milestone, through the real pages: a learner
drafts a proposal (saved as they type; submitting without its dates is refused) and submits
it; the admin sends it to the programme's panel; the first reviewer scores it without seeing
anyone else's scores, the second scores it and then sees both; the admin approves it; the
learner starts it, adds a mentor found by name, plans two milestones (a due date before the
project's start refused) and completes one with a PDF (refused without any evidence first),
which the timeline shows completed; the other, due yesterday, is marked delayed by the daily
run and shows Delayed on the timeline and on the admin's portfolio."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from enrolments.models import CohortEnrollment
from learners.models import Learner
from projects.models import (
    InnovationProject,
    MemberRole,
    MilestoneStatus,
    ProjectMember,
    ProjectStatus,
)
from projects.services.milestones import milestones_mark_delayed
from tenants.zones import institution_time
from tests.browser.support import PASSWORD, PageChecker, sign_in
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.files import pdf_bytes
from tests.projects.support import project_world

pytestmark = pytest.mark.browser

TITLE = "Solar kiosks for taxi ranks"


def _autosaved(page: Page, action) -> None:
    """Do `action` (typing) and wait for the autosave it sets off to answer."""
    with page.expect_response(lambda response: "/autosave/" in response.url):
        action()


def _score(page: Page, scores: list[str], comment: str) -> None:
    """Score every criterion of the score form, in order, and confirm."""
    rows = page.get_by_test_id("criterion-row")
    expect(rows).to_have_count(len(scores))
    for index, score in enumerate(scores):
        rows.nth(index).get_by_label("Score", exact=True).select_option(score)
        rows.nth(index).get_by_label("Comment", exact=True).fill(f"{comment} ({index + 1})")
    page.get_by_label("Overall comments").fill(comment)
    page.get_by_label("my scores are final once submitted").check()
    page.get_by_role("button", name="Submit my scores").click()
    expect(page.get_by_text("Your scores are in.")).to_be_visible()


def test_a_project_from_proposal_to_a_delayed_milestone(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("journey")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution), institution_time(institution):
        world = project_world(admin)
        learner = world.learner
        CohortEnrollment.objects.create(
            cohort=world.cohort, user=learner, learner=Learner.objects.get(user=learner)
        )
        today = timezone.localdate()
    first_reviewer, second_reviewer = world.reviewers
    mentor = world.organisation_member
    checker = PageChecker(page, "projects-journey", structure=True)
    url = lambda path: site.institution(institution.code, path)  # noqa: E731

    def sign_in_as(email: str, password: str = FACTORY_PASSWORD) -> None:
        page.context.clear_cookies()
        sign_in(page, url("/accounts/login/"), email, password)

    # The learner drafts the proposal; what they type is saved as they go.
    sign_in_as(learner.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My projects").click()
    expect(page.get_by_test_id("no-projects")).to_be_visible()
    checker.look("my-projects-empty")
    page.get_by_role("link", name="Propose a project").first.click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Kind").select_option("venture")
    checker.look("proposal-new")
    page.get_by_role("button", name="Start the draft").click()
    expect(page.get_by_text("Your draft is started")).to_be_visible()
    _autosaved(
        page,
        lambda: page.get_by_label("Description").fill("Phone charging where commuters wait."),
    )
    expect(page.get_by_test_id("autosave-status")).to_contain_text("Draft saved")
    _autosaved(
        page, lambda: page.get_by_label("Problem statement").fill("Commuters' phones run flat.")
    )
    _autosaved(page, lambda: page.get_by_label("Objectives").fill("Build and run two kiosks."))
    _autosaved(page, lambda: page.get_by_label("Expected outcomes").fill("Fifty charges a day."))
    checker.look("proposal-edit")

    # Without its dates it cannot be submitted; with them it can.
    page.get_by_role("button", name="Submit for review").click()
    missing = page.get_by_test_id("missing-fields")
    expect(missing).to_contain_text("Start date")
    expect(missing).to_contain_text("End date")
    checker.look("proposal-submit-missing-dates")
    missing.get_by_role("link", name="Start date").click()
    start = today - datetime.timedelta(days=7)
    _autosaved(page, lambda: page.get_by_label("Start date").fill(start.isoformat()))
    end = today + datetime.timedelta(days=90)
    _autosaved(page, lambda: page.get_by_label("End date").fill(end.isoformat()))
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("This is what the review panel")).to_be_visible()
    checker.look("proposal-submit")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Your proposal is submitted for review")).to_be_visible()
    card = page.get_by_role("region", name=TITLE)
    expect(card.get_by_text("Submitted", exact=True)).to_be_visible()
    checker.look("my-projects-submitted")
    with tenant_context(institution):
        project = InnovationProject.objects.get(title=TITLE)
    review_url = url(reverse("projects:review", args=[project.pk]))

    # The admin sends it to the programme's panel.
    sign_in_as(admin.email, PASSWORD)
    page.goto(url(reverse("projects:list")))
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    checker.look("admin-overview-submitted")
    page.get_by_test_id("project-tabs").get_by_role("link", name="Review").click()
    page.get_by_role("link", name="Send to the panel").click()
    expect(page.get_by_test_id("reviewers-to-ask")).to_contain_text("Rami Reviewer")
    expect(page.get_by_test_id("reviewers-to-ask")).to_contain_text("Sipho Scorer")
    checker.look("review-send")
    page.get_by_role("button", name="Send to the panel").click()
    expect(page.get_by_test_id("progress")).to_have_text("0 of 2 reviewers have scored")

    # The first reviewer scores it and sees only their own review.
    sign_in_as(first_reviewer.email)
    page.get_by_role("link", name="My reviews").click()
    expect(page.get_by_test_id("review-row")).to_contain_text("To score")
    checker.look("my-reviews")
    page.get_by_role("link", name=f"Score {TITLE}").click()
    expect(page.get_by_test_id("proposal")).to_contain_text("Commuters' phones run flat.")
    checker.look("score")
    _score(page, ["4", "3", "8"], "Rami: a clear need")
    expect(page.get_by_test_id("progress")).to_have_text("1 of 2 reviewers have scored")
    expect(page.get_by_test_id("review")).to_have_count(1)
    expect(page.get_by_test_id("review")).to_contain_text("Rami: a clear need")
    checker.look("review-first-scored")

    # The second, blind until then, scores it and sees both.
    sign_in_as(second_reviewer.email)
    page.goto(review_url)
    expect(page.get_by_test_id("scores-hidden")).to_be_visible()
    expect(page.get_by_text("Rami: a clear need")).to_have_count(0)
    page.get_by_role("link", name="Score this proposal").click()
    _score(page, ["2", "5", "6"], "Sipho: the costs need work")
    expect(page.get_by_test_id("review")).to_have_count(2)
    expect(page.get_by_test_id("review").filter(has_text="Rami: a clear need")).to_have_count(1)
    checker.look("review-both-scored")

    # The admin approves it.
    sign_in_as(admin.email, PASSWORD)
    page.goto(review_url)
    page.get_by_role("link", name="Decide").click()
    expect(page.get_by_test_id("scores-summary")).to_contain_text("2 of 2 reviewers have scored")
    checker.look("decide")
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text(f"{TITLE} is approved.")).to_be_visible()
    expect(page.get_by_test_id("decision")).to_contain_text("Approved by Ada Admin")
    checker.look("review-approved")

    # The learner starts it and adds a mentor found by name.
    sign_in_as(learner.email)
    page.goto(url(reverse("projects:my_projects")))
    page.get_by_role("region", name=TITLE).get_by_role("link", name=TITLE).first.click()
    checker.look("learner-project")
    page.goto(url(reverse("projects:milestones", args=[project.pk])))
    page.get_by_role("link", name="Start the project").click()
    page.get_by_role("button", name="Start the project").click()
    expect(page.get_by_text("The project is under way")).to_be_visible()
    page.get_by_test_id("project-tabs").get_by_role("link", name="Members").click()
    page.get_by_role("link", name="Add a person").click()
    page.get_by_label("Find the person").fill("Olga")
    page.get_by_label("Olga Organisation").check()
    page.get_by_label("Mentor: guides the team").check()
    checker.look("member-add-found")
    page.get_by_role("button", name="Add to the team").click()
    expect(page.get_by_text("Olga Organisation is now a mentor of the project.")).to_be_visible()
    expect(page.get_by_test_id("current-members")).to_contain_text("Olga Organisation")
    checker.look("members")

    # Two milestones; a due date before the project's start is refused.
    page.get_by_test_id("project-tabs").get_by_role("link", name="Milestones").click()
    page.get_by_role("link", name="Add a milestone").first.click()
    page.get_by_label("Title").fill("Survey commuters")
    page.get_by_label("Due date").fill((start - datetime.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Add the milestone").click()
    expect(page.get_by_text("Choose a date on or after the project's start")).to_be_visible()
    checker.look("milestone-add-refused")
    yesterday = today - datetime.timedelta(days=1)
    page.get_by_label("Due date").fill(yesterday.isoformat())
    page.get_by_role("button", name="Add the milestone").click()
    expect(page.get_by_text("The milestone Survey commuters is planned.")).to_be_visible()
    page.get_by_role("link", name="Add a milestone").first.click()
    page.get_by_label("Title").fill("Prototype built")
    page.get_by_label("Due date").fill((today + datetime.timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Add the milestone").click()
    expect(page.get_by_text("The milestone Prototype built is planned.")).to_be_visible()

    # One is completed with a PDF, after being refused without any evidence.
    page.get_by_role("link", name="Complete Prototype built").click()
    page.get_by_role("button", name="Complete the milestone").click()
    expect(page.get_by_text("Add evidence that the milestone is done")).to_be_visible()
    checker.look("milestone-complete-refused")
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": "prototype.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}]
    )
    page.get_by_label("Note", exact=True).fill("Built and tested at the Bree Street rank.")
    page.get_by_role("button", name="Complete the milestone").click()
    expect(page.get_by_text("The milestone Prototype built is completed.")).to_be_visible()
    prototype = page.get_by_test_id("milestone").filter(has_text="Prototype built")
    expect(prototype).to_contain_text("Completed")
    expect(prototype.get_by_role("link", name="prototype.pdf")).to_be_visible()

    # The daily run marks the other delayed.
    with tenant_context(institution), institution_time(institution):
        assert milestones_mark_delayed(today=timezone.localdate()) == 1
    page.reload()
    survey = page.get_by_test_id("milestone").filter(has_text="Survey commuters")
    expect(survey).to_contain_text("Delayed")
    expect(survey).to_contain_text("1 day overdue")
    checker.look("timeline")

    # The admin's portfolio shows it.
    sign_in_as(admin.email, PASSWORD)
    page.goto(url(reverse("projects:portfolio")))
    delayed = page.get_by_role("region", name="Delayed milestones").get_by_test_id("delayed-row")
    expect(delayed).to_have_count(1)
    expect(delayed).to_contain_text("Survey commuters")
    expect(delayed).to_contain_text("Thandi Nkosi")
    checker.look("portfolio")

    with tenant_context(institution):
        project.refresh_from_db()
        assert project.status == ProjectStatus.IN_PROGRESS
        assert ProjectMember.objects.filter(
            project=project, user=mentor, role=MemberRole.MENTOR, left_date__isnull=True
        ).exists()
        assert dict(project.milestones.values_list("title", "status")) == {
            "Survey commuters": MilestoneStatus.DELAYED,
            "Prototype built": MilestoneStatus.COMPLETED,
        }
    checker.assert_clean()
