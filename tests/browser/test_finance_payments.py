"""Finance records a partial payment on an issued invoice (oldest first by default), sees it
partly paid and its balance in aged debtors, uploads a bank statement with a bad row (shown by
row, nothing imported), then the good statement whose line settles the invoice, sees it paid,
and matches by hand the line that named no invoice; the reports end with nobody owing."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from finance.models import BankStatementLine, Invoice, InvoiceStatus, StatementLineStatus
from finance.services.invoices import LineInput, Recipient, invoice_draft_create, invoice_issue
from tests.browser.support import PageChecker, sign_in
from tests.finance.support import finance_world

pytestmark = pytest.mark.browser


def _issue(actor, recipient: Recipient, amount: str, issued_on: datetime.date) -> Invoice:
    draft = invoice_draft_create(
        actor=actor,
        recipient=recipient,
        lines=[LineInput(description="Tuition", unit_price=Decimal(amount), vat_applies=False)],
    )
    return invoice_issue(actor=actor, invoice=draft, issued_on=issued_on)


def test_finance_records_payments_and_imports_a_statement(
    page: Page, site, make_institution, make_person, ratelimit_reset, tmp_path: Path
):
    institution = make_institution("payments")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    finance = make_person(institution, SystemRole.FINANCE, name="Fatima Finance")
    today = timezone.localdate()
    with tenant_context(institution):
        world = finance_world(admin)
        sponsors = _issue(
            finance, Recipient(sponsor=world.sponsor), "4500.00", today - datetime.timedelta(40)
        )
        learner = world.learner.learner
        learners = _issue(finance, Recipient(learner=learner), "1000.00", today)
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "finance-payments", structure=True)
    sign_in(page, url("/accounts/login/"), finance.email)

    page.goto(url("/finance/payments/"))
    expect(page.get_by_role("heading", name="Payments", exact=True)).to_be_visible()
    expect(page.get_by_text("No payments yet.")).to_be_visible()
    checker.look("payments-empty")

    # A partial payment: left to the default, it goes to the sponsor's oldest invoice.
    page.get_by_role("link", name="Record a payment").click()
    page.get_by_label("Received from").select_option(label=world.sponsor.company_name)
    checker.look("payment-party")
    page.get_by_role("button", name="Next").click()
    heading = page.get_by_role("heading", name=f"Payment from {world.sponsor.company_name}")
    expect(heading).to_be_visible()
    expect(page.locator(f"[data-open-invoice='{sponsors.number}']")).to_contain_text("4 500,00")
    page.get_by_label("Amount").fill("1500")
    page.get_by_label("Reference").fill("UMOYA DEP 1")
    checker.look("payment-form")
    page.get_by_role("button", name="Record the payment").click()
    expect(page.get_by_text(f"is recorded and set against {sponsors.number}")).to_be_visible()
    row = page.locator(f"[data-allocation='{sponsors.number}']")
    expect(row).to_contain_text("Partially paid")
    checker.look("payment-detail")

    page.goto(url("/finance/reports/aged-debtors/"))
    debtor = page.locator(f"[data-debtor='{world.sponsor.company_name}']")
    expect(debtor).to_contain_text("3 000,00")
    checker.look("aged-debtors")
    debtor.get_by_role("link", name=world.sponsor.company_name).click()
    expect(page.locator(f"[data-debtor-invoice='{sponsors.number}']")).to_contain_text("1–30 days")
    checker.look("aged-debtor")

    # A statement with a bad row is refused whole, naming the row.
    page.goto(url("/finance/statements/"))
    expect(page.get_by_text("No statements imported yet.")).to_be_visible()
    checker.look("statements-empty")
    page.get_by_role("link", name="Import a statement").click()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Date,Description,Reference,Amount\n"
        f"2027-03-05,EFT,{sponsors.number},3000.00\n"
        "31/02/2027,Deposit,,100.00\n"
    )
    page.get_by_label("Bank statement (CSV)").set_input_files(bad)
    page.get_by_role("button", name="Import").click()
    errors = page.get_by_test_id("upload-errors")
    expect(errors).to_contain_text("Nothing was imported")
    expect(errors).to_contain_text("Row 3: the date “31/02/2027” is not a date")
    checker.look("statement-bad-rows")

    good = tmp_path / "march.csv"
    good.write_text(
        "Date;Description;Reference;Amount\n"
        f"{today:%d/%m/%Y};EFT Umoya Mining;{sponsors.number};3 000,00\n"
        f"{today:%d/%m/%Y};Deposit {learner.last_name};CASH;1 000,00\n"
        f"{today:%d/%m/%Y};Bank charges;;-35,50\n"
    )
    page.get_by_label("Bank statement (CSV)").set_input_files(good)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("march.csv is imported: 1 line matched")).to_be_visible()
    expect(page.locator("[data-count='matched']")).to_have_text("1")
    expect(page.locator("[data-count='unmatched']")).to_have_text("1")
    expect(page.locator("[data-count='debits']")).to_have_text("1")
    checker.look("statement-imported")

    # The unmatched line: matched to the learner's invoice by hand.
    waiting = page.locator("[data-waiting-line='3']")
    waiting.get_by_role("combobox", name="Invoice").select_option(
        label=f"{learners.number} · {learner.full_name} · owes R1\u00a0000,00"
    )
    waiting.get_by_role("button", name="Match").click()
    expect(page.get_by_text(f"Row 3 is recorded as a payment of {learners.number}")).to_be_visible()
    expect(page.locator("[data-line='3']")).to_contain_text("Matched by hand")
    expect(page.locator("[data-count='unmatched']")).to_have_text("0")
    checker.look("statement-resolved")

    # The statement's line settled the sponsor's invoice.
    page.locator("[data-line='2']").get_by_role("link", name="Payment").click()
    expect(page.locator(f"[data-allocation='{sponsors.number}']")).to_contain_text("Paid")
    checker.look("statement-payment")

    page.goto(url("/finance/reports/aged-debtors/"))
    expect(page.get_by_text("Nobody owes anything")).to_be_visible()
    page.goto(url("/finance/reports/income/"))
    expect(page.get_by_test_id("income-total")).to_have_text("R5\u00a0500,00")
    checker.look("income")

    with tenant_context(institution):
        sponsors.refresh_from_db()
        learners.refresh_from_db()
        assert sponsors.status == learners.status == InvoiceStatus.PAID
        assert sponsors.amount_paid == Decimal("4500.00")
        assert BankStatementLine.objects.filter(status=StatementLineStatus.RESOLVED).count() == 1
    checker.assert_clean()
