"""Setting received money against invoices. An allocation never exceeds what the invoice still
owes nor what the payment has left unallocated; only a completed payment received for invoices
is allocated, only to an issued (or partly paid) invoice in its currency, of its party. What a
payment does not allocate stays on it as its party's credit.

Lock order everywhere: the payment's row, then the invoices' rows by ascending pk. The
`*_locked` helpers run inside a caller's transaction that holds those locks (receiving a
payment, matching a bank statement line); `allocation_add` and `allocation_remove` are the
services finance users call later."""

from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from academics.currencies import cents, money_text
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from finance.access import MANAGE_FINANCE
from finance.models import (
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentDirection,
    PaymentPurpose,
    PaymentStatus,
)
from finance.services.invoices import invoice_balance_refresh
from finance.services.refusals import Refused, refusals_audited

OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
PARTY_FIELDS = ("sponsor_id", "learner_id", "partner_id")


def payment_unallocated(payment: Payment) -> Decimal:
    """What of a payment is not yet set against an invoice (read in the caller's transaction)."""
    allocated: Decimal | None = payment.allocations.aggregate(total=Sum("amount"))["total"]
    return Decimal(payment.amount - (allocated or 0))


def invoices_lock(invoice_ids: Iterable[int]) -> dict[int, Invoice]:
    """The invoices' rows, locked by ascending pk (after the payment's, by the caller)."""
    return {
        invoice.pk: invoice
        for invoice in Invoice.objects.select_for_update()
        .filter(pk__in=set(invoice_ids))
        .order_by("pk")
    }


def _refused(message: str, payment: Payment, action: str = "payment.allocate") -> Refused:
    return Refused(message, action=action, entity_type="finance.payment", entity_id=payment.pk)


def allocation_check(
    *, payment: Payment, invoice: Invoice, amount: Decimal, unallocated: Decimal
) -> None:
    """Refuse (`Refused`) an allocation of `amount` of `payment` to `invoice`, both locked."""
    if payment.direction != PaymentDirection.RECEIVED or payment.purpose != PaymentPurpose.INVOICE:
        raise _refused("Only money received for invoices is set against invoices.", payment)
    if payment.status != PaymentStatus.COMPLETED:
        raise _refused(
            f"This payment is {payment.get_status_display().lower()}: only a completed payment "
            "is allocated to invoices.",
            payment,
        )
    if invoice.kind != DocumentKind.INVOICE:
        raise _refused(f"{invoice} is a credit note: payments go to invoices.", payment)
    if invoice.status not in OPEN_STATUSES:
        raise _refused(
            f"{invoice} is {invoice.get_status_display().lower()}: only an issued invoice that "
            "is not yet paid takes payments.",
            payment,
        )
    if invoice.currency != payment.currency:
        raise _refused(
            f"{invoice} is in {invoice.currency} and the payment in {payment.currency}.", payment
        )
    payment_party = [getattr(payment, field) for field in PARTY_FIELDS]
    if any(payment_party) and payment_party != [getattr(invoice, f) for f in PARTY_FIELDS]:
        raise _refused(f"{invoice} is to {invoice.recipient_name}, not to this payer.", payment)
    if amount <= 0 or amount != cents(amount):
        raise _refused("Give an amount above zero, in whole cents.", payment)
    if amount > invoice.balance:
        raise _refused(
            f"{invoice} still owes {money_text(invoice.balance, invoice.currency)}: "
            f"{money_text(amount, invoice.currency)} is more than that.",
            payment,
        )
    if amount > unallocated:
        raise _refused(
            f"Only {money_text(unallocated, payment.currency)} of this payment is unallocated: "
            f"{money_text(amount, payment.currency)} is more than that.",
            payment,
        )


