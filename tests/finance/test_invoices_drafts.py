"""A draft is edited and deleted freely; once issued it is refused both (audited), and it is
voided only while nothing has been paid or credited against it."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from finance.models import Invoice, InvoiceStatus
from finance.services.invoices import (
    LineInput,
    Recipient,
    invoice_draft_create,
    invoice_draft_delete,
    invoice_draft_update,
    invoice_issue,
    invoice_void,
)
from tests.finance.support import finance_world

pytestmark = pytest.mark.django_db

TUITION = LineInput(description="Tuition", unit_price=Decimal("1000.00"))


@pytest.fixture
def world(admin):
    return finance_world(admin)


def draft_of(world, *lines: LineInput, **recipient) -> Invoice:
    return invoice_draft_create(
        actor=world.finance,
        recipient=Recipient(**(recipient or {"sponsor": world.sponsor})),
        lines=list(lines) or [TUITION],
    )


def refusal(action: str, invoice: Invoice) -> AuditEvent:
    return AuditEvent.objects.get(action=f"{action}.refused", entity_id=str(invoice.pk))


def test_a_draft_is_edited_with_new_lines_recipient_and_totals(world):
    invoice = draft_of(world)
    learner = world.learner.learner
    invoice = invoice_draft_update(
        actor=world.finance,
        invoice=invoice,
        recipient=Recipient(learner=learner),
        lines=[
            LineInput(description="Tuition", unit_price=Decimal("200.00"), quantity=Decimal(2)),
            LineInput(description="Books", unit_price=Decimal("50.00"), vat_applies=False),
        ],
        reference="PO 7",
        notes="Thank you",
    )
    invoice.refresh_from_db()
    assert (invoice.learner_id, invoice.sponsor_id) == (learner.pk, None)
    assert [line.description for line in invoice.lines.all()] == ["Tuition", "Books"]
    assert (invoice.subtotal, invoice.vat_amount, invoice.total) == (
        Decimal("450.00"),
        Decimal("60.00"),
        Decimal("510.00"),
    )
    assert invoice.reference == "PO 7"
    event = AuditEvent.objects.get(action="invoice.draft_updated", entity_id=str(invoice.pk))
    assert event.old_values["total"] == "1150.00"


def test_a_draft_needs_a_line_and_a_description(world):
    invoice = draft_of(world)
    with pytest.raises(ValidationError, match="at least one line"):
        invoice_draft_update(actor=world.finance, invoice=invoice, lines=[])
    with pytest.raises(ValidationError, match="Line 1: say what it is for"):
        invoice_draft_update(
            actor=world.finance,
            invoice=invoice,
            lines=[LineInput(description=" ", unit_price=Decimal(1))],
        )


def test_editing_an_issued_invoice_is_refused_and_audited(world):
    invoice = invoice_issue(actor=world.finance, invoice=draft_of(world))
    with pytest.raises(ValidationError, match="can no longer be changed: credit it"):
        invoice_draft_update(actor=world.finance, invoice=invoice, lines=[TUITION])
    assert refusal("invoice.edit", invoice).entity_type == "finance.invoice"
    with pytest.raises(ValidationError, match="can no longer be changed"):
        invoice_draft_delete(actor=world.finance, invoice=invoice)
    assert refusal("invoice.delete", invoice)
    assert Invoice.objects.get(pk=invoice.pk).lines.count() == 1


def test_only_finance_edits_a_draft(world):
    invoice = draft_of(world)
    with pytest.raises(PermissionDenied):
        invoice_draft_update(actor=world.admin, invoice=invoice, lines=[TUITION])
    assert AuditEvent.objects.filter(action="permission.denied", entity_id="invoice.edit").exists()


def test_a_draft_is_deleted_and_the_deletion_audited(world):
    invoice = draft_of(world)
    invoice_draft_delete(actor=world.finance, invoice=invoice)
    assert not Invoice.objects.filter(pk=invoice.pk).exists()
    assert AuditEvent.objects.filter(
        action="invoice.draft_deleted", entity_id=str(invoice.pk)
    ).exists()


def test_an_issued_invoice_is_voided_with_a_reason_and_keeps_its_number(world):
    invoice = invoice_issue(actor=world.finance, invoice=draft_of(world))
    with pytest.raises(ValidationError, match="Say why"):
        invoice_void(actor=world.finance, invoice=invoice, reason="  ")
    invoice = invoice_void(actor=world.finance, invoice=invoice, reason="Wrong sponsor")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID
    assert invoice.number.startswith("INV-")
    assert invoice.void_reason == "Wrong sponsor"
    event = AuditEvent.objects.get(action="invoice.voided", entity_id=str(invoice.pk))
    assert event.new_values == {"reason": "Wrong sponsor"}


def test_voiding_a_draft_a_void_or_a_paid_invoice_is_refused_and_audited(world):
    draft = draft_of(world)
    with pytest.raises(ValidationError, match="only an issued invoice"):
        invoice_void(actor=world.finance, invoice=draft, reason="No")
    assert refusal("invoice.void", draft)
    paid = invoice_issue(actor=world.finance, invoice=draft_of(world))
    Invoice.objects.filter(pk=paid.pk).update(amount_paid=Decimal("10.00"))
    with pytest.raises(ValidationError, match="paid or credited"):
        invoice_void(actor=world.finance, invoice=paid, reason="No")
    assert refusal("invoice.void", paid).new_values["reason"].startswith("Something has been")
    assert Invoice.objects.get(pk=paid.pk).status == InvoiceStatus.ISSUED


def test_only_finance_voids(world):
    invoice = invoice_issue(actor=world.finance, invoice=draft_of(world))
    with pytest.raises(PermissionDenied):
        invoice_void(actor=world.admin, invoice=invoice, reason="Wrong")
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.ISSUED


def test_a_partner_and_a_learner_get_their_details_on_issue(world):
    partner_invoice = invoice_issue(
        actor=world.finance, invoice=draft_of(world, partner=world.agent)
    )
    assert partner_invoice.recipient_name == "Ikhaya Recruitment"
    learner = world.learner.learner
    learner_invoice = invoice_issue(actor=world.finance, invoice=draft_of(world, learner=learner))
    assert learner_invoice.recipient_name == learner.full_name
    assert learner_invoice.recipient_email == learner.email
