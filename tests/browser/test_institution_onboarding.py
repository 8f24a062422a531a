"""From an operator's "New institution" to the institution's first admin being invited."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import PASSWORD, sign_in, wait_for_mail

pytestmark = pytest.mark.browser

INVITATION_LINK = re.compile(r"http://\S+/accounts/invitation/[\w-]+/")


def field(page: Page, name: str):
    """The wrapper crispy-forms draws around a field: its label, input, error and help."""
    return page.locator(f"#div_id_{name}")


def test_operator_creates_institution_and_its_super_admin_invites_an_admin(
    page: Page, site, operator, celery_worker, unique
):
    code = f"gamma-{unique}"
    name = f"Gamma Institute {unique}"
    head = f"head@{code}.example"

    sign_in(page, site.platform("/accounts/login/"), operator.email)
    page.get_by_role("navigation").get_by_role("link", name="Institutions").click()
    expect(page.get_by_role("heading", name="Institutions")).to_be_visible()
    page.get_by_role("link", name="New institution").click()

    # A reserved code, then a taken one: each is refused beside the code field.
    page.get_by_label("Institution name").fill(name)
    page.get_by_label("Super admin's e-mail").fill(head)
    for taken, reason in [("www", "is reserved"), ("alpha", "is already taken")]:
        page.get_by_label("Code").fill(taken)
        page.get_by_role("button", name="Create institution").click()
        expect(page.get_by_label("Code")).to_have_class(re.compile(r"\bis-invalid\b"))
        expect(field(page, "code").locator(".invalid-feedback")).to_contain_text(reason)
        expect(page.get_by_label("Institution name")).to_have_value(name)

    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Create institution").click()
    expect(page.get_by_role("alert")).to_contain_text(f"{name} is being created")

    # The worker provisions the institution and e-mails its super admin.
    invitation = wait_for_mail(head)
    link = INVITATION_LINK.search(invitation.body).group(0)
    assert link.startswith(site.institution(code, "/accounts/invitation/"))
    page.get_by_role("searchbox").fill(code)
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row").filter(has_text=name)
    expect(row.get_by_text("Active")).to_be_visible()

    # The super admin sets up their account; mismatched passwords are refused first.
    page.goto(link)
    expect(page.get_by_role("heading", name="Set up your account")).to_be_visible()
    expect(page.get_by_text(head)).to_be_visible()
    page.get_by_label("Your full name").fill("Grace Head")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD + "x")
    page.get_by_role("button", name="Create my account").click()
    expect(field(page, "password2").locator(".invalid-feedback")).to_contain_text(
        "The two passwords differ"
    )
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    expect(page).to_have_url(site.institution(code, "/"))
    expect(page.get_by_role("heading", name="Welcome, Grace Head")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Your account is ready")

    # They invite an admin.
    page.get_by_role("navigation").get_by_role("link", name="People").click()
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_label("Full name").fill("Ada Admin")
    page.get_by_label("E-mail address").fill(f"ada@{code}.example")
    page.get_by_label("Admin", exact=True).check()
    page.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_role("alert")).to_contain_text(f"Invitation sent to ada@{code}.example")
    row = page.get_by_role("row").filter(has_text="Ada Admin")
    expect(row.get_by_text("Invited", exact=True)).to_be_visible()
    expect(row.get_by_text("Admin", exact=True)).to_be_visible()
    assert wait_for_mail(f"ada@{code}.example").subject

    # The super admin's link has done its job.
    page.goto(link)
    expect(page.get_by_role("heading")).to_contain_text("already been used")
    expect(page.get_by_label("Choose a password")).to_have_count(0)
