"""Issued invoices and received payments for the payments tests, through the services."""

import datetime
from decimal import Decimal

from django.utils import timezone

from finance.models import Invoice, Payment, PaymentDirection, PaymentPurpose, PaymentStatus
from finance.services.invoices import LineInput, Recipient, invoice_draft_create, invoice_issue
from finance.services.payments import PaymentInput, payment_receive
from tests.finance.support import Finance


def issued(
    world: Finance,
    amount: str | Decimal,
    *,
    recipient: Recipient | None = None,
    issued_on: datetime.date | None = None,
    currency: str = "",
    lines: list[LineInput] | None = None,
) -> Invoice:
    """An issued invoice of exactly `amount` (one line without VAT) to the sponsor unless
    another recipient is given."""
    draft = invoice_draft_create(
        actor=world.finance,
        recipient=recipient or Recipient(sponsor=world.sponsor),
        lines=lines
        or [LineInput(description="Tuition", unit_price=Decimal(amount), vat_applies=False)],
        currency=currency,
    )
    return invoice_issue(actor=world.finance, invoice=draft, issued_on=issued_on)


def received(
    world: Finance,
    amount: str | Decimal,
    allocations: list[tuple[Invoice, str | Decimal]] | None = None,
    *,
    status: str = PaymentStatus.COMPLETED,
    paid_on: datetime.date | None = None,
    currency: str = "ZAR",
    **party,
) -> Payment:
    """A payment for invoices received from the sponsor (unless another party is given)."""
    party = party or {"sponsor": world.sponsor}
    return payment_receive(
        actor=world.finance,
        payment=PaymentInput(
            direction=PaymentDirection.RECEIVED,
            purpose=PaymentPurpose.INVOICE,
            amount=Decimal(amount),
            currency=currency,
            paid_on=paid_on or timezone.localdate(),
            reference="EFT",
            status=status,
            **party,
        ),
        allocations=[(invoice, Decimal(share)) for invoice, share in allocations or []],
    )
