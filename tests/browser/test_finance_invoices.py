"""Finance drafts an invoice to a sponsor with two lines, is told what is wrong with a bad line,
issues it (after the confirmation page), sees its INV- number and no edit controls, credits
part of it with a credit note, and downloads its sealed PDF once the worker has made it. An
admin sees the same invoice read-only. Desktop and phone widths, axe-core on every page."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from finance.models import Invoice
from signing.models import InstitutionCertificate
from signing.sealing import pdf_seal_check
from tests.browser.support import PageChecker, sign_in
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.finance.support import finance_world

pytestmark = pytest.mark.browser


def _pdf_ready(page: Page) -> None:
    """Reload the invoice's page until the worker has made its PDF."""
    link = page.get_by_role("link", name="Download PDF")
    for _ in range(60):
        if link.count():
            return
        page.wait_for_timeout(1000)
        page.reload()
    expect(link).to_be_visible()


def test_finance_issues_credits_and_downloads_an_invoice(
    page: Page, site, make_institution, make_person, ratelimit_reset, media, celery_worker
):
    institution = make_institution("invoicing")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        world = finance_world(admin, learners=2)
        finance_email = world.finance.email
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "finance-invoices", structure=True)

    sign_in(page, url("/accounts/login/"), finance_email, FACTORY_PASSWORD)
    page.goto(url("/finance/invoices/"))
    expect(page.get_by_text("No invoices yet.")).to_be_visible()
    checker.look("empty-list")

    page.get_by_role("link", name="Draft an invoice").click()
    expect(page.get_by_role("heading", name="Draft an invoice")).to_be_visible()
    page.get_by_label("Recipient").select_option(label="Umoya Mining (Pty) Ltd")
    page.get_by_label("Their reference").fill("PO 2027-17")
    page.get_by_label("Line 1: description").fill("Tuition, first term")
    page.get_by_label("Line 1: unit price").fill("4500")
    page.get_by_label("Line 2: description").fill("Assessment fee")
    page.get_by_label("Line 2: unit price").fill("-350")
    checker.look("draft-form")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Give a price of 0 or more.")).to_be_visible()
    checker.look("draft-form-error")

    page.get_by_label("Line 2: unit price").fill("350")
    page.locator("#id_lines-1-vat_applies").uncheck()
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Draft invoice")).to_be_visible()
    expect(page.locator("[data-total]")).to_have_text("R5\u00a0525,00")
    checker.look("draft")

    page.get_by_role("link", name="Issue…").click()
    expect(page.get_by_text("It can no longer be edited or deleted")).to_be_visible()
    checker.look("issue-confirm")
    page.get_by_role("button", name="Issue invoice").click()
    heading = page.get_by_role("heading", name="Invoice INV-")
    expect(heading).to_be_visible()
    number = heading.inner_text().removeprefix("Invoice ").strip()
    expect(page.get_by_role("link", name="Edit draft")).to_have_count(0)
    expect(page.get_by_role("link", name="Delete draft…")).to_have_count(0)
    checker.look("issued")
    _pdf_ready(page)

    page.get_by_role("link", name="Credit…").click()
    expect(page.get_by_role("heading", name=f"Credit {number}")).to_be_visible()
    page.get_by_label("Credit line 1").uncheck()
    page.get_by_label("Why it is credited").fill("Assessment waived")
    checker.look("credit-form")
    page.get_by_role("button", name="Draft the credit note").click()
    expect(page.get_by_role("heading", name="Draft credit note")).to_be_visible()
    page.get_by_role("link", name="Issue…").click()
    page.get_by_role("button", name="Issue credit note").click()
    expect(page.get_by_role("heading", name="Credit note CN-")).to_be_visible()
    checker.look("credit-note")

    page.get_by_role("link", name=number).first.click()
    expect(page.get_by_text("Partially paid")).to_be_visible()
    expect(page.locator("[data-credited]")).to_have_text("R350,00")
    expect(page.locator("[data-balance]")).to_have_text("R5\u00a0175,00")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename == f"{number}.pdf"
    pdf = Path(download.value.path()).read_bytes()
    with tenant_context(institution):
        certificates = list(InstitutionCertificate.objects.all())
        invoice = Invoice.objects.get(number=number)
        assert invoice.emailed_at is not None
    # pyHanko checks in an event loop of its own: not in the one Playwright runs in this thread.
    with ThreadPoolExecutor(max_workers=1) as thread:
        assert thread.submit(pdf_seal_check, pdf, certificates=certificates).result().ok
    checker.look("partly-credited")

    page.goto(url("/finance/fees/"))
    expect(page.get_by_role("heading", name="Fees owed")).to_be_visible()
    checker.look("fees-owed")
    page.goto(url("/finance/settings/"))
    expect(page.get_by_text("1 March 2026 – 28 February 2027 is 2027")).to_be_visible()
    checker.look("settings")

    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), admin.email)
    page.goto(url(f"/finance/invoices/{invoice.pk}/"))
    expect(page.get_by_role("heading", name=f"Invoice {number}")).to_be_visible()
    expect(page.get_by_role("link", name="Download PDF")).to_be_visible()
    for name in ("Credit…", "Void…", "Edit draft"):
        expect(page.get_by_role("link", name=name)).to_have_count(0)
    expect(page.get_by_role("button", name="E-mail again")).to_have_count(0)
    checker.look("admin-read-only")
    page.goto(url("/finance/invoices/"))
    expect(page.get_by_role("link", name="Draft an invoice")).to_have_count(0)
    checker.look("admin-list")
    checker.assert_clean()
