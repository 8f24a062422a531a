"""A payment's life: pending to completed or failed, completed to refunded, which takes back
its allocations (the invoices owe again) and records the refund as money paid out; each wrong
state refused and audited."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from finance.models import (
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentDirection,
    PaymentPurpose,
    PaymentStatus,
)
from finance.services.payments import payment_complete, payment_fail, payment_refund
from tests.finance.support import finance_world
from tests.finance.support_payments import issued, received

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return finance_world(admin)


def test_a_pending_payment_completes(world):
    payment = received(world, "500.00", status=PaymentStatus.PENDING)
    payment_complete(actor=world.finance, payment=payment)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.COMPLETED
    assert AuditEvent.objects.filter(action="payment.completed", entity_id=str(payment.pk)).exists()
    with pytest.raises(ValidationError, match="completed, not pending"):
        payment_complete(actor=world.finance, payment=payment)
    assert AuditEvent.objects.filter(action="payment.complete.refused").exists()


def test_a_pending_payment_fails_for_good(world):
    payment = received(world, "500.00", status=PaymentStatus.PENDING)
    payment_fail(actor=world.finance, payment=payment, reason="Debit order bounced")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    event = AuditEvent.objects.get(action="payment.failed")
    assert event.new_values["reason"] == "Debit order bounced"
    with pytest.raises(ValidationError, match="only a pending payment can fail"):
        payment_fail(actor=world.finance, payment=payment)
    with pytest.raises(ValidationError, match="not pending"):
        payment_complete(actor=world.finance, payment=payment)
    assert AuditEvent.objects.filter(action="payment.fail.refused").exists()


def test_a_refund_takes_back_the_allocations_and_records_money_paid_out(world):
    first, second = issued(world, "1000.00"), issued(world, "2000.00")
    other = received(world, "500.00", [(second, "500.00")])
    payment = received(world, "2500.00", [(first, "1000.00"), (second, "1500.00")])
    second.refresh_from_db()
    assert second.status == InvoiceStatus.PAID

    refund = payment_refund(
        actor=world.finance,
        payment=payment,
        reason="Paid twice by mistake",
        refunded_on=payment.paid_on + datetime.timedelta(days=2),
    )
    payment.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert not PaymentAllocation.objects.filter(payment=payment).exists()
    assert first.status == InvoiceStatus.ISSUED
    assert first.balance == Decimal("1000.00")
    # The other payment still counts.
    assert second.status == InvoiceStatus.PARTIALLY_PAID
    assert second.amount_paid == Decimal("500.00")
    assert PaymentAllocation.objects.filter(payment=other).exists()
    assert refund.direction == PaymentDirection.PAID_OUT
    assert refund.purpose == PaymentPurpose.REFUND
    assert refund.amount == Decimal("2500.00")
    assert refund.sponsor == world.sponsor
    event = AuditEvent.objects.get(action="payment.refunded")
    assert event.new_values["reason"] == "Paid twice by mistake"
    assert AuditEvent.objects.filter(action="payment.allocation_removed").count() == 2

    with pytest.raises(ValidationError, match="only a completed payment received"):
        payment_refund(actor=world.finance, payment=payment, reason="Again")
    assert AuditEvent.objects.filter(action="payment.refund.refused").exists()


def test_a_refund_needs_a_reason_and_a_date_after_the_payment(world):
    payment = received(world, "100.00")
    with pytest.raises(ValidationError, match="Say why"):
        payment_refund(actor=world.finance, payment=payment, reason=" ")
    with pytest.raises(ValidationError, match="before the payment"):
        payment_refund(
            actor=world.finance,
            payment=payment,
            reason="Overpaid",
            refunded_on=payment.paid_on - datetime.timedelta(days=1),
        )
    pending = received(world, "100.00", status=PaymentStatus.PENDING)
    with pytest.raises(ValidationError, match="pending: only a completed"):
        payment_refund(actor=world.finance, payment=pending, reason="Overpaid")
    assert Payment.objects.filter(purpose=PaymentPurpose.REFUND).count() == 0


def test_only_finance_changes_a_payment(world):
    payment = received(world, "100.00", status=PaymentStatus.PENDING)
    for change in (payment_complete, payment_fail):
        with pytest.raises(PermissionDenied):
            change(actor=world.admin, payment=payment)
    with pytest.raises(PermissionDenied):
        payment_refund(actor=world.admin, payment=payment, reason="x")
    assert AuditEvent.objects.filter(action="permission.denied").count() == 3
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
