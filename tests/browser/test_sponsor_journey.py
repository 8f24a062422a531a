"""The sponsor's part of a cohort, in Chromium: an admin adds a sponsor, chooses it on the cohort
page and invites it; the sponsor opens the link from the e-mail, with no account, reads the
cohort's summary and the agreement, and signs or declines with a reason; the admin sees the
sponsor's status change on the cohort page and is e-mailed. A declined agreement can be sent
again, and an admin can revoke an open link: an old link then says why it no longer works.

E-mail goes through the real outbox and Celery worker into the development mail store (Django's
file-based backend), which the test reads as the sponsor would read their inbox. With
SCREENSHOTS=1 every page passed through is saved under screenshots/:
`SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_sponsor_journey.py -p no:xdist`.
"""

import email
import email.policy
import re
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Browser, Page, expect

from accounts.models import SystemRole, User
from enrolments.services import enrollment_invite
from signing.models import Submitter
from sponsors.services import cohort_sponsor_set, sponsor_create
from tenants.models import Institution
from tests.browser.support import DESKTOP, PageChecker, draw_signature, sign_in
from tests.factories import CohortFactory

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset", "celery_worker")]

SIGNING_LINK = re.compile(r"http://\S+/sign/[\w-]+/")
# What the file-based backend writes after each message.
SEPARATOR = b"\n" + b"-" * 79 + b"\n"


@pytest.fixture
def mail_store(settings, tmp_path) -> Path:
    """The development mail store, in a directory of the test's own. The worker thread sends
    with these settings too: it runs in this process."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    return tmp_path / "mail"


def _stored_messages(store: Path) -> list[EmailMessage]:
    """Every message written to the store so far; one still being written is left out."""
    messages = []
    for path in sorted(store.glob("*.log")):
        for chunk in path.read_bytes().split(SEPARATOR)[:-1]:
            messages.append(email.message_from_bytes(chunk, policy=email.policy.default))
    return messages


def _text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def wait_for_stored_mail(
    store: Path, to: str, subject: str, *, unless: Callable[[EmailMessage], bool] = lambda m: False
) -> EmailMessage:
    """The first message to `to` whose subject contains `subject`, skipping those `unless`
    says were already seen; waits for the worker to send it."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in _stored_messages(store):
            if to in message["To"] and subject in message["Subject"] and not unless(message):
                return message
        time.sleep(0.1)
    seen = [(m["To"], m["Subject"]) for m in _stored_messages(store)]
    raise AssertionError(f"No e-mail to {to} about {subject!r} in the mail store; saw {seen}")


def _signing_link(message: EmailMessage) -> str:
    return SIGNING_LINK.search(_text(message)).group(0)


@pytest.fixture
def journey(site, make_institution, make_person, mail_store, unique) -> dict:
    """An institution with an admin and a draft cohort of two invited students. The cohort's
    name has an ampersand and an apostrophe, which e-mails must show as typed."""
    institution = make_institution("sponsor")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        cohort = CohortFactory(name=f"Smith & O'Neil Learnership {unique}", signed=True)
        for name in ["Thandi Mokoena", "Lerato Nkosi"]:
            enrollment_invite(
                cohort=cohort, actor=admin, full_name=name,
                email=f"{name.split()[0].lower()}-{unique}@example.org",
            )  # fmt: skip
    return {
        "institution": institution,
        "admin": admin,
        "cohort": cohort,
        "url": lambda path="/": site.institution(institution.code, path),
        "dashboard": site.institution(institution.code, f"/cohorts/{cohort.pk}/"),
        "store": mail_store,
        "contact": f"sipho-{unique}@ubuntu.example",
    }


def _sponsor_chosen(journey: dict) -> None:
    """The journey's cohort with Ubuntu Mining chosen as its sponsor (not yet invited)."""
    institution: Institution = journey["institution"]
    admin: User = journey["admin"]
    with tenant_context(institution):
        sponsor = sponsor_create(
            actor=admin, company_name="Ubuntu Mining", contact_name="Sipho Dlamini",
            contact_email=journey["contact"],
        )  # fmt: skip
        cohort_sponsor_set(cohort=journey["cohort"], sponsor=sponsor, actor=admin)


def _sponsor_page(browser: Browser) -> Page:
    """A browser of the sponsor's own: no cookies, no session, nothing shared with the admin."""
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.set_default_timeout(10_000)
    return page


def _invite(page: Page, journey: dict, button: str = "Invite to sign") -> None:
    card = page.locator("#sponsor")
    card.get_by_role("button", name=button).click()
    expect(page.get_by_role("alert")).to_contain_text("The sponsor has been e-mailed a link")
    expect(card.get_by_text("Invited", exact=True)).to_be_visible()
    expect(card).to_contain_text(f"The link was sent to {journey['contact']}.")