def allocations_write_locked(
    *,
    actor: User | None,
    payment: Payment,
    allocations: Sequence[tuple[Invoice, Decimal]],
    invoices: dict[int, Invoice],
) -> list[PaymentAllocation]:
    """Check and write each allocation (the caller holds `payment` and `invoices` locked), add
    it to the invoice's `amount_paid`, set the invoice's status and audit it. A second amount
    to the same invoice adds to its allocation."""
    unallocated = payment_unallocated(payment)
    written: list[PaymentAllocation] = []
    for given, amount in allocations:
        invoice = invoices[given.pk]
        allocation_check(payment=payment, invoice=invoice, amount=amount, unallocated=unallocated)
        allocation, created = PaymentAllocation.objects.get_or_create(
            payment=payment, invoice=invoice, defaults={"amount": amount, "created_by": actor}
        )
        if not created:
            allocation.amount += amount
            allocation.save(update_fields=["amount"])
        invoice.amount_paid += amount
        invoice_balance_refresh(invoice)
        unallocated -= amount
        audit_record(
            action="payment.allocated",
            entity=payment,
            actor=actor,
            new_values={
                "invoice": invoice.number,
                "amount": str(amount),
                "invoice_status": invoice.status,
            },
        )
        written.append(allocation)
    return written


def allocations_undo_locked(*, actor: User | None, payment: Payment, reason: str) -> None:
    """Remove every allocation of `payment` (locked by the caller), locking its invoices by
    ascending pk and giving each back what it had been paid."""
    allocations = list(payment.allocations.all())
    invoices = invoices_lock(allocation.invoice_id for allocation in allocations)
    for allocation in allocations:
        allocation_undo_locked(
            actor=actor, allocation=allocation, invoice=invoices[allocation.invoice_id], why=reason
        )


def allocation_undo_locked(
    *, actor: User | None, allocation: PaymentAllocation, invoice: Invoice, why: str
) -> None:
    invoice.amount_paid -= allocation.amount
    invoice_balance_refresh(invoice)
    audit_record(
        action="payment.allocation_removed",
        entity=allocation.payment,
        actor=actor,
        old_values={"invoice": invoice.number, "amount": str(allocation.amount)},
        new_values={"invoice_status": invoice.status, "reason": why},
    )
    allocation.delete()


@refusals_audited
def allocation_add(
    *, actor: User | None, payment: Payment, invoice: Invoice, amount: Decimal
) -> PaymentAllocation:
    """Set `amount` of a completed payment's unallocated money against one of its party's
    open invoices (its credit, used later)."""
    permission_check(actor=actor, action="payment.allocate", permission=MANAGE_FINANCE)
    with transaction.atomic(durable=True):
        locked: Payment = Payment.objects.select_for_update().get(pk=payment.pk)
        invoices = invoices_lock([invoice.pk])
        if invoice.pk not in invoices:
            raise _refused("That invoice does not exist.", locked)
        (allocation,) = allocations_write_locked(
            actor=actor, payment=locked, allocations=[(invoice, amount)], invoices=invoices
        )
    return allocation


@refusals_audited
def allocation_remove(*, actor: User | None, allocation: PaymentAllocation) -> Payment:
    """Take an allocation back: its money is the payment's unallocated credit again and the
    invoice owes it again."""
    permission_check(actor=actor, action="payment.allocation_remove", permission=MANAGE_FINANCE)
    with transaction.atomic(durable=True):
        payment: Payment = Payment.objects.select_for_update().get(pk=allocation.payment_id)
        invoices = invoices_lock([allocation.invoice_id])
        current = PaymentAllocation.objects.filter(pk=allocation.pk).first()
        if current is None:
            raise _refused(
                "This allocation has already been removed.", payment, "payment.allocation_remove"
            )
        invoice = invoices[current.invoice_id]
        if invoice.status not in (*OPEN_STATUSES, InvoiceStatus.PAID):
            raise _refused(
                f"{invoice} is {invoice.get_status_display().lower()}.",
                payment,
                "payment.allocation_remove",
            )
        current.payment = payment
        allocation_undo_locked(
            actor=actor, allocation=current, invoice=invoice, why="removed by a finance user"
        )
    return payment
