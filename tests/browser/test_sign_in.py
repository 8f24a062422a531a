"""Signing in to an institution: wrong passwords, the warning before the last attempt, then the
lockout and how long it lasts."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from accounts.security import duration_text
from tenants.models import Institution
from tests.browser.support import PageChecker, sign_in

pytestmark = pytest.mark.browser

WRONG_PASSWORD = "not-the-password-1"


def test_wrong_password_is_refused_and_repeated_failures_lock_the_address_out(
    page: Page, site, make_person
):
    person = make_person(Institution.objects.get(code="alpha"), name="Lou Lockout")
    login_url = site.institution("alpha", "/accounts/login/")
    checker = PageChecker(page, "sign-in", structure=True)
    length = duration_text(settings.AXES_COOLOFF_TIME)
    warning = page.locator("#lockout-warning")

    for attempt in range(1, settings.AXES_FAILURE_LIMIT):
        sign_in(page, login_url, person.email, WRONG_PASSWORD)
        expect(page.get_by_role("alert")).to_contain_text(
            "That e-mail address and password do not match an account here."
        )
        expect(page).to_have_url(login_url)
        expect(page.get_by_label("E-mail address")).to_have_value(person.email)
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
        expect(page.get_by_role("link", name="Dashboard")).to_have_count(0)
        if attempt < settings.AXES_FAILURE_LIMIT - 1:
            expect(warning).to_have_count(0)

    # Before the last attempt: how long the lock would last, and a way out of it.
    expect(warning).to_have_text(
        f"One more failed attempt locks this account for {length}. If you are not sure of "
        "your password, choose a new one instead."
    )
    expect(warning.get_by_role("link", name="choose a new one")).to_have_attribute(
        "href", "/accounts/reset/"
    )
    checker.look("last-attempt-warning")

    # The last allowed failure locks this address out from this network, for that long.
    sign_in(page, login_url, person.email, WRONG_PASSWORD)
    expect(page.get_by_role("heading", name="Too many failed sign-in attempts")).to_be_visible()
    expect(page.get_by_text(f"is paused for {length}, until")).to_be_visible()
    paused = page.get_by_text(f"is paused for {length}, until").inner_text()
    assert re.search(
        rf"until \d\d:\d\d SAST\. Each attempt before then starts the {length} again", paused
    )
    checker.look("locked-out")

    # Even the right password is refused until the lockout ends.
    sign_in(page, login_url, person.email)
    expect(page.get_by_role("heading", name="Too many failed sign-in attempts")).to_be_visible()
    page.goto(site.institution("alpha", "/"))
    expect(page).to_have_url(f"{login_url}?next=/")
    checker.assert_clean()
