"""Every page of the first flows, at desktop and phone widths: nothing scrolls sideways, each
page has one heading, the Content Security Policy blocks nothing, and the phone's menu folds.

With SCREENSHOTS=1 each page is also saved as a PNG under screenshots/ (git ignores it), to
look at: `SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_page_layout.py -p no:xdist`.
"""

import re

import pytest
from django.conf import settings
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from accounts.services import user_deactivate, user_invite
from notifications.models import OutboundEmail
from tenants.services import institution_suspend
from tests.browser.support import DESKTOP, PHONE, PageChecker, sign_in

pytestmark = pytest.mark.browser


def test_pages_fit_desktop_and_phone_screens(
    page: Page, site, operator, make_institution, make_person, unique, ratelimit_reset
):
    checker = PageChecker(page, "layout", structure=True)
    institution = make_institution("omega")
    code = institution.code
    head = make_person(institution, SystemRole.SUPER_ADMIN, name="Olive Omega")
    with tenant_context(institution):
        invited = OutboundEmail.objects.get(template="invitation")
        for number, (name, roles) in enumerate(
            [
                ("Noah Verifier", [SystemRole.VERIFIER, SystemRole.TRAINER]),
                ("Mia Auditor", [SystemRole.AUDITOR]),
            ]
        ):
            person = user_invite(
                email=f"person{number}-{unique}@{code}.example",
                full_name=name,
                roles=roles,
                actor=head,
            )
        user_deactivate(user=person, actor=head)

    # The platform's pages, signed out.
    page.goto(site.platform("/"))
    checker.look("landing")
    page.goto(site.platform("/find-institution/"))
    page.get_by_role("button", name="E-mail me my links").click()
    expect(page.locator(".invalid-feedback")).to_be_visible()
    checker.look("find-institution-error")
    page.get_by_label("Your e-mail address").fill(f"nobody-{unique}@example.org")
    page.get_by_role("button", name="E-mail me my links").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    checker.look("find-institution-sent")
    page.goto(site.platform("/accounts/login/"))
    checker.look("platform-sign-in")
    page.goto(site.platform("/no-such-page/"))
    checker.look("platform-404")

    # The operator's pages.
    sign_in(page, site.platform("/accounts/login/"), operator.email)
    expect(page.get_by_role("heading", name="Institutions")).to_be_visible()
    checker.look("operator-dashboard")
    page.get_by_role("link", name="New institution").click()
    page.get_by_label("Code").fill("www")
    page.get_by_label("Super admin's e-mail").fill("not an address")
    page.get_by_role("button", name="Create institution").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    checker.look("new-institution-errors")

    # The institution's pages, signed out.
    page.goto(invited.context["accept_url"])
    expect(page.get_by_role("heading", name="Set up your account")).to_be_visible()
    checker.look("invitation-accept")
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    checker.look("invitation-accept-errors")
    sign_in(page, site.institution(code, "/accounts/login/"), head.email, "wrong password")
    expect(page.get_by_role("alert")).to_be_visible()
    checker.look("sign-in-error")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(page, site.institution(code, "/accounts/login/"), f"lock-{unique}@x.example")
    expect(page.get_by_role("heading", name="Too many failed sign-in attempts")).to_be_visible()
    checker.look("lockout")

    # The super admin's pages.
    sign_in(page, site.institution(code, "/accounts/login/"), head.email)
    expect(page.get_by_role("heading", name="Welcome, Olive Omega")).to_be_visible()
    checker.look("dashboard")
    page.get_by_role("navigation").get_by_role("link", name="People").click()
    expect(page).to_have_url(site.institution(code, "/accounts/people/"))
    checker.look("people")
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    checker.look("invite-errors")
    page.goto(site.institution(code, "/accounts/people/"))
    page.get_by_role("link", name="Noah Verifier").click()
    expect(page.get_by_role("heading", name="Noah Verifier")).to_be_visible()
    checker.look("person-detail")
    page.get_by_role("link", name="Deactivate").click()
    expect(page.get_by_role("heading", name="Deactivate Noah Verifier?")).to_be_visible()
    checker.look("deactivate-confirm")
    page.goto(site.institution(code, "/audit/"))
    expect(page.get_by_role("cell", name="user.invited").first).to_be_visible()
    checker.look("audit-trail")
    page.goto(site.institution(code, "/no-such-page/"))
    checker.look("institution-404")

    # On a phone the menu folds behind its button.
    page.set_viewport_size(PHONE)
    page.goto(site.institution(code, "/"))
    menu = page.get_by_role("navigation").get_by_role("link", name="People")
    expect(menu).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(menu).to_be_visible()
    expect(page.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))
    checker.snap("phone-menu-open")
    page.set_viewport_size(DESKTOP)

    institution_suspend(institution=institution)
    page.goto(site.institution(code, "/"))
    expect(page.get_by_role("heading", name=f"{institution.name} is suspended")).to_be_visible()
    checker.look("suspended")

    checker.assert_clean()
    assert checker.count == 19
