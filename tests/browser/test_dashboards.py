"""The demo institution's start pages, in Chromium: after `manage.py setup_demo` each role
signs in and sees its own work on the start page (the admins their open cohorts with what
waits in each, theirs first; the verifier their queue; the auditor the latest events; the
trainer the registers left to take), and an admin changes a cohort's responsible admins on
its page, refused when nobody is left.

With SCREENSHOTS=1 every page passed through is saved under screenshots/:
`SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_dashboards.py -p no:xdist`."""

import io
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connections
from playwright.sync_api import Page, expect

from tests.browser.support import PageChecker, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]

CREDENTIAL = re.compile(r"^\s+([A-Z][a-z ]+):\s+(\S+@demo\.example)\s+(\S+)$", re.MULTILINE)
RUNNING = re.compile(r"^Data Analytics, .* intake$")


def _setup_demo() -> str:
    out = io.StringIO()
    try:
        call_command("setup_demo", stdout=out)
    finally:
        connections.close_all()  # the thread's own connection
    return out.getvalue()


@pytest.fixture
def demo(site, settings, tmp_path, media) -> dict[str, tuple[str, str]]:
    """Run setup_demo in a thread of its own (sealing calls asyncio.run, which Playwright's
    event loop refuses) and read the credentials it printed, by role."""
    settings.DATA_DIR = tmp_path
    with ThreadPoolExecutor(max_workers=1) as pool:
        output = pool.submit(_setup_demo).result()
    return {role: (email, password) for role, email, password in CREDENTIAL.findall(output)}


def _signed_in_as(page: Page, site, demo, role: str) -> None:
    email, password = demo[role]
    page.context.clear_cookies()
    sign_in(page, site.institution("demo", "/accounts/login/"), email, password)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome, ")


def _cohorts_panel(page: Page):
    return page.get_by_role("region", name="Your cohorts")


def test_each_demo_role_sees_its_work_on_the_start_page(page: Page, site, demo):
    checker = PageChecker(page, "dashboards", structure=True)

    _signed_in_as(page, site, demo, "Admin")
    panel = _cohorts_panel(page)
    rows = panel.locator("[data-cohort]")
    expect(rows).to_have_count(2)  # the running intake and the draft; not the closed ones
    running = rows.first  # the admin is responsible for it: first
    expect(running.get_by_role("link", name=RUNNING)).to_be_visible()
    expect(running.get_by_text("You are responsible")).to_be_visible()
    expect(running.get_by_role("link", name="4 documents to review")).to_be_visible()
    expect(
        running.get_by_role("link", name=re.compile(r"^\d+ invitations? not accepted$"))
    ).to_be_visible()
    expect(running.get_by_role("link", name="Sponsor not signed yet")).to_be_visible()
    draft = rows.nth(1)
    expect(draft.get_by_text("You are responsible")).to_have_count(0)
    expect(draft.get_by_role("link", name="Main agreement to sign")).to_be_visible()
    checker.look("admin-start")
    running.get_by_role("link", name="4 documents to review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Documents to review")
    expect(page.locator("[data-count=total]")).to_have_text("4")

    _signed_in_as(page, site, demo, "Super admin")
    expect(_cohorts_panel(page).get_by_text("You are responsible")).to_have_count(2)
    checker.look("super-admin-start")

    _signed_in_as(page, site, demo, "Verifier")
    queue = page.get_by_role("region", name="Documents to review")
    expect(queue.locator("[data-count=home-review]")).to_have_text("4")
    expect(_cohorts_panel(page)).to_have_count(0)
    checker.look("verifier-start")
    queue.get_by_role("link", name="Open the review queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Documents to review")

    _signed_in_as(page, site, demo, "Auditor")
    trail = page.get_by_role("region", name="Latest in the audit trail")
    expect(trail.get_by_role("listitem")).to_have_count(5)
    expect(_cohorts_panel(page)).to_have_count(0)
    checker.look("auditor-start")
    trail.get_by_role("link", name="Open the audit trail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")

    _signed_in_as(page, site, demo, "Trainer")
    teaching = page.get_by_role("region", name="Teaching")
    expect(teaching.get_by_role("link", name="Take registers")).to_be_visible()
    checker.look("trainer-start")
    teaching.get_by_role("link", name="Take registers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registers")

    checker.assert_clean()


def test_an_admin_changes_who_is_responsible_for_a_cohort(page: Page, site, demo):
    checker = PageChecker(page, "responsible-admins")
    _signed_in_as(page, site, demo, "Super admin")
    _cohorts_panel(page).get_by_role("link", name=RUNNING).last.click()
    card = page.locator("#responsible-admins")
    expect(card.get_by_role("heading", name="Responsible admins")).to_be_visible()
    me = card.get_by_role("checkbox", name=re.compile(r"^Demo Admin"))
    thabo = card.get_by_role("checkbox", name=re.compile(r"^Thabo Nkosi"))
    expect(me).to_be_checked()
    expect(thabo).to_be_checked()
    checker.look("cohort-page")

    me.uncheck()
    thabo.uncheck()
    card.get_by_role("button", name="Save responsible admins").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Responsible admins of")
    expect(page.get_by_role("alert")).to_have_text(
        "Choose at least one responsible admin: someone must be told of declines and "
        "decisions in this cohort."
    )
    checker.look("nobody-refused")

    page.get_by_role("checkbox", name=re.compile(r"^Thabo Nkosi")).check()
    page.get_by_role("button", name="Save responsible admins").click()
    expect(page.get_by_text("The cohort's responsible admins are saved.")).to_be_visible()
    card = page.locator("#responsible-admins")
    expect(card.get_by_role("checkbox", name=re.compile(r"^Thabo Nkosi"))).to_be_checked()
    expect(card.get_by_role("checkbox", name=re.compile(r"^Demo Admin"))).not_to_be_checked()
    checker.look("saved")

    page.goto(site.institution("demo", "/"))
    expect(_cohorts_panel(page).get_by_text("You are responsible")).to_have_count(1)
    checker.assert_clean()


def test_a_new_institution_starts_with_the_first_steps(
    page: Page, site, make_institution, make_person
):
    institution = make_institution("fresh")
    admin = make_person(institution, "admin", name="Nandi Fresh")
    checker = PageChecker(page, "first-steps", structure=True)
    sign_in(page, site.institution(institution.code, "/accounts/login/"), admin.email)
    steps = page.get_by_role("region", name="First steps")
    expect(steps.get_by_role("listitem")).to_have_count(4)
    for link in ("Add a sponsor", "Check the templates", "Create a cohort"):
        expect(steps.get_by_role("link", name=link)).to_be_visible()
    checker.look("admin-start")
    steps.get_by_role("link", name="Create a cohort").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New cohort")
    checker.assert_clean()
