"""Finance's month in one journey, through the menu and the pages: a finance user drafts an
invoice to the cohort's sponsor with two lines and issues it after the confirmation page;
records a partial payment against it (a first try that sets more against the invoice than it
owes is refused with the reason); sees the invoice partially paid with its balance, and the
sponsor owing that balance in aged debtors; imports a bank statement whose line names the
invoice and pays the balance (the same file again is refused), and sees the invoice paid;
then opens the broker's commission statement for the month (the commission accrued when the
learner's placement was confirmed) and downloads its sealed PDF. Desktop and phone widths,
axe-core on every page. With SCREENSHOTS=1 the pages are saved under screenshots/
(finance-journey-*.png)."""

import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from finance.models import (
    BankStatementImport,
    Commission,
    Invoice,
    InvoiceStatus,
    Payment,
    StatementLineStatus,
)
from placements.models import Placement
from placements.signals import placement_confirmed
from signing.models import InstitutionCertificate
from signing.sealing import pdf_seal_check
from tests.browser.support import PageChecker, sign_in
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.finance.support import finance_world

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]

SPONSOR = "Umoya Mining (Pty) Ltd"


def navigate(page: Page, name: str, *, menu: str = "Finance") -> None:
    """Follow a link of the navigation bar's `menu` (opening the bar first on a phone)."""
    bar = page.get_by_role("navigation", name="Main")
    toggler = bar.get_by_role("button", name="Menu")
    if toggler.is_visible():
        toggler.click()
    bar.get_by_role("button", name=menu, exact=True).click()
    bar.get_by_role("link", name=name, exact=True).click()


