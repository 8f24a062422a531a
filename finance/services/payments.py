"""Payments received and paid out. `payment_record` is the one way a payment comes to exist:
the invoice payments a finance user records, a commission payout, a stipend, a grant tranche,
a bank statement line taken as a payment. Allocating received money to invoices is
finance.services.allocations."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError

from academics.currencies import cents, currency_error
from accounts.models import User
from audit.services import audit_record
from finance.models import Payment, PaymentDirection, PaymentStatus
from learners.models import Learner
from partners.models import Partner
from sponsors.models import Sponsor


@dataclass(frozen=True)
class PaymentInput:
    direction: str
    purpose: str
    amount: Decimal
    paid_on: datetime.date
    currency: str = "ZAR"
    method: str = "eft"
    reference: str = ""
    notes: str = ""
    status: str = PaymentStatus.COMPLETED
    sponsor: Sponsor | None = None
    learner: Learner | None = None
    partner: Partner | None = None
    counterparty: str = ""


def payment_validate(payment: PaymentInput) -> None:
    errors: dict[str, str] = {}
    if payment.amount <= 0:
        errors["amount"] = "Give an amount above zero."
    elif payment.amount != cents(payment.amount):
        errors["amount"] = "Give the amount in whole cents."
    if currency_error(payment.currency):
        errors["currency"] = currency_error(payment.currency)
    if payment.direction not in PaymentDirection.values:
        errors["direction"] = "Say whether the money came in or went out."
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.COMPLETED):
        errors["status"] = "A new payment is pending or completed."
    if sum(party is not None for party in (payment.sponsor, payment.learner, payment.partner)) > 1:
        errors["__all__"] = "A payment is from (or to) one sponsor, learner or partner."
    if errors:
        raise ValidationError(errors)


def payment_record(*, actor: User | None, payment: PaymentInput) -> Payment:
    """Write one payment and its audit event inside the caller's transaction (its service has
    checked the actor's permission and holds the rows the payment settles)."""
    payment_validate(payment)
    row: Payment = Payment.objects.create(
        direction=payment.direction,
        purpose=payment.purpose,
        status=payment.status,
        sponsor=payment.sponsor,
        learner=payment.learner,
        partner=payment.partner,
        counterparty=payment.counterparty.strip(),
        amount=payment.amount,
        currency=payment.currency.upper(),
        method=payment.method,
        reference=payment.reference.strip(),
        paid_on=payment.paid_on,
        notes=payment.notes.strip(),
        recorded_by=actor,
    )
    audit_record(
        action="payment.recorded",
        entity=row,
        actor=actor,
        new_values={
            "direction": row.direction,
            "purpose": row.purpose,
            "amount": str(row.amount),
            "currency": row.currency,
            "reference": row.reference,
        },
    )
    return row
