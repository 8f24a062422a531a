"""An admin sets up workplace learning's registry: adds outcomes to a course (a taken code is
refused beside its field), then registers an assessor for the programme with an expiry date (a
date in the past refused first) and finds them in the list, filtered by role."""

import datetime

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from academics.models import Outcome
from accounts.models import SystemRole
from tests.browser.support import PageChecker, sign_in
from tests.factories import CourseFactory, ProgrammeFactory
from workplace.models import PractitionerRegistration

pytestmark = pytest.mark.browser


def test_an_admin_adds_outcomes_and_registers_an_assessor(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("registry")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    assessor = make_person(institution, SystemRole.ASSESSOR, name="Andile Assessor")
    with tenant_context(institution):
        programme = ProgrammeFactory(name="Teaching Internship", code="TI01")
        course = CourseFactory(
            programme=programme, code="WP101", name="Workplace practice", credits=20
        )
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "registry", structure=True)

    sign_in(page, url("/accounts/login/"), admin.email)
    page.goto(url(f"/academics/courses/{course.pk}/"))
    expect(page.get_by_role("heading", name="WP101 Workplace practice")).to_be_visible()
    expect(page.get_by_text("No outcomes yet.")).to_be_visible()
    checker.look("course-empty")

    def outcome_add(code: str, title: str, credits: int, nqf_level: int) -> None:
        page.get_by_role("link", name="Add outcome").click()
        expect(page.get_by_role("heading", name="New outcome of WP101")).to_be_visible()
        page.get_by_label("Kind").select_option(label="Unit standard")
        page.get_by_label("Code").fill(code)
        page.get_by_label("Title").fill(title)
        page.get_by_label("Credits").fill(str(credits))
        page.get_by_label("NQF level").fill(str(nqf_level))
        page.get_by_role("button", name="Add outcome").click()

    outcome_add("119472", "Accommodate audience and context needs in oral communication", 5, 4)
    expect(page.get_by_text("Outcome 119472 Accommodate")).to_be_visible()
    outcome_add("7480", "Demonstrate understanding of rational and irrational numbers", 3, 3)
    expect(page.locator("[data-outcome]")).to_have_count(2)
    expect(page.get_by_test_id("outcome-credits")).to_contain_text("Active outcomes: 8 credits")
    expect(page.get_by_test_id("outcome-credits")).to_contain_text("the course: 20 credits")
    checker.look("course-outcomes")

    # The same code again is refused, beside the code.
    outcome_add("119472", "Oral communication again", 2, 4)
    expect(page.get_by_text("The code 119472 is taken")).to_be_visible()
    checker.look("outcome-code-taken")
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("[data-outcome]")).to_have_count(2)

    # Register the assessor: an expiry date in the past is refused first.
    page.goto(url("/workplace/practitioners/"))
    expect(page.get_by_role("heading", name="Assessors and moderators")).to_be_visible()
    expect(page.get_by_text("No assessors or moderators registered yet.")).to_be_visible()
    checker.look("list-empty")
    page.get_by_role("link", name="Register a person").click()
    expect(page.get_by_role("heading", name="Register an assessor or a moderator")).to_be_visible()
    page.get_by_label("Person").select_option(label=f"Andile Assessor ({assessor.email})")
    page.get_by_label("Role").select_option(label="Assessor")
    page.get_by_label("Registration number").fill("ETDP-A-004512")
    page.get_by_label("Registered with").fill("ETDP SETA")
    page.get_by_label("Expires on").fill("2020-01-31")
    page.get_by_label("Teaching Internship").check()
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("The expiry date must be in the future")).to_be_visible()
    checker.look("register-past-expiry")

    expires_on = timezone.localdate() + datetime.timedelta(days=20)
    page.get_by_label("Expires on").fill(expires_on.isoformat())
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_text("Andile Assessor is registered as assessor.")).to_be_visible()
    row = page.locator("[data-registration]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("ETDP-A-004512")
    expect(row).to_contain_text("TI01")
    expect(row).to_contain_text("expires soon")
    checker.look("list")

    page.get_by_label("Role").select_option("moderator")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No registration matches these filters.")).to_be_visible()
    checker.look("list-filtered-empty")
    page.get_by_label("Role").select_option("assessor")
    page.get_by_label("Standing").select_option("expiring")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("[data-registration]")).to_have_count(1)

    page.get_by_role("link", name="Andile Assessor").click()
    expect(page.get_by_role("heading", name="Andile Assessor")).to_be_visible()
    expect(page.get_by_label("Active")).to_be_checked()
    checker.look("edit")

    with tenant_context(institution):
        assert Outcome.objects.filter(course=course).count() == 2
        registration = PractitionerRegistration.objects.get()
        assert registration.expires_on == expires_on
        assert list(registration.scope.all()) == [programme]
    checker.assert_clean()