def test_an_invoice_to_the_sponsor_is_paid_in_part_then_settled_by_the_bank_statement(
    page: Page, site, make_institution, make_person, tmp_path: Path
):
    institution = make_institution("journey")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    today = timezone.localdate()
    with tenant_context(institution):
        world = finance_world(admin)
        # The learner's placement confirmed: finance's receiver accrues the broker's R750.
        placement = world.learner.placement
        with transaction.atomic():
            placement_confirmed.send(sender=Placement, placement=placement, actor=admin)
        assert Commission.objects.get(partner=world.broker).amount == Decimal("750.00")
        finance_email = world.finance.email
        learner_name = world.learner.learner.full_name
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "finance-journey", structure=True)

    # The invoice: drafted with two lines, issued after the confirmation page.
    sign_in(page, url("/accounts/login/"), finance_email, FACTORY_PASSWORD)
    navigate(page, "Invoices")
    expect(page.get_by_text("No invoices yet.")).to_be_visible()
    checker.look("invoices-empty")
    page.get_by_role("link", name="Draft an invoice").click()
    page.get_by_label("Recipient").select_option(label=SPONSOR)
    page.get_by_label("Their reference").fill("PO 2027-31")
    page.get_by_label("Line 1: description").fill("Tuition, first term")
    page.get_by_label("Line 1: unit price").fill("4000")
    page.get_by_label("Line 2: description").fill("Assessment fee")
    page.get_by_label("Line 2: unit price").fill("400")
    page.locator("#id_lines-1-vat_applies").uncheck()
    checker.look("draft-form")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="Draft invoice")).to_be_visible()
    # R4 000 with VAT at 15% and R400 without.
    expect(page.locator("[data-total]")).to_have_text("R5\u00a0000,00")
    checker.look("draft")
    page.get_by_role("link", name="Issue…").click()
    expect(page.get_by_text("It can no longer be edited or deleted")).to_be_visible()
    checker.look("issue-confirm")
    page.get_by_role("button", name="Issue invoice").click()
    heading = page.get_by_role("heading", name="Invoice INV-")
    expect(heading).to_be_visible()
    number = heading.inner_text().removeprefix("Invoice ").strip()
    expect(page.locator("[data-balance]")).to_have_text("R5\u00a0000,00")
    checker.look("issued")

    # A payment of R2 000: setting R6 000 against the invoice is refused, with the reason.
    navigate(page, "Payments")
    page.get_by_role("link", name="Record a payment").click()
    page.get_by_label("Received from").select_option(label=SPONSOR)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name=f"Payment from {SPONSOR}")).to_be_visible()
    owed = page.locator(f"[data-open-invoice='{number}']")
    expect(owed).to_contain_text("5\u00a0000,00")
    page.get_by_label("Amount").fill("6000")
    page.get_by_label("Reference").fill("UMOYA DEP 1")
    page.get_by_label(f"For {number}").fill("6000")
    page.get_by_role("button", name="Record the payment").click()
    refusal = f"{number} still owes R5\u00a0000,00: R6\u00a0000,00 is more than that."
    expect(page.get_by_test_id("refusal")).to_have_text(refusal)
    checker.look("payment-refused")
    with tenant_context(institution):
        assert not Payment.objects.exists()
    page.get_by_label("Amount").fill("2000")
    page.get_by_label(f"For {number}").fill("2000")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.get_by_text(f"is recorded and set against {number}")).to_be_visible()
    expect(page.locator(f"[data-allocation='{number}']")).to_contain_text("Partially paid")
    checker.look("payment")

    # The invoice partially paid, and the sponsor owing its balance in aged debtors.
    navigate(page, "Invoices")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=f"Invoice {number}")).to_be_visible()
    expect(page.get_by_text("Partially paid")).to_be_visible()
    expect(page.locator("[data-balance]")).to_have_text("R3\u00a0000,00")
    expect(page.get_by_text("(reference UMOYA DEP 1)")).to_be_visible()
    checker.look("partially-paid")
    navigate(page, "Aged debtors")
    debtor = page.locator(f"[data-debtor='{SPONSOR}']")
    expect(debtor).to_contain_text("R3\u00a0000,00")
    expect(page.get_by_test_id("aged-total")).to_contain_text("R3\u00a0000,00")
    checker.look("aged-debtors")

    # The bank statement: its line names the invoice and pays the balance.
    navigate(page, "Bank statements")
    page.get_by_role("link", name="Import a statement").click()
    statement = tmp_path / "umoya.csv"
    statement.write_text(
        "Date,Description,Reference,Amount\n"
        f"{today:%Y-%m-%d},EFT Umoya Mining,{number},3000.00\n"
        f"{today:%Y-%m-%d},Bank charges,,-42.00\n"
    )
    page.get_by_label("Bank statement (CSV)").set_input_files(statement)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("umoya.csv is imported: 1 line matched")).to_be_visible()
    expect(page.locator("[data-count='matched']")).to_have_text("1")
    expect(page.locator("[data-count='unmatched']")).to_have_text("0")
    expect(page.locator("[data-count='debits']")).to_have_text("1")
    expect(page.locator("[data-line='2']")).to_contain_text("Matched")
    checker.look("statement-imported")

    # The same file again is refused, and nothing more is imported.
    navigate(page, "Bank statements")
    page.get_by_role("link", name="Import a statement").click()
    page.get_by_label("Bank statement (CSV)").set_input_files(statement)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_test_id("upload-errors")).to_contain_text(
        "This statement was already imported"
    )
    expect(page.get_by_test_id("upload-errors")).to_contain_text("nothing was imported again")
    checker.look("statement-again")
    with tenant_context(institution):
        assert BankStatementImport.objects.count() == 1

    navigate(page, "Invoices")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=f"Invoice {number}")).to_be_visible()
    expect(page.locator(".badge").filter(has_text=re.compile("^Paid$"))).to_be_visible()
    expect(page.locator("[data-balance]")).to_have_text("R0,00")
    checker.look("paid")
    navigate(page, "Aged debtors")
    expect(page.get_by_text("Nobody owes anything")).to_be_visible()

    # The broker's commission statement for the month, and its sealed PDF.
    navigate(page, "Commissions")
    owing = page.get_by_test_id("owed")
    expect(owing.get_by_role("row", name="Bridge Placements")).to_contain_text("R750,00")
    checker.look("commissions")
    owing.get_by_role("link", name="Statements of Bridge Placements").click()
    page.get_by_role("link", name=f"{today:%B %Y}").click()
    expect(page.get_by_role("heading", name=f"Commission statement, {today:%B %Y}")).to_be_visible()
    expect(page.get_by_role("row", name=learner_name)).to_contain_text("per placement confirmed")
    expect(page.get_by_test_id("closing")).to_have_text("R750,00")
    checker.look("commission-statement")
    with page.expect_download() as download:
        page.get_by_test_id("statement-pdf").click()
    assert download.value.suggested_filename == f"commission-statement-BR-001-{today:%Y-%m}.pdf"
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")

    with tenant_context(institution):
        certificates = list(InstitutionCertificate.objects.all())
        invoice = Invoice.objects.get(number=number)
        assert invoice.status == InvoiceStatus.PAID
        assert invoice.amount_paid == Decimal("5000.00")
        assert Payment.objects.count() == 2
        line = BankStatementImport.objects.get().lines.get(row_number=2)
        assert line.status == StatementLineStatus.MATCHED
    # pyHanko checks in an event loop of its own: not in the one Playwright runs in this thread.
    with ThreadPoolExecutor(max_workers=1) as thread:
        assert thread.submit(pdf_seal_check, pdf, certificates=certificates).result().ok
    checker.assert_clean()
