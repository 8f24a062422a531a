"""Allocating payments to invoices: one payment to several invoices and several payments to one,
over-payment kept as credit and allocated later, under-payment leaving an invoice partly paid,
and every rule's refusal (audited): more than the invoice owes or the payment has left, a draft
or settled invoice, another currency, another party's invoice, a pending or outgoing payment."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from academics.currencies import money_text
from audit.models import AuditEvent
from finance.models import InvoiceStatus, PaymentAllocation, PaymentDirection, PaymentStatus
from finance.services.allocations import allocation_add, allocation_remove, payment_unallocated
from finance.services.invoices import LineInput, Recipient, invoice_draft_create
from finance.services.payments import PaymentInput, payment_complete, payment_receive
from tests.finance.support import finance_world
from tests.finance.support_payments import issued, received

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return finance_world(admin, learners=2)


def refusal_reasons(action: str) -> list[str]:
    return [
        event.new_values["reason"]
        for event in AuditEvent.objects.filter(action=f"{action}.refused").order_by("pk")
    ]


def test_one_payment_settles_several_invoices_and_keeps_the_rest_as_credit(world):
    first, second = issued(world, "1000.00"), issued(world, "2000.00")
    payment = received(world, "3500.00", [(first, "1000.00"), (second, "2000.00")])
    for invoice in (first, second):
        invoice.refresh_from_db()
        assert invoice.status == InvoiceStatus.PAID
        assert invoice.balance == 0
    assert payment_unallocated(payment) == Decimal("500.00")
    assert AuditEvent.objects.filter(action="payment.allocated", entity_id=str(payment.pk)).count()
    assert AuditEvent.objects.filter(action="payment.recorded", entity_id=str(payment.pk)).exists()

    # The credit goes to the next invoice later.
    third = issued(world, "800.00")
    allocation_add(actor=world.finance, payment=payment, invoice=third, amount=Decimal("500.00"))
    third.refresh_from_db()
    assert third.status == InvoiceStatus.PARTIALLY_PAID
    assert third.balance == Decimal("300.00")
    assert payment_unallocated(payment) == 0


def test_several_payments_settle_one_invoice(world):
    invoice = issued(world, "4500.00")
    received(world, "1500.00", [(invoice, "1500.00")])
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PARTIALLY_PAID
    assert invoice.amount_paid == Decimal("1500.00")
    received(world, "3000.00", [(invoice, "3000.00")])
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.allocations.count() == 2


def test_a_second_amount_to_the_same_invoice_adds_to_its_allocation(world):
    invoice = issued(world, "1000.00")
    payment = received(world, "1000.00", [(invoice, "400.00")])
    allocation_add(actor=world.finance, payment=payment, invoice=invoice, amount=Decimal("600.00"))
    allocation = PaymentAllocation.objects.get(payment=payment)
    assert allocation.amount == Decimal("1000.00")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_more_than_the_invoice_owes_is_refused_and_audited(world):
    invoice = issued(world, "1000.00")
    with pytest.raises(ValidationError, match="still owes"):
        received(world, "1500.00", [(invoice, "1500.00")])
    assert refusal_reasons("payment.allocate") == [
        f"{invoice.number} still owes {money_text(Decimal(1000))}: "
        f"{money_text(Decimal(1500))} is more than that."
    ]
    # Nothing was written: the payment rolled back with its allocation.
    invoice.refresh_from_db()
    assert invoice.amount_paid == 0
    assert not PaymentAllocation.objects.exists()


def test_more_than_the_payment_has_left_is_refused_and_audited(world):
    first, second = issued(world, "1000.00"), issued(world, "1000.00")
    payment = received(world, "1200.00", [(first, "1000.00")])
    with pytest.raises(ValidationError, match="Only R200,00 of this payment is unallocated"):
        allocation_add(
            actor=world.finance, payment=payment, invoice=second, amount=Decimal("300.00")
        )
    event = AuditEvent.objects.get(action="payment.allocate.refused")
    assert event.entity_id == str(payment.pk)
    second.refresh_from_db()
    assert second.status == InvoiceStatus.ISSUED


def test_a_draft_or_a_paid_invoice_takes_no_payment(world):
    draft = invoice_draft_create(
        actor=world.finance,
        recipient=Recipient(sponsor=world.sponsor),
        lines=[LineInput(description="Tuition", unit_price=Decimal(100), vat_applies=False)],
    )
    payment = received(world, "100.00")
    with pytest.raises(ValidationError, match="is draft: only an issued invoice"):
        allocation_add(actor=world.finance, payment=payment, invoice=draft, amount=Decimal(100))
    paid = issued(world, "100.00")
    received(world, "100.00", [(paid, "100.00")])
    with pytest.raises(ValidationError, match="is paid: only an issued invoice"):
        allocation_add(actor=world.finance, payment=payment, invoice=paid, amount=Decimal(10))
    assert len(refusal_reasons("payment.allocate")) == 2


def test_another_currency_is_refused(world):
    invoice = issued(world, "100.00", currency="USD")
    with pytest.raises(ValidationError, match="is in USD and the payment in ZAR"):
        received(world, "100.00", [(invoice, "100.00")])
    assert refusal_reasons("payment.allocate")


def test_another_partys_invoice_is_refused(world):
    learners_invoice = issued(world, "100.00", recipient=Recipient(learner=world.learner.learner))
    with pytest.raises(ValidationError, match="not to this payer"):
        received(world, "100.00", [(learners_invoice, "100.00")])
    assert refusal_reasons("payment.allocate") == [
        f"{learners_invoice} is to {learners_invoice.recipient_name}, not to this payer."
    ]


def test_a_pending_payment_is_allocated_once_completed(world):
    invoice = issued(world, "900.00")
    with pytest.raises(ValidationError, match="once it is completed"):
        received(world, "900.00", [(invoice, "900.00")], status=PaymentStatus.PENDING)
    assert refusal_reasons("payment.receive")
    pending = received(world, "900.00", status=PaymentStatus.PENDING)
    with pytest.raises(ValidationError, match="pending: only a completed payment"):
        allocation_add(actor=world.finance, payment=pending, invoice=invoice, amount=Decimal(1))
    payment_complete(actor=world.finance, payment=pending)
    allocation_add(actor=world.finance, payment=pending, invoice=invoice, amount=Decimal(900))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_money_paid_out_is_not_allocated(world):
    invoice = issued(world, "100.00")
    with pytest.raises(ValidationError, match="Record here only money received"):
        payment_receive(
            actor=world.finance,
            payment=PaymentInput(
                direction=PaymentDirection.PAID_OUT,
                purpose="commission",
                amount=Decimal(100),
                paid_on=invoice.issued_on,
                partner=world.agent,
            ),
            allocations=[],
        )


def test_only_finance_allocates(world):
    invoice = issued(world, "100.00")
    payment = received(world, "100.00")
    with pytest.raises(PermissionDenied):
        allocation_add(actor=world.admin, payment=payment, invoice=invoice, amount=Decimal(100))
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="payment.allocate"
    ).exists()
    with pytest.raises(PermissionDenied):
        payment_receive(
            actor=world.admin,
            payment=PaymentInput(
                direction=PaymentDirection.RECEIVED,
                purpose="invoice",
                amount=Decimal(100),
                paid_on=invoice.issued_on,
            ),
            allocations=[],
        )


def test_removing_an_allocation_gives_the_invoice_its_balance_back(world):
    invoice = issued(world, "1000.00")
    payment = received(world, "1000.00", [(invoice, "1000.00")])
    allocation = PaymentAllocation.objects.get(payment=payment)
    allocation_remove(actor=world.finance, allocation=allocation)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED
    assert invoice.amount_paid == 0
    assert payment_unallocated(payment) == Decimal("1000.00")
    assert AuditEvent.objects.filter(
        action="payment.allocation_removed", entity_id=str(payment.pk)
    ).exists()
    with pytest.raises(ValidationError, match="already been removed"):
        allocation_remove(actor=world.finance, allocation=allocation)
    assert refusal_reasons("payment.allocation_remove")
