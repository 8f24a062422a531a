"""An admin deletes a student's account (a page saying what happens and when), the student can
no longer sign in, the admin finds them in the Deleted list and restores them, and the student
signs in again. Desktop and phone widths, axe-core on every page.

With SCREENSHOTS=1 the pages are saved under screenshots/ (deleted-accounts-*.png)."""

import pytest
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from tests.browser.support import PageChecker, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]


def test_an_admin_deletes_and_restores_a_student(page: Page, site, make_institution, make_person):
    institution = make_institution("deleting")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    student = make_person(institution, SystemRole.STUDENT, name="Sipho Student")
    login_url = site.institution(institution.code, "/accounts/login/")
    checker = PageChecker(page, "deleted-accounts", structure=True)

    sign_in(page, login_url, admin.email)
    page.goto(site.institution(institution.code, "/accounts/people/"))
    page.get_by_role("link", name="Sipho Student").click()
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("heading", name="Delete Sipho Student?")).to_be_visible()
    expect(page.get_by_text("For 30 days you can restore the account")).to_be_visible()
    checker.look("confirm-delete")
    page.get_by_role("button", name="Delete the account").click()
    expect(page.get_by_role("alert")).to_contain_text("Sipho Student deleted")
    row = page.get_by_role("row").filter(has_text="Sipho Student")
    expect(row).to_contain_text("Deleted")
    expect(row).to_contain_text("Anonymised on")
    checker.look("deleted-list")

    page.get_by_label("Status").select_option("")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Ada Admin")).to_be_visible()
    expect(page.get_by_role("link", name="Sipho Student")).to_have_count(0)

    page.context.clear_cookies()
    sign_in(page, login_url, student.email)
    expect(page.get_by_text("That e-mail address and password do not match")).to_be_visible()
    checker.look("student-refused")

    sign_in(page, login_url, admin.email)
    page.goto(site.institution(institution.code, "/accounts/people/?status=deleted"))
    page.get_by_role("link", name="Sipho Student").click()
    expect(page.get_by_text("is deleted and cannot sign in")).to_be_visible()
    checker.look("deleted-person")
    page.get_by_role("link", name="Restore…").click()
    expect(page.get_by_role("heading", name="Restore Sipho Student?")).to_be_visible()
    checker.look("confirm-restore")
    page.get_by_role("button", name="Restore the account").click()
    expect(page.get_by_role("alert")).to_contain_text("Sipho Student restored")
    checker.look("restored")

    page.context.clear_cookies()
    sign_in(page, login_url, student.email)
    expect(page.get_by_role("navigation").get_by_text("Sipho Student")).to_be_visible()
    checker.assert_clean()
