"""Paging through a filtered list keeps the filters, and a filter that hides everything says
so and offers to clear it (the people list; every list shares its table and pagination)."""

import re

import pytest
from playwright.sync_api import Page, expect

import accounts.lists
from accounts.models import SystemRole
from tests.browser.support import PageChecker, sign_in

pytestmark = pytest.mark.browser


def test_page_two_of_a_filtered_list_is_still_filtered(
    page: Page, site, make_institution, make_person, monkeypatch
):
    monkeypatch.setattr(accounts.lists, "PAGE_SIZE", 2)
    institution = make_institution("paging")
    head = make_person(institution, SystemRole.SUPER_ADMIN, name="Hana Head")
    for number in range(3):
        make_person(institution, SystemRole.AUDITOR, name=f"Auditor{number} Example")
    make_person(institution, SystemRole.TRAINER, name="Trainer Example")
    checker = PageChecker(page, "paging", structure=True)
    people = page.get_by_role("table").get_by_role("row")

    sign_in(page, site.institution(institution.code, "/accounts/login/"), head.email)
    page.goto(site.institution(institution.code, "/accounts/people/"))
    page.get_by_label("Role").select_option("auditor")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("1–2 of 3")).to_be_visible()

    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"\?role=auditor&page=2$"))
    expect(page.get_by_text("3–3 of 3")).to_be_visible()
    expect(people).to_have_count(2)  # the heading row and Auditor2
    expect(page.get_by_role("link", name="Auditor2 Example")).to_be_visible()
    expect(page.get_by_label("Role")).to_have_value("auditor")
    checker.look("people-page-two")

    page.get_by_role("link", name="Previous").click()
    expect(page).to_have_url(re.compile(r"\?role=auditor&page=1$"))
    expect(page.get_by_role("link", name="Auditor0 Example")).to_be_visible()
    expect(page.get_by_role("link", name="Trainer Example")).to_have_count(0)

    page.get_by_label("Search").fill("nobody by this name")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Nobody matches these filters.")).to_be_visible()
    checker.look("people-nothing-matches")
    page.get_by_role("link", name="Clear filters").click()
    expect(page).to_have_url(re.compile(r"/accounts/people/$"))
    expect(page.get_by_label("Role")).to_have_value("")
    expect(people).to_have_count(3)
    assert checker.problems == []
