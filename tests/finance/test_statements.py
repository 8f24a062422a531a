"""Bank statement imports: reading the CSVs banks export (heading spellings, both date formats,
comma or dot cents, semicolons), debits skipped and counted, a file with bad rows refused whole
naming each row, the same file refused twice (audited), credits matched by the invoice number in
their reference or description (the rest of an over-payment kept as credit), and the lines that
need a person matched by hand or set aside."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from finance.models import (
    BankStatementImport,
    BankStatementLine,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    StatementLineStatus,
)
from finance.services.allocations import payment_unallocated
from finance.services.statements import (
    statement_amount,
    statement_import,
    statement_line_ignore,
    statement_line_match,
    statement_parse,
)
from tests.finance.support import finance_world
from tests.finance.support_payments import issued

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return finance_world(admin)


def csv_bytes(*rows: str, header: str = "Date,Description,Reference,Amount") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("4500.00", Decimal("4500.00")),
        ("4 500,00", Decimal("4500.00")),
        ("1,234.56", Decimal("1234.56")),
        ("1.234,56", Decimal("1234.56")),
        ("-35.50", Decimal("-35.50")),
        ("R 200", Decimal("200")),
        ("(12.00)", Decimal("-12.00")),
        ("twelve", None),
        ("", None),
    ],
)
def test_amounts_as_banks_write_them(text, amount):
    assert statement_amount(text) == amount


def test_a_good_file_is_read_with_debits_counted():
    parsed = statement_parse(
        "\ufeffTransaction Date;Details;Their reference;Amount (ZAR)\n"
        "2027-03-05;EFT Umoya;INV-2027-00001;4 500,00\n"
        "06/03/2027;Bank charges;;-35,50\n"
        "\n"
        "07/03/2027;Interest;;1,20\n".encode()
    )
    assert [(row.row_number, row.posted_on, row.amount) for row in parsed.credits] == [
        (2, datetime.date(2027, 3, 5), Decimal("4500.00")),
        (5, datetime.date(2027, 3, 7), Decimal("1.20")),
    ]
    assert parsed.credits[0].reference == "INV-2027-00001"
    assert parsed.debits == 1


def test_a_file_with_bad_rows_is_refused_whole_naming_each(world):
    content = csv_bytes(
        "2027-03-05,EFT,INV-2027-00001,100.00",
        "31/02/2027,EFT,,100.00",
        "2027-03-07,EFT,,abc",
    )
    with pytest.raises(ValidationError) as refused:
        statement_import(actor=world.finance, content=content, file_name="march.csv")
    messages = refused.value.messages
    assert messages[0].startswith("Nothing was imported")
    assert messages[1].startswith("Row 3: the date “31/02/2027” is not a date")
    assert messages[2] == "Row 4: the amount “abc” is not an amount."
    assert not BankStatementImport.objects.exists()
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a CSV file"),
        (b"%PDF-1.7\n...", "not a CSV file"),
        (b"Date,Amount\n2027-03-01,5\n", "missing: description or reference"),
        (b"When,What,Reference\n2027-03-01,x,y\n", "missing: date, amount"),
        (b"Date,Description,Reference,Amount\n", "no lines"),
    ],
)
def test_files_that_are_not_statements_are_refused(content, message):
    with pytest.raises(ValidationError, match=message):
        statement_parse(content)


def test_credits_are_matched_by_the_invoice_number_in_reference_or_description(world):
    by_reference, in_description = issued(world, "4500.00"), issued(world, "1000.00")
    overpaid, unknown_payer = issued(world, "300.00"), issued(world, "50.00")
    content = csv_bytes(
        f"2027-03-05,EFT Umoya Mining,{by_reference.number},4500.00",
        f"2027-03-06,Payment for {in_description.number.lower()} thanks,UMOYA,400.00",
        f"2027-03-07,EFT,{overpaid.number},500.00",
        "2027-03-08,Deposit,CASH,250.00",
        "2027-03-09,Bank charges,,-35.50",
    )
    statement = statement_import(actor=world.finance, content=content, file_name="march.csv")
    assert statement.debits_skipped == 1
    lines = {line.row_number: line for line in statement.lines.all()}
    assert [lines[n].status for n in (2, 3, 4, 5)] == [
        StatementLineStatus.MATCHED,
        StatementLineStatus.MATCHED,
        StatementLineStatus.MATCHED,
        StatementLineStatus.UNMATCHED,
    ]
    for invoice in (by_reference, in_description, overpaid, unknown_payer):
        invoice.refresh_from_db()
    assert by_reference.status == InvoiceStatus.PAID
    assert in_description.status == InvoiceStatus.PARTIALLY_PAID
    assert in_description.balance == Decimal("600.00")
    assert overpaid.status == InvoiceStatus.PAID
    assert unknown_payer.status == InvoiceStatus.ISSUED
    payment = lines[2].payment
    assert payment.status == PaymentStatus.COMPLETED
    assert payment.sponsor == world.sponsor
    assert payment.method == "eft"
    assert payment.reference == by_reference.number
    assert payment.paid_on == datetime.date(2027, 3, 5)
    # The over-payment's rest stays on its payment as the sponsor's credit.
    assert payment_unallocated(lines[4].payment) == Decimal("200.00")
    event = AuditEvent.objects.get(action="bank_statement.imported")
    assert event.new_values["matched"] == 3
    assert event.new_values["debits_skipped"] == 1


def test_a_second_line_for_a_settled_invoice_needs_a_person(world):
    invoice = issued(world, "100.00")
    statement = statement_import(
        actor=world.finance,
        content=csv_bytes(
            f"2027-03-05,EFT,{invoice.number},100.00", f"2027-03-06,EFT,{invoice.number},100.00"
        ),
        file_name="twice.csv",
    )
    assert list(statement.lines.values_list("status", flat=True)) == [
        StatementLineStatus.MATCHED,
        StatementLineStatus.UNMATCHED,
    ]


def test_the_same_file_is_refused_twice_and_audited(world):
    content = csv_bytes("2027-03-05,Interest,,1.00")
    first = statement_import(actor=world.finance, content=content, file_name="a.csv")
    with pytest.raises(ValidationError, match="already imported"):
        statement_import(actor=world.finance, content=content, file_name="b.csv")
    event = AuditEvent.objects.get(action="bank_statement.import.refused")
    assert event.entity_id == str(first.pk)
    assert BankStatementImport.objects.count() == 1


def test_only_finance_imports(world):
    with pytest.raises(PermissionDenied):
        statement_import(
            actor=world.admin, content=csv_bytes("2027-03-05,x,,1.00"), file_name="a.csv"
        )
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="bank_statement.import"
    ).exists()


def _waiting(world, amount: str = "700.00") -> BankStatementLine:
    statement = statement_import(
        actor=world.finance,
        content=csv_bytes(f"2027-03-05,Deposit Umoya,UMOYA MARCH,{amount}"),
        file_name="waiting.csv",
    )
    return statement.lines.get()


def test_a_person_matches_a_line_to_an_invoice(world):
    invoice = issued(world, "1000.00")
    line = _waiting(world)
    line = statement_line_match(actor=world.finance, line=line, invoice=invoice)
    assert line.status == StatementLineStatus.RESOLVED
    assert line.resolved_by == world.finance
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    assert invoice.amount_paid == Decimal("700.00")
    assert line.payment.sponsor == world.sponsor
    assert line.payment.reference == "UMOYA MARCH"
    assert AuditEvent.objects.filter(action="bank_statement.line_matched").exists()
    with pytest.raises(ValidationError, match="already matched by hand"):
        statement_line_match(actor=world.finance, line=line, invoice=invoice)
    assert AuditEvent.objects.filter(action="bank_statement.line_match.refused").exists()


def test_a_line_is_not_matched_to_an_invoice_that_owes_nothing(world):
    invoice = issued(world, "100.00")
    statement_import(
        actor=world.finance,
        content=csv_bytes(f"2027-03-04,EFT,{invoice.number},100.00"),
        file_name="paid.csv",
    )
    line = _waiting(world)
    with pytest.raises(ValidationError, match="owes nothing"):
        statement_line_match(actor=world.finance, line=line, invoice=invoice)
    line.refresh_from_db()
    assert line.status == StatementLineStatus.UNMATCHED
    assert AuditEvent.objects.filter(action="bank_statement.line_match.refused").exists()


def test_a_person_sets_a_line_aside_with_a_reason(world):
    line = _waiting(world)
    with pytest.raises(ValidationError, match="Say why"):
        statement_line_ignore(actor=world.finance, line=line, reason="  ")
    line = statement_line_ignore(actor=world.finance, line=line, reason="Interest")
    assert line.status == StatementLineStatus.IGNORED
    assert line.ignore_reason == "Interest"
    with pytest.raises(ValidationError, match="already ignored"):
        statement_line_ignore(actor=world.finance, line=line, reason="Again")
    with pytest.raises(PermissionDenied):
        statement_line_ignore(actor=world.admin, line=line, reason="Again")
