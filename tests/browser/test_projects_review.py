"""A proposal through review: an admin who tries to send it before anything is set up is told
what to set up, adds a panel (refused without reviewers) and a criterion (refused under a name
already used), and sends the submitted proposal to the panel; the first reviewer scores it
(refused without the confirmation) and sees only their own review; the second, blind until
then, scores and sees both; the admin rejects it, refused without a reason, then with one."""

import pytest
from django.urls import reverse
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from projects.models import ProjectStatus, ReviewCriterion, ReviewPanel
from tests.browser.support import PASSWORD, PageChecker, sign_in
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.projects.support import project_world

pytestmark = pytest.mark.browser


def _sign_in_as(page: Page, site, institution, email: str) -> None:
    page.context.clear_cookies()
    sign_in(page, site.institution(institution.code, "/accounts/login/"), email, PASSWORD)


def _score(page: Page, score: str, comment: str) -> None:
    page.get_by_label("Score", exact=True).select_option(score)
    page.get_by_label("Comment", exact=True).fill(comment)
    page.get_by_label("Overall comments").fill(f"Overall, {comment.lower()}")


def test_a_proposal_set_up_sent_scored_blind_and_rejected(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("reviewing")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    rami = make_person(institution, SystemRole.TRAINER, name="Rami Reviewer")
    sipho = make_person(institution, SystemRole.TRAINER, name="Sipho Scorer")
    with tenant_context(institution):
        world = project_world(admin)
        # Nothing is set up yet: the admin does it through the pages.
        ReviewPanel.objects.all().delete()
        ReviewCriterion.objects.all().delete()
        project = world.project(status=ProjectStatus.SUBMITTED)
    checker = PageChecker(page, "projects-review", structure=True)
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    review_url = url(reverse("projects:review", args=[project.pk]))

    _sign_in_as(page, site, institution, admin.email)
    page.goto(review_url)
    expect(page.get_by_test_id("setup-needed")).to_contain_text(
        "No review panel covers this programme"
    )
    checker.look("tab-not-set-up")
    page.get_by_role("link", name="Set up the review panels").click()
    expect(page.get_by_role("heading", name="Review panels")).to_be_visible()
    expect(page.get_by_text("No review panels yet")).to_be_visible()
    checker.look("panels-empty")
    page.get_by_role("link", name="Add panel").click()
    page.get_by_role("button", name="Add panel").click()
    expect(page.get_by_text("Name at least one reviewer or a role")).to_be_visible()
    expect(page.get_by_label("Thandi Nkosi")).to_have_count(0)
    checker.look("panel-refused")
    page.get_by_label("Programme").select_option(label="Business Practice NQF 4")
    page.get_by_label("Rami Reviewer").check()
    page.get_by_label("Sipho Scorer").check()
    page.get_by_role("button", name="Add panel").click()
    expect(page.get_by_text("Review panel: Business Practice NQF 4 added.")).to_be_visible()
    expect(page.get_by_test_id("panel-row")).to_contain_text("Rami Reviewer, Sipho Scorer")
    checker.look("panels")

    page.get_by_role("link", name="Review criteria").click()
    expect(page.get_by_text("No criteria yet")).to_be_visible()
    checker.look("criteria-empty")
    page.get_by_role("link", name="Add criterion").click()
    page.get_by_label("Name").fill("Feasibility")
    page.get_by_label("Description").fill("Can it be built with what the team has?")
    page.get_by_label("Highest score").fill("5")
    page.get_by_role("button", name="Add criterion").click()
    expect(page.get_by_text("Feasibility added.")).to_be_visible()
    page.get_by_role("link", name="Add criterion").click()
    page.get_by_label("Name").fill("feasibility")
    page.get_by_role("button", name="Add criterion").click()
    expect(page.get_by_text("There is already a criterion called feasibility.")).to_be_visible()
    checker.look("criterion-refused")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_test_id("criterion-row")).to_have_count(1)
    checker.look("criteria")

    page.goto(review_url)
    page.get_by_role("link", name="Send to the panel").click()
    expect(page.get_by_test_id("reviewers-to-ask")).to_contain_text("Rami Reviewer")
    expect(page.get_by_test_id("reviewers-to-ask")).to_contain_text("Sipho Scorer")
    checker.look("send")
    page.get_by_role("button", name="Send to the panel").click()
    expect(
        page.get_by_text("Sent to the panel: 2 reviewers are asked to score it.")
    ).to_be_visible()
    expect(page.get_by_test_id("progress")).to_have_text("0 of 2 reviewers have scored")
    checker.look("tab-sent")

    _sign_in_as(page, site, institution, rami.email)
    page.get_by_role("link", name="My reviews").click()
    expect(page.get_by_test_id("review-row")).to_contain_text("To score")
    checker.look("my-reviews")
    page.get_by_role("link", name="Score Solar kiosks for taxi ranks").click()
    expect(page.get_by_test_id("proposal")).to_contain_text("Commuters' phones run flat.")
    checker.look("score")
    _score(page, "4", "Rami: the team can build it")
    page.get_by_role("button", name="Submit my scores").click()
    expect(page.get_by_text("Tick the box to confirm")).to_be_visible()
    checker.look("score-refused")
    page.get_by_label("my scores are final once submitted").check()
    page.get_by_role("button", name="Submit my scores").click()
    expect(page.get_by_text("Your scores are in.")).to_be_visible()
    expect(page.get_by_test_id("progress")).to_have_text("1 of 2 reviewers have scored")
    page.get_by_text("Rami Reviewer's review").click()
    expect(page.get_by_test_id("review")).to_have_count(1)
    expect(page.get_by_test_id("review")).to_contain_text("Rami: the team can build it")
    checker.look("tab-scored-first")

    _sign_in_as(page, site, institution, sipho.email)
    page.goto(review_url)
    expect(page.get_by_test_id("blind-note")).to_be_visible()
    expect(page.get_by_test_id("scores-hidden")).to_be_visible()
    expect(page.get_by_text("Rami: the team can build it")).to_have_count(0)
    checker.look("tab-blind")
    page.get_by_role("link", name="Score this proposal").click()
    _score(page, "2", "Sipho: costs are unclear")
    page.get_by_label("my scores are final once submitted").check()
    page.get_by_role("button", name="Submit my scores").click()
    expect(page.get_by_text("Your scores are in.")).to_be_visible()
    expect(page.get_by_test_id("review")).to_have_count(2)
    expect(page.get_by_test_id("means")).to_contain_text("3.0")
    checker.look("tab-both-scored")

    _sign_in_as(page, site, institution, admin.email)
    page.goto(review_url)
    page.get_by_role("link", name="Decide").click()
    expect(page.get_by_test_id("scores-summary")).to_contain_text("2 of 2 reviewers have scored")
    checker.look("decide")
    page.get_by_label("Reject").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_test_id("reason-error")).to_contain_text("Give the reason")
    checker.look("decide-refused")
    page.get_by_label("Reason").fill("Come back with a costed plan.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Solar kiosks for taxi ranks is rejected.")).to_be_visible()
    expect(page.get_by_test_id("decision")).to_contain_text("Rejected by Ada Admin")
    expect(page.get_by_test_id("decision")).to_contain_text("Come back with a costed plan.")
    checker.look("tab-decided")
    checker.assert_clean()


def test_a_learner_on_the_project_does_not_reach_its_review(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("reviewblind")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        world = project_world(admin)
        project = world.project(status=ProjectStatus.SUBMITTED)
        learner_email = world.learner.email
    checker = PageChecker(page, "projects-review-refused", structure=False)
    page.context.clear_cookies()
    sign_in(
        page,
        site.institution(institution.code, "/accounts/login/"),
        learner_email,
        FACTORY_PASSWORD,
    )
    response = page.goto(
        site.institution(institution.code, reverse("projects:review", args=[project.pk]))
    )
    assert response is not None
    assert response.status == 404
    page.goto(site.institution(institution.code, reverse("projects:my_reviews")))
    expect(page.get_by_text("No proposals to review")).to_be_visible()
    checker.look("my-reviews-empty")
    checker.assert_clean()
