"""Credit notes: drafted from an issued invoice (the whole of it unless fewer lines are
chosen), numbered CN-YYYY-NNNNN from their own sequence when issued, which adds their total to
the invoice's amount credited and sets its status; never more than the invoice has
un-credited (refused and audited, when drafted and again when issued)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from finance.models import DocumentKind, Invoice, InvoiceStatus
from finance.services.credit_notes import credit_note_draft_create
from finance.services.invoices import (
    LineInput,
    Recipient,
    invoice_draft_create,
    invoice_draft_update,
    invoice_issue,
    invoice_void,
)
from tests.finance.support import finance_world

pytestmark = pytest.mark.django_db

DAY = datetime.date(2027, 4, 1)  # financial year 2028


@pytest.fixture
def world(admin):
    return finance_world(admin)


@pytest.fixture
def invoice(world) -> Invoice:
    draft = invoice_draft_create(
        actor=world.finance,
        recipient=Recipient(sponsor=world.sponsor),
        lines=[
            LineInput(description="Tuition", unit_price=Decimal("1000.00"), quantity=Decimal(2)),
            LineInput(description="Books", unit_price=Decimal("100.00"), vat_applies=False),
        ],
    )
    return invoice_issue(actor=world.finance, invoice=draft, issued_on=DAY)  # 2 400.00


def issue(world, note: Invoice) -> Invoice:
    return invoice_issue(actor=world.finance, invoice=note, issued_on=DAY)


def books_credited(world, invoice: Invoice) -> Invoice:
    """An issued credit note of R10,00 (no VAT) against `invoice`."""
    lines = [LineInput(description="Books", unit_price=Decimal("10.00"), vat_applies=False)]
    return issue(world, credit_note_draft_create(actor=world.finance, invoice=invoice, lines=lines))


def test_crediting_the_whole_invoice_settles_it_and_reads_paid(world, invoice):
    note = credit_note_draft_create(actor=world.finance, invoice=invoice)
    assert note.kind == DocumentKind.CREDIT_NOTE
    assert note.credited_invoice_id == invoice.pk
    assert note.sponsor_id == world.sponsor.pk
    assert note.total == invoice.total == Decimal("2400.00")
    note = issue(world, note)
    assert note.number == "CN-2028-00001"
    invoice.refresh_from_db()
    assert invoice.amount_credited == Decimal("2400.00")
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.balance == 0
    assert AuditEvent.objects.filter(action="credit_note.issued", entity_id=str(note.pk)).exists()
    credited = AuditEvent.objects.get(action="invoice.credited", entity_id=str(invoice.pk))
    assert credited.new_values["credit_note"] == "CN-2028-00001"


def test_a_partial_credit_leaves_the_invoice_partially_paid(world, invoice):
    line = invoice.lines.get(description="Tuition")
    note = credit_note_draft_create(
        actor=world.finance,
        invoice=invoice,
        lines=[
            LineInput(description=line.description, unit_price=line.unit_price, quantity=Decimal(1))
        ],
    )
    issue(world, note)
    invoice.refresh_from_db()
    assert invoice.amount_credited == Decimal("1150.00")
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    assert invoice.balance == Decimal("1250.00")


def test_credit_notes_have_their_own_sequence(world, invoice):
    one = books_credited(world, invoice)
    two = books_credited(world, invoice)
    assert (one.number, two.number) == ("CN-2028-00001", "CN-2028-00002")
    assert invoice.number == "INV-2028-00001"


def test_over_crediting_is_refused_when_drafted_and_audited(world, invoice):
    with pytest.raises(ValidationError, match=r"more than the R2.{1,4}400,00 of INV-2028-00001"):
        credit_note_draft_create(
            actor=world.finance,
            invoice=invoice,
            lines=[
                LineInput(description="Too much", unit_price=Decimal("2400.01"), vat_applies=False)
            ],
        )
    event = AuditEvent.objects.get(action="credit_note.draft_create.refused")
    assert event.entity_id == str(invoice.pk)
    assert not Invoice.objects.filter(kind=DocumentKind.CREDIT_NOTE).exists()


def test_two_drafts_cannot_both_be_issued_past_the_invoice(world, invoice):
    first = credit_note_draft_create(actor=world.finance, invoice=invoice)
    second = credit_note_draft_create(actor=world.finance, invoice=invoice)
    issue(world, first)
    with pytest.raises(ValidationError, match="more than the R0,00"):
        issue(world, second)
    assert AuditEvent.objects.filter(
        action="credit_note.issue.refused", entity_id=str(invoice.pk)
    ).exists()
    second.refresh_from_db()
    assert second.status == InvoiceStatus.DRAFT
    assert second.number == ""
    invoice.refresh_from_db()
    assert invoice.amount_credited == Decimal("2400.00")


def test_editing_a_credit_note_past_the_invoice_is_refused(world, invoice):
    note = credit_note_draft_create(
        actor=world.finance,
        invoice=invoice,
        lines=[LineInput(description="Books", unit_price=Decimal("10.00"), vat_applies=False)],
    )
    with pytest.raises(ValidationError, match="more than"):
        invoice_draft_update(
            actor=world.finance,
            invoice=note,
            lines=[LineInput(description="All", unit_price=Decimal("9999.00"))],
        )
    assert AuditEvent.objects.filter(action="invoice.edit.refused").exists()


def test_a_draft_a_void_invoice_or_a_credit_note_cannot_be_credited(world, invoice):
    draft = invoice_draft_create(
        actor=world.finance,
        recipient=Recipient(sponsor=world.sponsor),
        lines=[LineInput(description="Tuition", unit_price=Decimal("10.00"))],
    )
    with pytest.raises(ValidationError, match="only an issued invoice"):
        credit_note_draft_create(actor=world.finance, invoice=draft)
    voided = invoice_void(
        actor=world.finance, invoice=invoice_issue(actor=world.finance, invoice=draft), reason="x"
    )
    with pytest.raises(ValidationError, match="void: only an issued invoice"):
        credit_note_draft_create(actor=world.finance, invoice=voided)
    note = issue(world, credit_note_draft_create(actor=world.finance, invoice=invoice))
    with pytest.raises(ValidationError, match="is a credit note"):
        credit_note_draft_create(actor=world.finance, invoice=note)
    assert AuditEvent.objects.filter(action="credit_note.draft_create.refused").count() == 3


def test_a_credited_invoice_cannot_be_voided_nor_a_credit_note(world, invoice):
    note = books_credited(world, invoice)
    with pytest.raises(ValidationError):
        invoice_void(actor=world.finance, invoice=invoice, reason="x")
    with pytest.raises(ValidationError, match="credit note: it cannot be voided"):
        invoice_void(actor=world.finance, invoice=note, reason="x")


def test_a_credit_note_keeps_the_invoices_vat_rate(world, invoice):
    from finance.models import FinanceSettings

    FinanceSettings.objects.create(pk=1, vat_rate=Decimal("16.00"))
    note = issue(world, credit_note_draft_create(actor=world.finance, invoice=invoice))
    assert note.vat_rate == invoice.vat_rate == Decimal("15.00")
    assert note.total == invoice.total


def test_only_finance_credits(world, invoice):
    with pytest.raises(PermissionDenied):
        credit_note_draft_create(actor=world.admin, invoice=invoice)


def test_crediting_line_by_line_credits_the_invoice_to_the_cent(world):
    # Two taxed lines of R100,10: VAT on their sum is 30,03 (total 230,23), while each line's
    # own VAT rounds up to 15,02; the second note takes only the 15,01 of VAT left.
    draft = invoice_draft_create(
        actor=world.finance,
        recipient=Recipient(sponsor=world.sponsor),
        lines=[
            LineInput(description="Module 1", unit_price=Decimal("100.10")),
            LineInput(description="Module 2", unit_price=Decimal("100.10")),
        ],
    )
    invoice = issue(world, draft)
    assert (invoice.vat_amount, invoice.total) == (Decimal("30.03"), Decimal("230.23"))
    first, second = (
        issue(
            world,
            credit_note_draft_create(
                actor=world.finance,
                invoice=invoice,
                lines=[LineInput(description=name, unit_price=Decimal("100.10"))],
            ),
        )
        for name in ("Module 1", "Module 2")
    )
    assert (first.vat_amount, first.total) == (Decimal("15.02"), Decimal("115.12"))
    assert (second.vat_amount, second.total) == (Decimal("15.01"), Decimal("115.11"))
    invoice.refresh_from_db()
    assert invoice.amount_credited == invoice.total
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.balance == 0
