"""Staff draw a moderation sample of an assessor's decisions in a course run for a registered
moderator; the moderator changes the "not yet competent" to competent (refused first without
reasons), agrees with the other sampled decision and completes the sample: every covered
result is then final, the changed one competent, and its learner is told by e-mail; staff
then read the run's portfolios, learner by outcome, from the run's page."""

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from tests.browser.support import PASSWORD, PageChecker, sign_in, wait_for_mail
from tests.workplace.moderation_support import decisions_make
from tests.workplace.support import workplace_world
from workplace.models import (
    Decision,
    ModerationSample,
    Portfolio,
    PortfolioStatus,
)
from workplace.services.moderation import moderation_policy_set

pytestmark = pytest.mark.browser


def test_staff_draw_a_sample_and_the_moderator_changes_one_decision_and_completes(
    page: Page, site, make_institution, make_person, ratelimit_reset, celery_worker
):
    institution = make_institution("moderation")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        world = workplace_world(admin, learners=2)
        decisions_make(world, world.placed, nyc=1)  # 6 decisions, learner 0's first is NYC
        moderation_policy_set(actor=admin, share_percent=1, minimum=2)
        moderator = world.moderator
        moderator.set_password(PASSWORD)
        moderator.save(update_fields=["password"])
        nyc_learner = world.placed[0].user
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "workplace-moderation", structure=True)

    sign_in(page, url("/accounts/login/"), admin.email)
    page.goto(url("/workplace/moderation/"))
    expect(page.get_by_role("heading", name="Moderation", exact=True)).to_be_visible()
    row = page.locator(f"tr[data-assessor='{world.assessor.pk}']")
    expect(row.get_by_label("Moderator for Andile Assessor's decisions")).to_be_visible()
    checker.look("overview")
    row.get_by_label("Moderator for Andile Assessor's decisions").select_option(
        label="Mpho Moderator"
    )
    row.get_by_role("button", name="Draw a sample").click()
    expect(page.get_by_text("Mpho Moderator is given 2 of 6 decisions to check")).to_be_visible()
    expect(page.get_by_text("Only Mpho Moderator records verdicts")).to_be_visible()
    checker.look("drawn-staff")

    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), moderator.email)
    page.goto(url("/workplace/moderation/"))
    expect(page.get_by_role("heading", name="Your moderation samples")).to_be_visible()
    checker.look("moderator-list")
    page.get_by_role("link", name="WP101").first.click()
    expect(page.get_by_role("heading", name="Andile Assessor's decisions")).to_be_visible()
    expect(page.get_by_role("button", name="Complete the sample…")).to_be_disabled()
    checker.look("sample")

    nyc = page.locator("section[data-item]").filter(
        has=page.locator(f"[data-decision='{Decision.NOT_YET_COMPETENT}']")
    )
    nyc.get_by_label("Change to competent").check()
    nyc.get_by_role("button", name="Record the verdict").click()
    expect(
        page.get_by_text("Give your reasons for changing the assessor's decision.")
    ).to_be_visible()
    checker.look("change-without-reasons")
    nyc = page.locator("section[data-item]").filter(
        has=page.locator(f"[data-decision='{Decision.NOT_YET_COMPETENT}']")
    )
    nyc.get_by_label("Change to competent").check()
    nyc.get_by_label("Reasons for the change").fill(
        "The observation report shows the learner planned and taught the lesson alone."
    )
    nyc.get_by_role("button", name="Record the verdict").click()
    expect(page.get_by_text("The change is recorded")).to_be_visible()
    competent = page.locator("section[data-item]").filter(
        has=page.locator(f"[data-decision='{Decision.COMPETENT}']")
    )
    competent.get_by_label("Agree: competent").check()
    competent.get_by_role("button", name="Record the verdict").click()
    expect(page.get_by_text("Your agreement is recorded.")).to_be_visible()
    expect(page.locator("section[data-verdict=pending]")).to_have_count(0)
    checker.look("moderated")

    page.get_by_role("link", name="Complete the sample…").click()
    expect(page.get_by_role("heading", name="Complete this sample?")).to_be_visible()
    checker.look("confirm")
    page.get_by_role("button", name="Complete the sample").click()
    expect(page.get_by_text("The sample is completed")).to_be_visible()
    expect(page.locator("[data-final=no]")).to_have_count(0)
    page.get_by_text("Covered, not sampled (4)").click()
    expect(page.locator("[data-final=yes]")).to_have_count(6)
    checker.look("completed")

    # Staff read the run's results per learner and outcome from the run's page.
    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), admin.email)
    page.goto(url(f"/delivery/runs/{world.run.pk}/"))
    page.get_by_role("link", name="Portfolios of evidence").click()
    expect(page.get_by_role("heading", name="Portfolios of evidence")).to_be_visible()
    expect(page.get_by_role("link", name="PDF")).to_have_count(2)
    checker.look("run-portfolios")

    checker.assert_clean()
    assert "moderation sample" in wait_for_mail(moderator.email).subject
    message = wait_for_mail(nyc_learner.email)
    assert "changed by moderation" in message.subject
    with tenant_context(institution):
        assert ModerationSample.objects.get().status == "completed"
        assert Portfolio.objects.filter(final_at__isnull=False).count() == 6
        assert Portfolio.objects.filter(status=PortfolioStatus.COMPETENT).count() == 6
