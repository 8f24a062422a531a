"""Drafting and issuing: a draft has no number, issuing fixes the recipient, VAT and totals; an
issued invoice is refused any change by the database itself, not only by the services."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from finance.models import FinanceSettings, Invoice, InvoiceLine, InvoiceStatus
from finance.services.invoices import LineInput, Recipient, invoice_draft_create, invoice_issue
from tests.finance.support import finance_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return finance_world(admin)


def _draft(world, *lines: LineInput) -> Invoice:
    return invoice_draft_create(
        actor=world.finance,
        recipient=Recipient(sponsor=world.sponsor),
        lines=list(lines)
        or [
            LineInput(description="Tuition", unit_price=Decimal("4500.00")),
            LineInput(
                description="Exam fee",
                unit_price=Decimal("99.99"),
                quantity=Decimal(3),
                vat_applies=False,
            ),
        ],
    )


def test_a_draft_has_totals_but_no_number(world):
    invoice = _draft(world)
    assert invoice.number == ""
    assert invoice.status == InvoiceStatus.DRAFT
    assert invoice.subtotal == Decimal("4799.97")
    assert invoice.vat_amount == Decimal("675.00")
    assert invoice.total == Decimal("5474.97")


def test_issuing_numbers_fixes_and_audits(world):
    FinanceSettings.objects.create(pk=1, vat_rate=Decimal("15.00"), invoice_due_days=14)
    invoice = invoice_issue(
        actor=world.finance, invoice=_draft(world), issued_on=datetime.date(2027, 3, 2)
    )
    assert invoice.number == "INV-2028-00001"
    assert invoice.due_on == datetime.date(2027, 3, 16)
    assert invoice.recipient_name == "Umoya Mining (Pty) Ltd"
    assert invoice.recipient_tax_number == "4123456789"
    assert AuditEvent.objects.filter(action="invoice.issued", entity_id=str(invoice.pk)).exists()
    with pytest.raises(ValidationError, match="already been issued"):
        invoice_issue(actor=world.finance, invoice=invoice)


def test_only_finance_issues_and_the_refusal_is_audited(world):
    draft = _draft(world)
    with pytest.raises(PermissionDenied):
        invoice_issue(actor=world.admin, invoice=draft)
    assert AuditEvent.objects.filter(action="permission.denied", entity_id="invoice.issue").exists()
    draft.refresh_from_db()
    assert draft.number == ""


def test_the_database_refuses_to_change_an_issued_invoice(world):
    invoice = invoice_issue(actor=world.finance, invoice=_draft(world))
    with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(total=Decimal("1.00"))
    with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(status="draft")
    with pytest.raises(DatabaseError, match="cannot be"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).delete()
    with pytest.raises(DatabaseError, match="cannot be deleted"), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk)._raw_delete(Invoice.objects.db)
    line = invoice.lines.first()
    with pytest.raises(DatabaseError, match="lines of an issued invoice"), transaction.atomic():
        InvoiceLine.objects.filter(pk=line.pk).update(unit_price=Decimal("1.00"))
    with pytest.raises(DatabaseError, match="lines of an issued invoice"), transaction.atomic():
        InvoiceLine.objects.create(invoice=invoice, description="More", unit_price=Decimal(1))
    # What payments and credit notes change is still allowed.
    Invoice.objects.filter(pk=invoice.pk).update(amount_paid=Decimal("10.00"))


def test_issuing_twice_is_refused_and_the_refusal_audited(world):
    invoice = invoice_issue(actor=world.finance, invoice=_draft(world))
    with pytest.raises(ValidationError, match="already been issued"):
        invoice_issue(actor=world.finance, invoice=invoice)
    event = AuditEvent.objects.get(action="invoice.issue.refused")
    assert event.entity_id == str(invoice.pk)
    assert event.new_values == {"reason": f"{invoice.number} has already been issued."}


def _refused(match: str, **values) -> None:
    """An update of the invoice (the `pk` given) with `values` that the database refuses."""
    pk = values.pop("pk")
    with pytest.raises(DatabaseError, match=match), transaction.atomic():
        Invoice.objects.filter(pk=pk).update(**values)


def test_the_database_keeps_the_pdf_the_amounts_and_the_void_in_bounds(world):
    invoice = invoice_issue(actor=world.finance, invoice=_draft(world))
    pk, total = invoice.pk, invoice.total
    # The PDF is stored once, then kept.
    Invoice.objects.filter(pk=pk).update(pdf="finance/invoices/first.pdf")
    _refused("cannot be replaced", pk=pk, pdf="finance/invoices/other.pdf")
    _refused("cannot be replaced", pk=pk, pdf="")
    # Paid and credited: never negative, never more than the total together.
    _refused("below nothing or beyond", pk=pk, amount_paid=Decimal("-0.01"))
    _refused("below nothing or beyond", pk=pk, amount_credited=Decimal("-0.01"))
    _refused("below nothing or beyond", pk=pk, amount_paid=total, amount_credited=Decimal("0.01"))
    # Void and its reason: only together, only from issued with nothing paid or credited.
    _refused("set only when it is voided", pk=pk, void_reason="Quietly")
    Invoice.objects.filter(pk=pk).update(amount_paid=Decimal("1.00"))
    _refused("voided only while issued", pk=pk, status="void", void_reason="x")
    Invoice.objects.filter(pk=pk).update(amount_paid=Decimal(0))
    _refused("voided only while issued", pk=pk, status="void", amount_credited=Decimal("1.00"))
    paid = invoice_issue(actor=world.finance, invoice=_draft(world))
    Invoice.objects.filter(pk=paid.pk).update(status="paid", amount_paid=paid.total)
    _refused("voided only while issued", pk=paid.pk, status="void", amount_paid=Decimal(0))
    draft = _draft(world)
    _refused("voided only while issued", pk=draft.pk, status="void")
    # A void invoice changes no more.
    Invoice.objects.filter(pk=pk).update(status="void", void_reason="Wrong sponsor")
    _refused("void invoice", pk=pk, status="issued")
    _refused("void invoice", pk=pk, void_reason="Another reason")
    _refused("void invoice", pk=pk, amount_paid=Decimal("1.00"))
    _refused("void invoice", pk=pk, emailed_at=datetime.datetime(2027, 3, 2, tzinfo=datetime.UTC))
    _refused("void invoice", pk=pk, issued_by=world.second_finance)
    # Its creator's and issuer's accounts may still be deleted.
    Invoice.objects.filter(pk=pk).update(created_by=None, issued_by=None)


def test_a_void_invoice_without_a_pdf_still_gets_its_pdf_once(world):
    invoice = invoice_issue(actor=world.finance, invoice=_draft(world))
    Invoice.objects.filter(pk=invoice.pk).update(status="void", void_reason="Wrong sponsor")
    Invoice.objects.filter(pk=invoice.pk).update(pdf="finance/invoices/void.pdf")
    _refused("cannot be replaced", pk=invoice.pk, pdf="finance/invoices/again.pdf")


@pytest.mark.parametrize("table", ["finance_invoice", "finance_invoiceline"])
def test_the_invoice_tables_cannot_be_truncated(world, table):
    invoice_issue(actor=world.finance, invoice=_draft(world))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(DatabaseError, match="cannot be truncated"), transaction.atomic():
            cursor.execute(f"TRUNCATE {table} CASCADE")
    assert Invoice.objects.exists()


def test_issuing_a_draft_without_lines_is_refused_and_audited(world):
    draft = _draft(world)
    InvoiceLine.objects.filter(invoice=draft).delete()
    with pytest.raises(ValidationError, match="at least one line"):
        invoice_issue(actor=world.finance, invoice=draft)
    event = AuditEvent.objects.get(action="invoice.issue.refused")
    assert event.entity_id == str(draft.pk)
