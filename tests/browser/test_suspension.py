"""An operator suspends an institution from the Institutions page."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import sign_in

pytestmark = pytest.mark.browser


def find_row(page: Page, code: str):
    """The institution's row on the operator's page, searched for by code (the committed
    database keeps every earlier test's institutions)."""
    page.get_by_role("searchbox").fill(code)
    page.get_by_role("button", name="Filter").click()
    return page.get_by_role("row").filter(has_text=code)


def test_suspended_institution_shows_its_notice_instead_of_the_sign_in_form(
    page: Page, site, operator, make_institution
):
    institution = make_institution("delta")
    login_url = site.institution(institution.code, "/accounts/login/")
    page.goto(login_url)
    expect(page.get_by_label("Password")).to_be_visible()

    sign_in(page, site.platform("/accounts/login/"), operator.email)
    row = find_row(page, institution.code)

    # Dismissing the confirmation changes nothing.
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    row.get_by_role("button", name="Suspend").click()
    expect(row.get_by_text("Active", exact=True)).to_be_visible()
    assert dialogs == [f"Suspend {institution.name}? Nobody will be able to sign in there."]

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Suspend").click()
    expect(page.get_by_role("alert")).to_contain_text(f"{institution.name} is suspended")
    row = find_row(page, institution.code)
    expect(row.get_by_text("Suspended", exact=True)).to_be_visible()
    expect(row.get_by_role("button", name="Reactivate")).to_be_visible()

    response = page.goto(login_url)
    assert response.status == 503
    expect(page.get_by_role("heading", name=f"{institution.name} is suspended")).to_be_visible()
    expect(page.get_by_label("Password")).to_have_count(0)
