"""Payments received and paid out. `payment_record` is the one way a payment comes to exist:
the invoice payments a finance user records, a commission payout, a stipend, a grant tranche,
a bank statement line taken as a payment. Allocating received money to invoices is
finance.services.allocations.

A received payment is recorded pending (the money is on its way: a debit order run, a card
settlement) or completed; only a completed one is allocated. Pending becomes completed or
failed; a completed payment may be refunded, which takes back its allocations and records the
refund as money paid out."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from academics.currencies import cents, currency_error, money_text
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from finance.access import MANAGE_FINANCE
from finance.models import Invoice, Payment, PaymentDirection, PaymentPurpose, PaymentStatus
from finance.services.allocations import (
    allocations_undo_locked,
    allocations_write_locked,
    invoices_lock,
)
from finance.services.refusals import Refused, refusals_audited
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


def _refused(message: str, payment: Payment, action: str) -> Refused:
    return Refused(message, action=action, entity_type="finance.payment", entity_id=payment.pk)


@refusals_audited
def payment_receive(
    *,
    actor: User | None,
    payment: PaymentInput,
    allocations: list[tuple[Invoice, Decimal]],
) -> Payment:
    """Record money received for invoices from a sponsor, a learner or a partner, and set it
    against the given invoices of that party (what is left is their credit). A pending payment
    is allocated once it is completed."""
    permission_check(actor=actor, action="payment.receive", permission=MANAGE_FINANCE)
    if payment.direction != PaymentDirection.RECEIVED or payment.purpose != PaymentPurpose.INVOICE:
        raise ValidationError("Record here only money received for invoices.")
    if payment.status == PaymentStatus.PENDING and allocations:
        raise Refused(
            "A pending payment is set against invoices once it is completed: record it without "
            "amounts for the invoices, or as completed.",
            action="payment.receive",
            entity_type="finance.payment",
        )
    with transaction.atomic(durable=True):
        row = payment_record(actor=actor, payment=payment)
        # The payment is new: nobody else can hold it. The invoices are locked by ascending pk.
        invoices = invoices_lock(invoice.pk for invoice, _amount in allocations)
        allocations_write_locked(
            actor=actor, payment=row, allocations=allocations, invoices=invoices
        )
    return row


def _payment_lock(payment: Payment) -> Payment:
    locked: Payment = Payment.objects.select_for_update().get(pk=payment.pk)
    return locked


def _pending_settle(
    *, actor: User | None, payment: Payment, action: str, succeeded: bool, reason: str = ""
) -> Payment:
    """A pending payment completed (`succeeded`) or failed, audited as `payment.<past>`."""
    permission_check(actor=actor, action=action, permission=MANAGE_FINANCE)
    with transaction.atomic(durable=True):
        payment = _payment_lock(payment)
        if payment.status != PaymentStatus.PENDING:
            state = payment.get_status_display().lower()
            raise _refused(
                f"This payment is {state}, not pending: only a pending payment "
                f"{'completes' if succeeded else 'can fail'}.",
                payment,
                action,
            )
        if succeeded:
            payment.complete()
        else:
            payment.fail()
        payment.save(update_fields=["status"])
        audit_record(
            action=f"payment.{payment.status}",
            entity=payment,
            actor=actor,
            old_values={"status": PaymentStatus.PENDING},
            new_values={"status": payment.status, **({"reason": reason} if reason else {})},
        )
    return payment


@refusals_audited
def payment_complete(*, actor: User | None, payment: Payment) -> Payment:
    """A pending payment arrived: it is completed and may be allocated."""
    return _pending_settle(actor=actor, payment=payment, action="payment.complete", succeeded=True)


@refusals_audited
def payment_fail(*, actor: User | None, payment: Payment, reason: str = "") -> Payment:
    """A pending payment never arrived (a debit order bounced): it is failed, for good."""
    return _pending_settle(
        actor=actor, payment=payment, action="payment.fail", succeeded=False, reason=reason.strip()
    )


@refusals_audited
def payment_refund(
    *,
    actor: User | None,
    payment: Payment,
    reason: str,
    refunded_on: datetime.date | None = None,
    reference: str = "",
) -> Payment:
    """Give a completed payment back in full: its allocations are taken back (the invoices owe
    that money again) and the refund is recorded as a payment paid out to the same party.
    Returns the refund."""
    permission_check(actor=actor, action="payment.refund", permission=MANAGE_FINANCE)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the money is given back."})
    refunded_on = refunded_on or timezone.localdate()
    with transaction.atomic(durable=True):
        payment = _payment_lock(payment)
        if payment.status != PaymentStatus.COMPLETED or (
            payment.direction != PaymentDirection.RECEIVED
        ):
            raise _refused(
                f"This payment is {payment.get_status_display().lower()}: only a completed "
                "payment received can be refunded.",
                payment,
                "payment.refund",
            )
        if refunded_on < payment.paid_on:
            raise _refused(
                "A refund cannot be dated before the payment it gives back.",
                payment,
                "payment.refund",
            )
        allocations_undo_locked(actor=actor, payment=payment, reason=f"refunded: {reason}")
        payment.refund()
        payment.save(update_fields=["status"])
        refund = payment_record(
            actor=actor,
            payment=PaymentInput(
                direction=PaymentDirection.PAID_OUT,
                purpose=PaymentPurpose.REFUND,
                amount=payment.amount,
                currency=payment.currency,
                paid_on=refunded_on,
                method=payment.method,
                reference=reference or f"Refund of {payment.reference or f'payment {payment.pk}'}",
                notes=reason,
                sponsor=payment.sponsor,
                learner=payment.learner,
                partner=payment.partner,
                counterparty=payment.counterparty,
            ),
        )
        audit_record(
            action="payment.refunded",
            entity=payment,
            actor=actor,
            old_values={"status": PaymentStatus.COMPLETED},
            new_values={
                "status": payment.status,
                "refund": refund.pk,
                "amount": money_text(payment.amount, payment.currency),
                "reason": reason,
            },
        )
    return refund