def test_sponsor_signs_from_the_emailed_link_and_the_admin_sees_it(
    page: Page, browser: Browser, journey: dict, unique
):
    url, store, contact = journey["url"], journey["store"], journey["contact"]
    cohort = journey["cohort"]
    admin_pages = PageChecker(page, "sponsor-admin", structure=True)

    # --- The admin adds the sponsor.
    sign_in(page, url("/accounts/login/"), journey["admin"].email)
    page.get_by_role("navigation").get_by_role("link", name="Sponsors").click()
    expect(page.get_by_role("heading", name="Sponsors")).to_be_visible()
    page.get_by_role("link", name="New sponsor").first.click()
    page.get_by_label("Company name").fill("Ubuntu Mining")
    page.get_by_label("Contact name").fill("Sipho Dlamini")
    page.get_by_label("Contact email").fill(contact.upper())
    page.get_by_label("Contact phone").fill("+27 11 555 0100")
    admin_pages.look("sponsor-new")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("alert")).to_contain_text("Ubuntu Mining added.")
    expect(page.get_by_text(contact)).to_be_visible()

    # --- Chooses it on the cohort page and invites it to sign.
    page.goto(journey["dashboard"])
    card = page.locator("#sponsor")
    expect(card.get_by_text("No sponsor chosen.")).to_be_visible()
    card.get_by_label("Sponsor").select_option(label="Ubuntu Mining")
    card.get_by_role("button", name="Save sponsor").click()
    expect(page.get_by_role("alert")).to_contain_text("Sponsor saved.")
    expect(card.get_by_text("Not invited", exact=True)).to_be_visible()
    admin_pages.look("cohort-sponsor-chosen")
    _invite(page, journey)
    expect(card.get_by_role("link", name="Revoke the link…")).to_be_visible()
    admin_pages.look("cohort-sponsor-invited")

    # --- The sponsor opens the link from their e-mail, with no account and no session.
    invitation = wait_for_stored_mail(store, contact, "Please sign")
    link = _signing_link(invitation)
    assert link.startswith(url("/sign/")), link
    assert "Sipho Dlamini" in _text(invitation)
    sponsor = _sponsor_page(browser)
    sponsor_pages = PageChecker(sponsor, "sponsor-signs", structure=True)
    sponsor.goto(link)
    expect(sponsor.get_by_text("signing as the sponsor")).to_be_visible()
    summary = sponsor.locator(".card").filter(has=sponsor.get_by_role("heading", name=cohort.name))
    expect(summary).to_contain_text("Learnership")
    expect(summary).to_contain_text("1 Feb 2027 – 30 Nov 2027")
    expect(summary).to_contain_text("2 enrolled, 0 complete")
    expect(sponsor.get_by_label("The agreement")).to_contain_text("By signing, each party accepts")
    expect(sponsor.get_by_role("link", name="Download the PDF")).to_be_visible()
    expect(sponsor.get_by_role("button", name="Decline")).to_be_visible()
    sponsor_pages.look("sign")

    # Signing needs consent: without it the top of the page says so, and the drawing is kept.
    draw_signature(sponsor)
    sponsor.get_by_role("button", name="Sign", exact=True).click()
    problems = sponsor.locator("#form-problems")
    expect(problems).to_contain_text("You have not signed yet.")
    expect(problems).to_contain_text("Tick the box to agree to sign electronically.")
    expect(problems).to_be_in_viewport()
    expect(sponsor.get_by_label("Draw it")).to_be_checked()
    sponsor_pages.look("sign-no-consent")
    sponsor.locator("#id_consent").check()
    sponsor.get_by_role("button", name="Sign", exact=True).click()
    expect(sponsor.get_by_role("heading", name="Thank you, you have signed")).to_be_visible()
    sponsor_pages.look("signed")
    with tenant_context(journey["institution"]):
        signer = Submitter.objects.get(email=contact, role="sponsor")
        assert signer.signature_image  # the drawing sent again after the error
        assert signer.signature_text == ""

    # The link has done its work.
    sponsor.goto(link)
    expect(
        sponsor.get_by_role("heading", name="This signing link has already been used")
    ).to_be_visible()
    sponsor_pages.look("link-used")

    # --- The admin sees the status change and has an e-mail saying so.
    page.reload()
    expect(card.get_by_text("Signed", exact=True)).to_be_visible()
    expect(card.get_by_role("button", name=re.compile("Invite|fresh link"))).to_have_count(0)
    expect(card.get_by_role("link", name="Revoke the link…")).to_have_count(0)
    admin_pages.look("cohort-sponsor-signed")
    card.get_by_role("link", name="View the signed agreement").click()
    expect(page.get_by_role("heading", name=cohort.main_template.title)).to_be_visible()
    expect(page.get_by_role("link", name="Signed PDF")).to_be_visible()
    page.go_back()
    outcome = wait_for_stored_mail(store, journey["admin"].email, "signed the agreement")
    assert outcome["Subject"] == f"Ubuntu Mining signed the agreement for {cohort.name}"
    assert f"has signed the sponsor agreement for {cohort.name}." in _text(outcome)
    assert journey["dashboard"] in _text(outcome)

    sponsor_pages.assert_clean()
    admin_pages.assert_clean()


