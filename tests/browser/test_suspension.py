"""An operator opens an institution's page from the Institutions list, sees what it holds and
who runs it, suspends it (a page that says what that does and asks why first) and reactivates
it; meanwhile its site shows only the notice."""

import pytest
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from tests.browser.support import PageChecker, sign_in

pytestmark = pytest.mark.browser


def find_row(page: Page, code: str):
    """The institution's row on the operator's page, searched for by code (the committed
    database keeps every earlier test's institutions)."""
    page.get_by_role("searchbox").fill(code)
    page.get_by_role("button", name="Filter").click()
    return page.get_by_role("row").filter(has_text=code)


def test_operator_suspends_and_reactivates_an_institution_from_its_page(
    page: Page, site, operator, make_institution, make_person
):
    institution = make_institution("delta")
    name = institution.name
    admin = make_person(institution, SystemRole.ADMIN, name="Nomsa Dube")
    login_url = site.institution(institution.code, "/accounts/login/")
    checker = PageChecker(page, "operator-institution", structure=True)
    # The institution's admin works there: that is its latest activity.
    sign_in(page, login_url, admin.email)
    expect(page.get_by_role("navigation").get_by_text("Nomsa Dube")).to_be_visible()

    sign_in(page, site.platform("/accounts/login/"), operator.email)
    find_row(page, institution.code).get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Active")
    expect(page.get_by_role("link", name=f"{institution.code}.localhost")).to_have_attribute(
        "href", site.institution(institution.code)
    )
    detail_url = page.url
    figures = page.locator(".stat-card")
    for label, count in (("People", "2"), ("Cohorts", "0"), ("Students", "0")):
        expect(figures.filter(has_text=label).locator(".display-6")).to_have_text(count)
    admins = page.get_by_role("region", name="Admins")
    expect(admins.get_by_role("row").filter(has_text="Nomsa Dube")).to_contain_text("Admin")
    expect(
        admins.get_by_role("row").filter(has_text=f"head@{institution.code}.example")
    ).to_contain_text("Invitation not accepted")
    expect(page.get_by_role("region", name="Details")).to_contain_text("just now")
    checker.look("detail")

    page.get_by_role("link", name="Suspend…").click()
    expect(page.get_by_role("heading", name=f"Suspend {name}?")).to_be_visible()
    checker.look("confirm")
    page.get_by_role("button", name=f"Suspend {name}").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    checker.look("confirm-refused")
    page.get_by_label("Why").fill("The licence agreement ended on 30 November.")
    page.get_by_role("button", name=f"Suspend {name}").click()

    expect(page.get_by_role("alert")).to_contain_text(f"{name} is suspended")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Suspended")
    expect(page.get_by_role("status")).to_contain_text(
        f"by {operator.email}: “The licence agreement ended on 30 November.”"
    )
    history = page.get_by_role("region", name="Status history")
    expect(history.get_by_role("row").nth(1)).to_contain_text("Suspended")
    checker.look("suspended")

    response = page.goto(login_url)
    assert response.status == 503
    expect(page.get_by_role("heading", name=f"{name} is suspended")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_count(0)

    page.goto(detail_url)
    page.get_by_role("button", name=f"Reactivate {name}").click()
    expect(page.get_by_role("alert")).to_contain_text(f"{name} is active again")
    expect(history.get_by_role("row").nth(1)).to_contain_text("Reactivated")
    checker.look("reactivated")
    # The admin's session was never ended: they are back where they were.
    page.goto(site.institution(institution.code, "/"))
    expect(page.get_by_role("navigation").get_by_text("Nomsa Dube")).to_be_visible()
    checker.assert_clean()


def test_suspend_from_the_list_goes_through_the_same_confirmation(
    page: Page, site, operator, make_institution
):
    institution = make_institution("omega")
    sign_in(page, site.platform("/accounts/login/"), operator.email)

    find_row(page, institution.code).get_by_role("link", name="Suspend").click()

    expect(page.get_by_role("heading", name=f"Suspend {institution.name}?")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Active")
