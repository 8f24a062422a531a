""" "Find my institution" on the platform site: the answer goes to the mailbox only."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import wait_for_mail

pytestmark = pytest.mark.browser

FOUNDER = "founder@alpha.example"  # alpha's super admin, from the session's fixtures


@pytest.mark.usefixtures("ratelimit_reset")
def test_find_my_institution_emails_the_sign_in_links_and_shows_none(
    page: Page, site, celery_worker
):
    page.goto(site.platform("/"))
    page.get_by_role("navigation").get_by_role("link", name="Find my institution").click()
    expect(page.get_by_role("heading", name="Find my institution")).to_be_visible()

    page.get_by_label("Your e-mail address").fill("founder at alpha")
    page.get_by_role("button", name="E-mail me my links").click()
    email_field = page.get_by_label("Your e-mail address")
    expect(email_field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#div_id_email .invalid-feedback")).to_contain_text(
        "Enter a valid email address."
    )

    email_field.fill(FOUNDER.upper())
    page.get_by_role("button", name="E-mail me my links").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    # Which institutions know the address is for the mailbox's owner only.
    expect(page.get_by_text("Alpha College")).to_have_count(0)
    expect(page.locator("a[href*='alpha.']")).to_have_count(0)

    message = wait_for_mail(FOUNDER)
    assert "Alpha College" in message.body
    assert site.institution("alpha", "/accounts/login/") in message.body
    assert site.institution("beta", "/") not in message.body
