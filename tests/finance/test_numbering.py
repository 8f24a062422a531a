"""Invoice numbers: gapless and unique per kind and financial year under concurrent issuing (on
real, committed PostgreSQL connections), given only when issued, and named by the financial
year the institution's start month makes."""

import datetime
import secrets
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django_tenants.utils import tenant_context

from accounts.models import SystemRole, User
from finance.models import FinanceSettings, Invoice, InvoiceStatus
from finance.services.invoices import LineInput, Recipient, invoice_draft_create, invoice_issue
from finance.services.numbering import document_number, financial_year_of, number_take
from sponsors.models import Sponsor
from tenants.services import institution_provision

ISSUES = 50
THREADS = 10


@pytest.mark.parametrize(
    ("day", "start_month", "year"),
    [
        (datetime.date(2026, 12, 7), 3, 2027),
        (datetime.date(2027, 2, 28), 3, 2027),
        (datetime.date(2027, 3, 1), 3, 2028),
        (datetime.date(2026, 12, 7), 1, 2026),
        (datetime.date(2026, 6, 30), 7, 2026),
        (datetime.date(2026, 7, 1), 7, 2027),
    ],
)
def test_the_financial_year_is_named_by_the_year_it_ends_in(day, start_month, year):
    assert financial_year_of(day, start_month=start_month) == year


def test_numbers_read_like_the_institutions_documents():
    assert document_number("invoice", 2027, 42) == "INV-2027-00042"
    assert document_number("credit_note", 2027, 7) == "CN-2027-00007"


def _number_taken_then_rolled_back() -> None:
    with transaction.atomic():
        number_take(kind="invoice", financial_year=2027)
        raise RuntimeError("rolled back")


def test_fifty_concurrent_issues_take_fifty_gapless_numbers(committed_db):
    unique = secrets.token_hex(4)
    institution = institution_provision(
        name="Concurrent Invoicing College",
        code=f"invoicing-{unique}",
        admin_email=f"head@invoicing-{unique}.example",
    )
    with tenant_context(institution):
        finance = User.objects.create_user(
            email=f"finance-{unique}@example.org", full_name="Fay", roles=[SystemRole.FINANCE]
        )
        sponsor = Sponsor.objects.create(
            company_name="Umoya", contact_name="Thandi", contact_email="t@umoya.example"
        )
        FinanceSettings.objects.create(pk=1, financial_year_start_month=3)
        drafts = [
            invoice_draft_create(
                actor=finance,
                recipient=Recipient(sponsor=sponsor),
                lines=[LineInput(description="Tuition", unit_price=Decimal("100.00"))],
            )
            for _ in range(ISSUES)
        ]
        # A number taken by an issue that then rolls back is given back.
        with pytest.raises(RuntimeError):
            _number_taken_then_rolled_back()

    barrier = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def issue(batch: list[Invoice]) -> None:
        try:
            connection.set_tenant(institution)
            barrier.wait(timeout=30)
            for draft in batch:
                invoice_issue(actor=finance, invoice=draft, issued_on=datetime.date(2026, 12, 7))
        except BaseException as failure:  # noqa: BLE001 (reported by the test below)
            failures.append(failure)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=(drafts[n::THREADS],)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []

    with tenant_context(institution):
        issued = Invoice.objects.filter(status=InvoiceStatus.ISSUED)
        sequences = sorted(issued.values_list("sequence", flat=True))
        assert sequences == list(range(1, ISSUES + 1))
        assert set(issued.values_list("financial_year", flat=True)) == {2027}
        numbers = set(issued.values_list("number", flat=True))
        assert numbers == {f"INV-2027-{n:05d}" for n in range(1, ISSUES + 1)}
