"""A learner (on a phone) opens an outcome's portfolio, adds a confirmed logbook entry and an
uploaded PDF, and hands it in; the assessor (on a desktop) is refused "not yet competent"
without feedback, then gives it with feedback; the learner reopens, adds evidence and hands in
again; the assessor finds them competent; the history shows both decisions."""

import datetime

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Browser, Page, expect

from accounts.models import SystemRole
from tests.browser.support import DESKTOP, PHONE, PageChecker, sign_in
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.files import PDF_BYTES
from tests.workplace.support import week_logged, workplace_world
from workplace.models import LogbookWeekStatus

pytestmark = pytest.mark.browser

MONDAY = datetime.date(2027, 3, 8)


def upload(page: Page, title: str, name: str) -> None:
    page.get_by_role("link", name="Add evidence").click()
    expect(page.get_by_role("heading", name="Add evidence")).to_be_visible()
    page.get_by_label("What it shows").fill(title)
    page.locator("#id_file").set_input_files(
        files=[{"name": name, "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text(f"{title} is added to the portfolio.")).to_be_visible()


def hand_in(page: Page, number: int) -> None:
    page.get_by_role("link", name="Hand in…").click()
    expect(page.get_by_role("heading", name="Hand in the portfolio?")).to_be_visible()
    page.get_by_role("button", name="Hand in", exact=True).click()
    expect(page.get_by_text(f"Submission {number} is handed in")).to_be_visible()


def test_a_portfolio_is_handed_in_found_not_yet_competent_and_then_competent(
    page: Page, browser: Browser, site, make_institution, make_person, ratelimit_reset, media
):
    institution = make_institution("portfolio")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        world = workplace_world(admin)
        week_logged(
            world.learner,
            MONDAY,
            status=LogbookWeekStatus.CONFIRMED,
            days=1,
            outcomes=[world.outcomes[0]],
        )
        learner, assessor = world.learner.user, world.assessor
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "workplace-portfolio", structure=True)

    # The learner, on a phone, opens the first outcome's portfolio.
    page.set_viewport_size(PHONE)
    sign_in(page, url("/accounts/login/"), learner.email, FACTORY_PASSWORD)
    page.goto(url("/workplace/portfolios/"))
    expect(page.get_by_role("heading", name="My portfolios")).to_be_visible()
    expect(page.get_by_test_id("outcome-119472")).to_contain_text("7.5 confirmed hours")
    checker.look("overview")
    page.get_by_role("button", name="Start the portfolio for 119472").click()
    expect(page.get_by_role("heading", name="119472 Accommodate audience")).to_be_visible()
    expect(page.get_by_text("No evidence yet.")).to_be_visible()

    # A confirmed logbook entry, then a PDF.
    page.get_by_role("link", name="Add evidence").click()
    checker.look("add-evidence")
    page.get_by_role("button", name="Add the entry of 8 Mar 2027").click()
    expect(page.get_by_text("is added to the portfolio.")).to_be_visible()
    upload(page, "Lesson plan", "lesson plan.pdf")
    expect(page.get_by_role("link", name="Lesson plan", exact=True)).to_be_visible()
    checker.look("evidence")
    hand_in(page, 1)
    checker.look("handed-in")

    # The assessor, on a desktop, in a session of their own.
    desk = browser.new_context(viewport=DESKTOP).new_page()
    assessor_checker = PageChecker(desk, "workplace-assessing", structure=True)
    sign_in(desk, url("/accounts/login/"), assessor.email, FACTORY_PASSWORD)
    desk.goto(url("/workplace/assessing/"))
    expect(desk.get_by_test_id("queue-row")).to_have_count(1)
    assessor_checker.look("queue")
    desk.get_by_role("link", name="Assess").first.click()
    expect(desk.get_by_role("heading", name="Assess 119472")).to_be_visible()
    desk.get_by_label("Not yet competent").check()
    desk.get_by_role("button", name="Record the decision").click()
    expect(desk.get_by_text("Say what is missing")).to_be_visible()
    assessor_checker.look("feedback-missing")
    desk.get_by_label("Feedback to the learner").fill("Add a lesson you planned and taught alone.")
    desk.get_by_role("button", name="Record the decision").click()
    expect(desk.get_by_text("assessed not yet competent")).to_be_visible()

    # The learner reopens, adds evidence and hands in again.
    page.reload()
    expect(page.get_by_test_id("feedback")).to_contain_text("planned and taught alone")
    page.get_by_role("button", name="Reopen to add evidence").click()
    expect(page.get_by_text("The portfolio is open again")).to_be_visible()
    upload(page, "Solo lesson", "solo lesson.pdf")
    hand_in(page, 2)

    # The assessor finds the learner competent.
    desk.goto(url("/workplace/assessing/"))
    expect(desk.get_by_test_id("queue-row")).to_contain_text("Resubmission 2")
    desk.get_by_role("link", name="Assess").first.click()
    desk.get_by_label("Competent", exact=True).check()
    desk.get_by_role("button", name="Record the decision").click()
    expect(desk.get_by_text("assessed competent")).to_be_visible()
    expect(desk.get_by_text("No portfolio waits for an assessor.")).to_be_visible()
    assessor_checker.look("queue-empty")

    page.reload()
    expect(page.get_by_test_id("status")).to_contain_text("Competent")
    expect(page.get_by_test_id("status")).to_contain_text("Awaiting moderation")
    history = page.get_by_test_id("history")
    expect(history.get_by_test_id("submission-1")).to_contain_text("Not yet competent")
    expect(history.get_by_test_id("submission-2")).to_contain_text("Competent")
    checker.look("history")
    checker.assert_clean()
    assessor_checker.assert_clean()
