"""The learner pages in Chromium: an admin finds a learner by the last four digits of their ID
number, opens their page, shows the number, and merges the record made for them at enrolment
into the one registered before, through the preview. Desktop and phone widths, axe-core on
every page.

With SCREENSHOTS=1 the pages are saved under screenshots/ (learners-*.png)."""

import re

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from enrolments.services import enrollment_invite
from learners.services import learner_create
from tests.browser.support import PageChecker, sign_in
from tests.factories import CohortFactory
from tests.learners.support import details_of, sa_id_number

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]

NUMBER = sa_id_number(4321)


@pytest.fixture
def learners(site, make_institution, make_person):
    """An institution with a learner registered by an admin (with her ID number, no account),
    the record her enrolment made (an account, no number) and someone else."""
    institution = make_institution("learners")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        registered = learner_create(
            actor=admin,
            names={"first_name": "Thandi", "last_name": "Mokoena", "email": ""},
            details=details_of(id_number=NUMBER),
        )
        learner_create(
            actor=admin,
            names={"first_name": "Lerato", "last_name": "Dube", "email": "lerato@example.org"},
            details=details_of(id_number=sa_id_number(1111)),
        )
        enrollment_invite(
            cohort=CohortFactory(active=True, name="Plumbing 2027"),
            actor=admin,
            email="thandi.m@example.org",
            full_name="Thandi Mokoena",
        )
    return institution, admin, registered


def test_an_admin_finds_shows_and_merges_a_learner(page: Page, site, learners):
    institution, admin, registered = learners
    checker = PageChecker(page, "learners", structure=True)
    sign_in(page, site.institution(institution.code, "/accounts/login/"), admin.email)
    page.get_by_role("navigation").get_by_role("link", name="Learners", exact=True).click()
    expect(page.get_by_role("heading", name="Learners", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Thandi Mokoena")).to_have_count(2)
    checker.look("list")

    page.get_by_label("Search").fill(NUMBER[-4:])
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Thandi Mokoena")).to_have_count(1)
    expect(page.get_by_role("link", name="Lerato Dube")).to_have_count(0)
    expect(page.get_by_text(f"•••• {NUMBER[-4:]}")).to_be_visible()
    checker.look("found-by-last-digits")

    page.get_by_role("link", name="Thandi Mokoena").click()
    expect(page).to_have_url(re.compile(rf"/learners/{registered.pk}/$"))
    expect(page.get_by_text(NUMBER)).to_have_count(0)
    checker.look("learner")
    page.get_by_role("button", name="Show the full number").click()
    expect(page.get_by_text(NUMBER)).to_be_visible()
    expect(page.get_by_text("this look is recorded")).to_be_visible()
    checker.snap("learner-number-shown")

    page.get_by_role("link", name="Merge with another record").click()
    page.get_by_label("Search").fill("thandi")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Preview merge of Thandi Mokoena")).to_have_count(1)
    checker.look("merge-choose")
    page.get_by_role("link", name="Preview merge of Thandi Mokoena").click()
    expect(page.get_by_text("The account thandi.m@example.org")).to_be_visible()
    expect(page.get_by_text("Enrolments: Plumbing 2027")).to_be_visible()
    checker.look("merge-preview")

    page.get_by_role("button", name="Merge into Thandi Mokoena").click()
    expect(page.get_by_text("merged into this record, and archived")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/learners/{registered.pk}/$"))
    enrolments = page.get_by_role("region", name="Enrolments")
    expect(enrolments.get_by_text("Plumbing 2027")).to_be_visible()
    expect(page.get_by_text("thandi.m@example.org").first).to_be_visible()
    checker.look("merged")
    checker.assert_clean()
