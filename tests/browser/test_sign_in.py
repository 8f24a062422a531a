"""Signing in to an institution: wrong passwords, then the lockout."""

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tenants.models import Institution
from tests.browser.support import sign_in

pytestmark = pytest.mark.browser

WRONG_PASSWORD = "not-the-password-1"


def test_wrong_password_is_refused_and_repeated_failures_lock_the_address_out(
    page: Page, site, make_person
):
    person = make_person(Institution.objects.get(code="alpha"), name="Lou Lockout")
    login_url = site.institution("alpha", "/accounts/login/")

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(page, login_url, person.email, WRONG_PASSWORD)
        expect(page.get_by_role("alert")).to_contain_text(
            "That e-mail address and password do not match an account here."
        )
        expect(page).to_have_url(login_url)
        expect(page.get_by_label("E-mail address")).to_have_value(person.email)
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
        expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)

    # The last allowed failure locks this address out from this network.
    sign_in(page, login_url, person.email, WRONG_PASSWORD)
    expect(page.get_by_role("heading", name="Too many failed sign-in attempts")).to_be_visible()

    # Even the right password is refused until the lockout ends.
    sign_in(page, login_url, person.email)
    expect(page.get_by_role("heading", name="Too many failed sign-in attempts")).to_be_visible()
    page.goto(site.institution("alpha", "/"))
    expect(page).to_have_url(f"{login_url}?next=/")