def test_sponsor_declines_with_a_reason_and_is_invited_again(
    page: Page, browser: Browser, journey: dict
):
    url, store, contact = journey["url"], journey["store"], journey["contact"]
    cohort = journey["cohort"]
    _sponsor_chosen(journey)
    admin_pages = PageChecker(page, "sponsor-decline-admin", structure=True)
    sign_in(page, url("/accounts/login/"), journey["admin"].email)
    page.goto(journey["dashboard"])
    card = page.locator("#sponsor")
    _invite(page, journey)
    first_link = _signing_link(wait_for_stored_mail(store, contact, "Please sign"))

    # --- The sponsor declines; a reason is required.
    sponsor = _sponsor_page(browser)
    sponsor_pages = PageChecker(sponsor, "sponsor-declines", structure=True)
    sponsor.goto(first_link)
    sponsor.get_by_role("button", name="Decline").click()
    expect(sponsor.locator("#id_reason")).to_have_class(re.compile("is-invalid"))
    sponsor_pages.look("decline-no-reason")
    reason = "Our 2027 training budget was cut & we can't fund this cohort."
    sponsor.get_by_label("Why do you decline?").fill(reason)
    sponsor.get_by_role("button", name="Decline").click()
    expect(sponsor.get_by_role("heading", name="You have declined")).to_be_visible()
    sponsor_pages.look("declined")

    # --- The admin sees why, and is e-mailed.
    page.reload()
    expect(card.get_by_text("Declined", exact=True)).to_be_visible()
    expect(card).to_contain_text(f"Reason: {reason}")
    admin_pages.look("cohort-sponsor-declined")
    outcome = wait_for_stored_mail(store, journey["admin"].email, "declined the agreement")
    assert f"Their reason: {reason}" in _text(outcome)
    assert outcome["Subject"] == f"Ubuntu Mining declined the agreement for {cohort.name}"

    # --- Invited again, the sponsor gets a new link; the old one says it was used.
    _invite(page, journey, button="Invite again")
    second = wait_for_stored_mail(
        store, contact, "Please sign", unless=lambda m: _signing_link(m) == first_link
    )
    second_link = _signing_link(second)
    sponsor.goto(first_link)
    expect(
        sponsor.get_by_role("heading", name="This signing link has already been used")
    ).to_be_visible()
    expect(sponsor.get_by_text("You have already declined this agreement.")).to_be_visible()
    sponsor_pages.look("old-link-used")
    sponsor.goto(second_link)
    expect(sponsor.get_by_role("button", name="Sign", exact=True)).to_be_visible()
    expect(sponsor.get_by_label("Why do you decline?")).to_have_value("")

    sponsor_pages.assert_clean()
    admin_pages.assert_clean()


def test_admin_revokes_the_link_and_it_says_so(page: Page, browser: Browser, journey: dict):
    url, store, contact = journey["url"], journey["store"], journey["contact"]
    _sponsor_chosen(journey)
    admin_pages = PageChecker(page, "sponsor-revoke-admin", structure=True)
    sign_in(page, url("/accounts/login/"), journey["admin"].email)
    page.goto(journey["dashboard"])
    card = page.locator("#sponsor")
    _invite(page, journey)
    link = _signing_link(wait_for_stored_mail(store, contact, "Please sign"))

    # --- Revoking asks first; going back changes nothing.
    card.get_by_role("link", name="Revoke the link…").click()
    expect(page.get_by_role("heading", name="Revoke the sponsor's link")).to_be_visible()
    expect(page.get_by_text(contact)).to_be_visible()
    admin_pages.look("revoke-confirm")
    page.get_by_role("link", name="Back").click()
    expect(card.get_by_text("Invited", exact=True)).to_be_visible()
    card.get_by_role("link", name="Revoke the link…").click()
    page.get_by_role("button", name="Revoke the link").click()
    expect(page.get_by_role("alert")).to_contain_text("The sponsor's link is revoked")
    expect(card.get_by_text("Link revoked", exact=True)).to_be_visible()
    expect(card.get_by_role("button", name="Invite again")).to_be_visible()
    expect(card.get_by_role("link", name="Revoke the link…")).to_have_count(0)
    admin_pages.look("cohort-sponsor-revoked")

    # --- The sponsor's link now says it was withdrawn, and offers no new one.
    sponsor = _sponsor_page(browser)
    sponsor_pages = PageChecker(sponsor, "sponsor-revoked", structure=True)
    sponsor.goto(link)
    expect(
        sponsor.get_by_role("heading", name="This signing link has been withdrawn")
    ).to_be_visible()
    expect(sponsor.get_by_text("there is nothing left to sign")).to_be_visible()
    expect(sponsor.get_by_role("button", name="Send me a new link")).to_have_count(0)
    sponsor_pages.look("link-revoked")

    sponsor_pages.assert_clean()
    admin_pages.assert_clean()
