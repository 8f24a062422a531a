"""The catalogue in Chromium: an admin sets up a programme with two courses, makes the second
require the first, and is refused the reverse with the path of the cycle; a programme form
sent incomplete says what is missing. Desktop and phone widths, axe-core on every page.

With SCREENSHOTS=1 the pages are saved under screenshots/ (catalogue-*.png)."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from tests.browser.support import PageChecker, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]


def test_an_admin_sets_up_a_programme_with_two_courses(page: Page, site, make_institution,
                                                       make_person):  # fmt: skip
    institution = make_institution("catalogue")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    checker = PageChecker(page, "catalogue", structure=True)
    sign_in(page, site.institution(institution.code, "/accounts/login/"), admin.email)

    page.goto(site.institution(institution.code, "/academics/"))
    expect(page.get_by_role("heading", name="Programmes", exact=True)).to_be_visible()
    expect(page.get_by_text("No programmes yet.")).to_be_visible()
    checker.look("programmes-empty")

    page.get_by_role("link", name="New programme").click()
    page.get_by_label("Name").fill("Electrical Engineering N4")
    page.get_by_role("button", name="Create programme").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    checker.look("programme-form-refused")

    page.get_by_label("Code").fill("EE-N4")
    page.get_by_label("Qualification type").select_option("occupational_certificate")
    page.get_by_label("Duration years").fill("1")
    page.get_by_label("Total credits").fill("120")
    page.get_by_label("NQF level").fill("4")
    page.get_by_role("button", name="Create programme").click()
    expect(page.get_by_role("heading", name="Electrical Engineering N4")).to_be_visible()
    expect(page.get_by_text("No courses yet")).to_be_visible()
    checker.look("programme-new")

    for code, name in [("EL101", "Wiring basics"), ("EL102", "Installations")]:
        page.get_by_role("link", name="Add course").click()
        page.get_by_label("Code").fill(code)
        page.get_by_label("Name").fill(name)
        page.get_by_label("Credits").fill("12")
        page.get_by_role("button", name="Add course").click()
        expect(page.get_by_text(f"Course {code} {name} added.")).to_be_visible()
    courses = page.get_by_role("region", name="Courses")
    expect(courses.get_by_role("link", name="EL101")).to_be_visible()
    expect(courses.get_by_role("link", name="EL102")).to_be_visible()
    checker.look("programme-with-courses")

    courses.get_by_role("link", name="EL102").click()
    page.get_by_label("Add a prerequisite").select_option(label="EL101 Wiring basics")
    page.get_by_role("button", name="Add prerequisite").click()
    expect(page.get_by_text("EL102 now requires EL101.")).to_be_visible()
    checker.look("course-with-prerequisite")

    page.get_by_role("navigation", name="breadcrumb").get_by_role("link", name="EE-N4").click()
    page.get_by_role("region", name="Courses").get_by_role("link", name="EL101").click()
    page.get_by_label("Add a prerequisite").select_option(label="EL102 Installations")
    page.get_by_role("button", name="Add prerequisite").click()
    expect(
        page.get_by_text("That would make a cycle: EL101 requires EL102, which requires EL101.")
    ).to_be_visible()
    expect(page.get_by_text("None: a learner can take this course from the start.")).to_be_visible()
    checker.look("cycle-refused")

    page.get_by_role("link", name="Programmes").first.click()
    expect(page).to_have_url(re.compile(r"/academics/$"))
    expect(page.get_by_role("link", name="Electrical Engineering N4")).to_be_visible()
    checker.look("programmes")
    checker.assert_clean()
