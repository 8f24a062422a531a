"""Workplace learning from end to end, in Chromium, each person signing in in turn and finding
their pages from the navigation bar: the learner logs last week's five days on a phone (an hours
typo refused first) and hands the week in; the mentor, at a desktop, is refused a return without
a comment, then confirms the week; the learner, on the phone, builds the portfolio of an outcome
from the confirmed days (handing in nothing is not offered) and hands it in; the assessor is
refused "not yet competent" without feedback, then finds the learner competent; staff draw the
moderation sample for the moderator (not without choosing one); the moderator is refused a
change without reasons, agrees and completes the sample; the learner, on the phone, sees the
result final and downloads the sealed portfolio PDF.

The setup is rows (tests.workplace.support): the institution, the programme's course with three
outcomes and its run, the learner's active placement whose dates include today mentored by an
organisation member, the registered assessor and moderator, and an admin. Desktop and phone
widths, axe-core on every page. With SCREENSHOTS=1 the pages are saved under screenshots/
(workplace-journey-*.png)."""

import datetime
import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from delivery.models import CourseRun
from placements.models import Placement
from signing.models import InstitutionCertificate
from signing.sealing import pdf_seal_check
from tests.browser.support import DESKTOP, PHONE, PageChecker, sign_in
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.workplace.support import workplace_world
from tests.workplace.test_export import pages_text
from workplace.models import (
    Decision,
    LogbookWeek,
    LogbookWeekStatus,
    ModerationSample,
    Portfolio,
    PortfolioExport,
    PortfolioStatus,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]


