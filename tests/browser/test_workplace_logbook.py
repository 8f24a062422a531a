"""A learner logs a week of their placement on a phone: three days, one with a photo of the
lesson, and hands the week in. Their mentor, at a desktop, returns it with a comment; the
learner corrects the day and hands it in again; the mentor confirms it, and the confirmed hours
show per outcome."""

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Browser, Page, expect

from accounts.models import SystemRole
from placements.models import Placement
from tests.browser.support import PHONE, PageChecker, sign_in
from tests.factories import PASSWORD
from tests.files import png_bytes
from tests.workplace.support import workplace_world
from workplace.models import LogbookWeek, LogbookWeekStatus

pytestmark = pytest.mark.browser


def day_name(day: datetime.date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def test_a_learner_logs_a_week_on_a_phone_and_the_mentor_returns_then_confirms_it(
    page: Page, browser: Browser, site, make_institution, make_person, ratelimit_reset, media
):
    institution = make_institution("logbook")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    today = timezone.localdate()
    this_monday = today - datetime.timedelta(days=today.weekday())
    monday = this_monday - datetime.timedelta(days=7)
    with tenant_context(institution):
        world = workplace_world(admin)
        placed = world.learner
        Placement.objects.filter(pk=placed.placement.pk).update(
            starts_on=monday - datetime.timedelta(days=7),
            ends_on=today + datetime.timedelta(days=60),
        )
        learner_email, mentor_email = placed.user.email, world.mentor.email
        learner_name = placed.learner.full_name
        placement_pk = placed.placement.pk
        first, second, _ = world.outcomes
    url = lambda path: site.institution(institution.code, path)  # noqa: E731

    # The learner, on a phone.
    phone = browser.new_context(viewport=PHONE)
    learner = phone.new_page()
    learner.set_default_timeout(10_000)
    on_phone = PageChecker(learner, "logbook-learner", structure=True)

    def look(name: str) -> None:
        on_phone.look(name)
        learner.set_viewport_size(PHONE)

    sign_in(learner, url("/accounts/login/"), learner_email, PASSWORD)
    learner.goto(url("/workplace/my/logbooks/"))
    expect(learner.get_by_role("heading", name="My logbooks")).to_be_visible()
    look("my-logbooks")
    learner.get_by_role("link", name="Open the logbook").click()
    expect(learner.get_by_role("heading", name="My logbook")).to_be_visible()
    expect(learner.get_by_text("Nothing logged yet.")).to_be_visible()
    look("logbook-empty")
    learner.get_by_role("link", name="Log today").click()
    expect(learner.get_by_role("heading", name=f"Week of {this_monday.day}")).to_be_visible()
    expect(learner.locator("#id_entry_date")).to_have_value(today.isoformat())
    learner.get_by_role("link", name="Week before").click()
    expect(learner.get_by_role("heading", name=f"Week of {monday.day}")).to_be_visible()

    days = [
        (monday, "7.5", "Observed a Grade 9 mathematics lesson.", [first]),
        (monday + datetime.timedelta(days=1), "8", "Taught fractions to Grade 8.", [first, second]),
        (monday + datetime.timedelta(days=2), "6.5", "Marked tests and gave feedback.", [second]),
    ]
    for day, hours, tasks, outcomes in days:
        learner.locator("#id_entry_date").fill(day.isoformat())
        learner.get_by_label("Hours").fill(hours)
        learner.get_by_label("What you did").fill(tasks)
        for outcome in outcomes:
            learner.get_by_label(f"{outcome.code} {outcome.title}").check()
        learner.get_by_role("button", name="Save the day").click()
        expect(learner.get_by_text(f"Your entry for {day_name(day)} is saved.")).to_be_visible()
    expect(learner.get_by_test_id("week-hours")).to_have_text("22")
    look("week-three-days")

    # A photo of Monday's lesson.
    learner.get_by_label(f"Add a photo or document to {day_name(monday)}").set_input_files(
        files=[{"name": "lesson.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    learner.get_by_role("button", name=f"Upload to {day_name(monday)}").click()
    expect(learner.get_by_text("lesson.png is added to the entry.")).to_be_visible()
    expect(learner.get_by_role("link", name="lesson.png")).to_be_visible()
    learner.get_by_role("button", name="Hand in the week to your mentor").click()
    expect(learner.get_by_text("The week is handed in to Nomsa Mentor")).to_be_visible()
    expect(learner.locator("[data-week-status=submitted]")).to_be_visible()
    look("handed-in")

    # The mentor, at a desktop, returns it with a comment.
    mentor = PageChecker(page, "logbook-mentor", structure=True)
    sign_in(page, url("/accounts/login/"), mentor_email, PASSWORD)
    page.goto(url("/workplace/mentees/"))
    expect(page.get_by_role("heading", name="My mentees")).to_be_visible()
    expect(page.get_by_test_id("waiting")).to_have_text("1 week waiting")
    mentor.look("mentees")
    page.get_by_role("link", name=f"Logbook of {learner_name}").click()
    page.get_by_role("link", name=f"Week of {monday:%-d %b %Y}").click()
    expect(page.get_by_role("heading", name="Your review")).to_be_visible()
    mentor.look("week-to-review")
    page.get_by_role("button", name="Return to the learner").click()
    expect(page.get_by_text("Say what the learner should correct")).to_be_visible()
    mentor.look("return-without-comment")
    page.get_by_label("Comment").fill("Tuesday was a half day: you left at noon.")
    page.get_by_role("button", name="Return to the learner").click()
    expect(page.get_by_text(f"The week is returned; {learner_name} is e-mailed.")).to_be_visible()

    # The learner corrects Tuesday and hands the week in again.
    learner.reload()
    expect(learner.get_by_test_id("returned")).to_contain_text("Tuesday was a half day")
    look("returned")
    tuesday = monday + datetime.timedelta(days=1)
    learner.get_by_role("link", name=f"Change {day_name(tuesday)}").click()
    expect(
        learner.get_by_role("heading", name=f"Change the entry of {day_name(tuesday)}")
    ).to_be_visible()
    look("edit-entry")
    learner.get_by_label("Hours").fill("4")
    learner.get_by_role("button", name="Save the entry").click()
    expect(learner.get_by_text("The entry is saved.")).to_be_visible()
    expect(learner.get_by_test_id("week-hours")).to_have_text("18")
    learner.get_by_role("button", name="Hand in the week to your mentor").click()
    expect(learner.locator("[data-week-status=submitted]")).to_be_visible()

    # The mentor confirms it; the hours count per outcome.
    page.reload()
    expect(page.get_by_role("button", name="Confirm the week")).to_be_visible()
    page.get_by_role("button", name="Confirm the week").click()
    expect(page.get_by_text(f"The week is confirmed; {learner_name} is e-mailed.")).to_be_visible()
    expect(page.get_by_test_id("reviews")).to_contain_text("Returned")
    mentor.look("confirmed")
    page.get_by_role("link", name="Back to the logbook").click()
    expect(page.locator(f"[data-outcome='{first.code}'] [data-confirmed]")).to_have_text("11.5")
    expect(page.locator(f"[data-outcome='{second.code}'] [data-confirmed]")).to_have_text("10.5")
    expect(page.get_by_test_id("confirmed-total")).to_have_text("18")
    mentor.look("logbook-confirmed")

    learner.get_by_role("link", name="Back to the logbook").click()
    expect(learner.get_by_test_id("confirmed-total")).to_have_text("18")
    look("logbook-confirmed")
    with tenant_context(institution):
        week = LogbookWeek.objects.get(placement_id=placement_pk)
        assert week.status == LogbookWeekStatus.CONFIRMED
        assert week.reviews.count() == 2
    phone.close()
    on_phone.assert_clean()
    mentor.assert_clean()