def day_name(day: datetime.date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def navigate(page: Page, name: str, *, menu: str | None = None) -> None:
    """Follow a link of the navigation bar (opening it first on a phone, and the dropdown
    `menu` when the link is in one)."""
    bar = page.get_by_role("navigation", name="Main")
    toggler = bar.get_by_role("button", name="Menu")
    if toggler.is_visible():
        toggler.click()
    if menu is not None:
        bar.get_by_role("button", name=menu).click()
    bar.get_by_role("link", name=name, exact=True).click()


def sign_out(page: Page) -> None:
    """Sign out through the account menu, as a person leaving the shared computer would."""
    bar = page.get_by_role("navigation", name="Main")
    toggler = bar.get_by_role("button", name="Menu")
    if toggler.is_visible():
        toggler.click()
    page.get_by_test_id("account-menu").click()
    bar.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_a_week_logged_on_a_phone_becomes_a_moderated_competent_portfolio_in_a_sealed_pdf(
    page: Page, site, make_institution, make_person, media
):
    institution = make_institution("journey")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    today = timezone.localdate()
    this_monday = today - datetime.timedelta(days=today.weekday())
    monday = this_monday - datetime.timedelta(days=7)
    with tenant_context(institution):
        world = workplace_world(admin)
        placed = world.learner
        # The placement runs now: it started the week before last and ends in two months.
        Placement.objects.filter(pk=placed.placement.pk).update(
            starts_on=monday - datetime.timedelta(days=7),
            ends_on=today + datetime.timedelta(days=60),
        )
        CourseRun.objects.filter(pk=world.run.pk).update(
            start_date=monday - datetime.timedelta(days=14),
            end_date=today + datetime.timedelta(days=90),
        )
        learner_email, learner_name = placed.user.email, placed.learner.full_name
        mentor_email = world.mentor.email
        assessor_email, moderator_email = world.assessor.email, world.moderator.email
        first, second, third = world.outcomes
        course_enrollment_pk = placed.course_enrollment.pk
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    login = url("/accounts/login/")
    checker = PageChecker(page, "workplace-journey", structure=True)

    def on_phone(name: str) -> None:
        checker.look(name)
        page.set_viewport_size(PHONE)

    # 1. The learner, on a phone, logs last week's five days and hands the week in.
    page.set_viewport_size(PHONE)
    sign_in(page, login, learner_email, FACTORY_PASSWORD)
    navigate(page, "My logbook")
    expect(page.get_by_role("heading", name="My logbooks")).to_be_visible()
    on_phone("learner-my-logbooks")
    page.get_by_role("link", name="Open the logbook").click()
    expect(page.get_by_role("heading", name="My logbook")).to_be_visible()
    expect(page.get_by_text("Nothing logged yet.")).to_be_visible()
    on_phone("learner-logbook-empty")
    page.get_by_role("link", name="Log today").click()
    expect(page.get_by_role("heading", name=f"Week of {this_monday:%-d %b %Y}")).to_be_visible()
    page.get_by_role("link", name="Week before").click()
    expect(page.get_by_role("heading", name=f"Week of {monday:%-d %b %Y}")).to_be_visible()
    on_phone("learner-week-empty")

    def log_day(day: datetime.date, hours: str, tasks: str, outcomes: list) -> None:
        page.locator("#id_entry_date").fill(day.isoformat())
        page.get_by_label("Hours").fill(hours)
        page.get_by_label("What you did").fill(tasks)
        for outcome in outcomes:
            page.get_by_label(f"{outcome.code} {outcome.title}").check()
        page.get_by_role("button", name="Save the day").click()

    # A slip of the thumb: 75 hours for 7.5 is refused beside the hours.
    observed = "Observed a Grade 9 mathematics lesson and how the teacher checked understanding."
    log_day(monday, "75", observed, [first])
    expect(page.get_by_text("Give the hours worked that day, from 0.25 to 24.")).to_be_visible()
    on_phone("learner-hours-refused")
    days = [
        (monday, "7.5", observed, [first]),
        (monday + datetime.timedelta(days=1), "8", "Taught fractions to Grade 8.", [first, second]),
        (monday + datetime.timedelta(days=2), "6.5", "Marked tests, wrote feedback.", [second]),
        (monday + datetime.timedelta(days=3), "7", "Presented the term plan to staff.", [first]),
        (monday + datetime.timedelta(days=4), "5", "Prepared worksheets on ratios.", [third]),
    ]
    for day, hours, tasks, outcomes in days:
        log_day(day, hours, tasks, outcomes)
        expect(page.get_by_text(f"Your entry for {day_name(day)} is saved.")).to_be_visible()
    expect(page.get_by_test_id("entries").locator("li[data-entry-date]")).to_have_count(5)
    expect(page.get_by_test_id("week-hours")).to_have_text("34")
    on_phone("learner-week-logged")
    page.get_by_role("button", name="Hand in the week to your mentor").click()
    expect(page.get_by_text("The week is handed in to Nomsa Mentor")).to_be_visible()
    expect(page.locator("[data-week-status=submitted]")).to_be_visible()
    on_phone("learner-week-handed-in")
    sign_out(page)

    # 2. The mentor, at a desktop, confirms the week (not returned without a comment).
    page.set_viewport_size(DESKTOP)
    sign_in(page, login, mentor_email, FACTORY_PASSWORD)
    navigate(page, "Mentees")
    expect(page.get_by_role("heading", name="My mentees")).to_be_visible()
    expect(page.get_by_test_id("waiting")).to_have_text("1 week waiting")
    checker.look("mentor-mentees")
    page.get_by_role("link", name=f"Logbook of {learner_name}").click()
    expect(page.get_by_role("heading", name=f"Logbook of {learner_name}")).to_be_visible()
    checker.look("mentor-logbook")
    page.get_by_role("link", name=f"Week of {monday:%-d %b %Y}").click()
    expect(page.get_by_role("heading", name="Your review")).to_be_visible()
    checker.look("mentor-week")
    page.get_by_role("button", name="Return to the learner").click()
    expect(page.get_by_text("Say what the learner should correct")).to_be_visible()
    checker.look("mentor-return-refused")
    page.get_by_role("button", name="Confirm the week").click()
    expect(page.get_by_text(f"The week is confirmed; {learner_name} is e-mailed.")).to_be_visible()
    checker.look("mentor-confirmed")
    page.get_by_role("link", name="Back to the logbook").click()
    expect(page.locator(f"[data-outcome='{first.code}'] [data-confirmed]")).to_have_text("22.5")
    expect(page.locator(f"[data-outcome='{second.code}'] [data-confirmed]")).to_have_text("14.5")
    expect(page.locator(f"[data-outcome='{third.code}'] [data-confirmed]")).to_have_text("5")
    expect(page.get_by_test_id("confirmed-total")).to_have_text("34")
    checker.look("mentor-hours")
    sign_out(page)

    # 3. The learner, on the phone, hands in the portfolio of the first outcome: the days of
    # the confirmed week that practised it.
    page.set_viewport_size(PHONE)
    sign_in(page, login, learner_email, FACTORY_PASSWORD)
    navigate(page, "My portfolio")
    expect(page.get_by_role("heading", name="My portfolios")).to_be_visible()
    expect(page.get_by_test_id(f"outcome-{first.code}")).to_contain_text("22.5 confirmed hours")
    on_phone("learner-portfolios")
    page.get_by_role("button", name=f"Start the portfolio for {first.code}").click()
    expect(page.get_by_role("heading", name=f"{first.code} {first.title}")).to_be_visible()
    expect(page.get_by_text("No evidence yet.")).to_be_visible()
    # Nothing to hand in yet: the button waits for evidence.
    expect(page.get_by_role("button", name="Hand in…")).to_be_disabled()
    on_phone("learner-portfolio-empty")
    first_days = [monday, monday + datetime.timedelta(days=1), monday + datetime.timedelta(days=3)]
    for number, day in enumerate(first_days):
        page.get_by_role("link", name="Add evidence").click()
        expect(page.get_by_role("heading", name="Add evidence")).to_be_visible()
        # Only the confirmed days that practised the outcome are offered.
        expect(page.get_by_test_id("entries").locator("li")).to_have_count(3 - number)
        if number == 0:
            on_phone("learner-add-evidence")
        page.get_by_role("button", name=f"Add the entry of {day:%-d %b %Y}").click()
        expect(page.get_by_text("is added to the portfolio.")).to_be_visible()
    on_phone("learner-portfolio-evidence")
    page.get_by_role("link", name="Hand in…").click()
    expect(page.get_by_role("heading", name="Hand in the portfolio?")).to_be_visible()
    on_phone("learner-hand-in")
    page.get_by_role("button", name="Hand in", exact=True).click()
    expect(page.get_by_text("Submission 1 is handed in")).to_be_visible()
    expect(page.get_by_test_id("status")).to_contain_text("Waiting for an assessor")
    on_phone("learner-portfolio-handed-in")
    sign_out(page)

    # 4. The assessor, at a desktop, finds the learner competent (not "not yet competent"
    # without feedback).
    page.set_viewport_size(DESKTOP)
    sign_in(page, login, assessor_email, FACTORY_PASSWORD)
    navigate(page, "Portfolios to assess", menu="Workplace")
    expect(page.get_by_role("heading", name="Assessing")).to_be_visible()
    expect(page.get_by_test_id("queue-row")).to_have_count(1)
    expect(page.get_by_test_id("queue-row")).to_contain_text(learner_name)
    checker.look("assessor-queue")
    page.get_by_role("link", name=f"Assess {learner_name}, {first.code}").click()
    expect(page.get_by_role("heading", name=f"Assess {first.code}")).to_be_visible()
    expect(page.get_by_test_id("evidence").locator("li")).to_have_count(3)
    checker.look("assessor-portfolio")
    page.get_by_label("Not yet competent").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Say what is missing")).to_be_visible()
    checker.look("assessor-feedback-missing")
    page.get_by_label("Competent", exact=True).check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Submission 1 is assessed competent")).to_be_visible()
    expect(page.get_by_text("No portfolio waits for an assessor.")).to_be_visible()
    checker.look("assessor-queue-empty")
    sign_out(page)

    # 5. Staff draw the moderation sample of the assessor's decisions for the moderator.
    sign_in(page, login, admin.email)
    navigate(page, "Moderation samples", menu="Workplace")
    expect(page.get_by_role("heading", name="Moderation", exact=True)).to_be_visible()
    row = page.locator(f"tr[data-assessor='{world.assessor.pk}']")
    expect(row).to_contain_text("Andile Assessor")
    checker.look("staff-moderation")
    # Not without a moderator: the form asks for one and stays.
    choose = row.get_by_label("Moderator for Andile Assessor's decisions")
    row.get_by_role("button", name="Draw a sample").click()
    assert choose.evaluate("select => select.validity.valueMissing")
    expect(page.get_by_text("No samples drawn yet.")).to_be_visible()
    choose.select_option(label="Mpho Moderator")
    row.get_by_role("button", name="Draw a sample").click()
    expect(page.get_by_text("Mpho Moderator is given 1 of 1 decision to check")).to_be_visible()
    expect(page.get_by_text("Only Mpho Moderator records verdicts")).to_be_visible()
    checker.look("staff-sample-drawn")
    sign_out(page)

    # 6. The moderator agrees with the decision (a change without reasons refused) and
    # completes the sample.
    sign_in(page, login, moderator_email, FACTORY_PASSWORD)
    navigate(page, "Moderation samples", menu="Workplace")
    expect(page.get_by_role("heading", name="Your moderation samples")).to_be_visible()
    checker.look("moderator-samples")
    page.get_by_role("link", name="WP101").first.click()
    expect(page.get_by_role("heading", name="Andile Assessor's decisions")).to_be_visible()
    expect(page.get_by_role("button", name="Complete the sample…")).to_be_disabled()
    checker.look("moderator-sample")
    item = page.locator("section[data-item]")
    expect(item.locator(f"[data-decision='{Decision.COMPETENT}']")).to_be_visible()
    item.get_by_label("Change to not yet competent").check()
    item.get_by_role("button", name="Record the verdict").click()
    expect(
        page.get_by_text("Give your reasons for changing the assessor's decision.")
    ).to_be_visible()
    checker.look("moderator-change-refused")
    item.get_by_label("Agree: competent").check()
    item.get_by_role("button", name="Record the verdict").click()
    expect(page.get_by_text("Your agreement is recorded.")).to_be_visible()
    expect(item.get_by_test_id("verdict")).to_have_text("Agreed")
    page.get_by_role("link", name="Complete the sample…").click()
    expect(page.get_by_role("heading", name="Complete this sample?")).to_be_visible()
    checker.look("moderator-complete")
    page.get_by_role("button", name="Complete the sample").click()
    expect(page.get_by_text("The sample is completed")).to_be_visible()
    expect(page.locator("[data-final=yes]")).to_have_count(1)
    checker.look("moderator-completed")
    sign_out(page)

    # 7. The learner, on the phone, sees the result final and downloads the sealed PDF.
    page.set_viewport_size(PHONE)
    sign_in(page, login, learner_email, FACTORY_PASSWORD)
    navigate(page, "My portfolio")
    outcome = page.get_by_test_id(f"outcome-{first.code}")
    expect(outcome).to_contain_text("Competent")
    expect(outcome.get_by_test_id("finality")).to_have_text("Final")
    on_phone("learner-portfolios-final")
    page.get_by_role("link", name=f"Open the portfolio for {first.code}").click()
    expect(page.get_by_text("Found competent: the result is final.")).to_be_visible()
    expect(page.get_by_test_id("moderation")).to_contain_text("agreed")
    on_phone("learner-portfolio-final")
    page.get_by_role("link", name="My portfolios").click()
    # The PDF of the course's portfolio is reached from the learner's portfolios.
    pdf_path = reverse("workplace:portfolio_pdf", args=[course_enrollment_pk])
    page.locator(f"a[href='{pdf_path}']").click()
    expect(page.get_by_role("heading", name="My portfolio of evidence as a PDF")).to_be_visible()
    on_phone("learner-pdf")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the sealed PDF").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    checker.assert_clean()

    with tenant_context(institution):
        certificates = list(InstitutionCertificate.objects.all())
        export = PortfolioExport.objects.get()
        week = LogbookWeek.objects.get(placement_id=placed.placement.pk)
        reviews = week.reviews.count()
        portfolio = Portfolio.objects.get()
        sample = ModerationSample.objects.get()
    # pyHanko checks in an event loop of its own: not in the one Playwright runs in this thread.
    with ThreadPoolExecutor(max_workers=1) as thread:
        assert thread.submit(pdf_seal_check, pdf, certificates=certificates).result().ok
    texts = pages_text(pdf)
    assert "Index" in texts[1]
    assert first.code in texts[1]
    assert export.sha256 == hashlib.sha256(pdf).hexdigest()
    assert week.status == LogbookWeekStatus.CONFIRMED
    assert reviews == 1
    assert portfolio.outcome_id == first.pk
    assert portfolio.status == PortfolioStatus.COMPETENT
    assert portfolio.final_at is not None
    assert sample.status == "completed"
