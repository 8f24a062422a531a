"""Invoices and credit notes: drafting, and issuing, which numbers the document (gapless, per
kind and financial year: finance.services.numbering), fixes the recipient's details, the VAT
rate and the totals, and from then on leaves it to be paid or credited, never edited.

Only who holds finance.manage_finance writes; each change is checked before its transaction,
runs with its rows locked and is audited; refusals are audited by accounts.permissions."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from academics.currencies import cents, currency_error
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from delivery.models import CourseEnrollment
from finance.access import MANAGE_FINANCE
from finance.models import DocumentKind, Invoice, InvoiceLine, InvoiceStatus
from finance.selectors.settings import finance_settings_current
from finance.services.numbering import document_number, financial_year_of, number_take
from finance.services.refusals import Refused, refusals_audited
from learners.models import Learner
from partners.models import Partner
from sponsors.models import Sponsor

MAX_LINES = 200


@dataclass(frozen=True)
class Recipient:
    """Who an invoice is to: exactly one of a sponsor, a learner or a partner."""

    sponsor: Sponsor | None = None
    learner: Learner | None = None
    partner: Partner | None = None

    def __post_init__(self) -> None:
        if sum(party is not None for party in (self.sponsor, self.learner, self.partner)) != 1:
            raise TypeError("An invoice goes to one sponsor, learner or partner.")

    def fields(self) -> dict[str, object]:
        return {"sponsor": self.sponsor, "learner": self.learner, "partner": self.partner}

    def details(self) -> dict[str, str]:
        """Name, e-mail, address and tax number as printed on the issued invoice."""
        if self.sponsor is not None:
            return {
                "recipient_name": self.sponsor.company_name,
                "recipient_email": self.sponsor.contact_email,
                "recipient_address": "",
                "recipient_tax_number": self.sponsor.tax_number,
            }
        if self.learner is not None:
            learner = self.learner
            address = [learner.address_line1, learner.address_line2, learner.city]
            address += [learner.province, learner.postal_code]
            return {
                "recipient_name": learner.full_name,
                "recipient_email": learner.email,
                "recipient_address": "\n".join(part for part in address if part),
                "recipient_tax_number": "",
            }
        partner = self.partner
        assert partner is not None
        return {
            "recipient_name": partner.name,
            "recipient_email": partner.email,
            "recipient_address": partner.address,
            "recipient_tax_number": partner.vat_number or partner.tax_number,
        }


def recipient_of(invoice: Invoice) -> Recipient:
    return Recipient(sponsor=invoice.sponsor, learner=invoice.learner, partner=invoice.partner)


@dataclass(frozen=True)
class LineInput:
    description: str
    unit_price: Decimal
    quantity: Decimal = Decimal(1)
    vat_applies: bool = True
    course_enrollment: CourseEnrollment | None = None


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    vat_amount: Decimal
    total: Decimal


def line_amount(line: LineInput | InvoiceLine) -> Decimal:
    return cents(line.quantity * line.unit_price)


def totals_of(lines: Sequence[LineInput | InvoiceLine], *, vat_rate: Decimal) -> Totals:
    """VAT is worked out once on the sum of the lines that carry it, then rounded to cents."""
    subtotal = sum((line_amount(line) for line in lines), Decimal(0))
    taxed = sum((line_amount(line) for line in lines if line.vat_applies), Decimal(0))
    vat_amount = cents(taxed * vat_rate / 100)
    return Totals(subtotal=subtotal, vat_amount=vat_amount, total=subtotal + vat_amount)


def lines_validate(lines: Sequence[LineInput]) -> None:
    """A ValidationError naming each wrong line (1-based), or nothing."""
    if not lines:
        raise ValidationError("An invoice needs at least one line.")
    if len(lines) > MAX_LINES:
        raise ValidationError(f"An invoice can have at most {MAX_LINES} lines.")
    errors: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.description.strip():
            errors.append(f"Line {number}: say what it is for.")
        if line.unit_price < 0 or line.quantity < 0:
            errors.append(f"Line {number}: the price and quantity cannot be negative.")
        if line.unit_price != cents(line.unit_price):
            errors.append(f"Line {number}: give the price in whole cents.")
    if errors:
        raise ValidationError(errors)


def lines_write(invoice: Invoice, lines: Sequence[LineInput]) -> None:
    """Replace a draft's lines and its totals (inside the caller's transaction)."""
    invoice.lines.all().delete()
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(
                invoice=invoice,
                position=position,
                description=line.description.strip(),
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_applies=line.vat_applies,
                amount=line_amount(line),
                course_enrollment=line.course_enrollment,
            )
            for position, line in enumerate(lines)
        ]
    )
    totals = totals_of(lines, vat_rate=invoice.vat_rate)
    invoice.subtotal, invoice.vat_amount, invoice.total = (
        totals.subtotal,
        totals.vat_amount,
        totals.total,
    )


def invoice_draft_create(
    *,
    actor: User | None,
    recipient: Recipient,
    lines: Sequence[LineInput],
    currency: str = "",
    reference: str = "",
    notes: str = "",
) -> Invoice:
    """A draft invoice with its lines, in the institution's currency unless another is given;
    it has no number until it is issued."""
    permission_check(actor=actor, action="invoice.draft_create", permission=MANAGE_FINANCE)
    settings = finance_settings_current()
    currency = (currency or settings.currency).strip().upper()
    if currency_error(currency):
        raise ValidationError({"currency": currency_error(currency)})
    lines_validate(lines)
    with transaction.atomic(durable=True):
        invoice: Invoice = Invoice(
            kind=DocumentKind.INVOICE,
            currency=currency,
            vat_rate=settings.vat_rate,
            reference=reference.strip(),
            notes=notes.strip(),
            created_by=actor,
            **recipient.fields(),
        )
        invoice.save()
        lines_write(invoice, lines)
        invoice.save(update_fields=["subtotal", "vat_amount", "total"])
        audit_record(
            action="invoice.draft_created",
            entity=invoice,
            actor=actor,
            new_values={"total": str(invoice.total), "currency": currency, "lines": len(lines)},
        )
    return invoice


@refusals_audited
def invoice_issue(
    *, actor: User | None, invoice: Invoice, issued_on: datetime.date | None = None
) -> Invoice:
    """Number a draft from its financial year's sequence and fix it: the recipient's details,
    the VAT rate and totals as they are now, the issue and due dates. From here on it can only
    be paid, credited or voided."""
    permission_check(actor=actor, action="invoice.issue", permission=MANAGE_FINANCE)
    settings = finance_settings_current()
    issued_on = issued_on or timezone.localdate()
    with transaction.atomic(durable=True):
        locked: Invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        invoice = locked
        if invoice.status != InvoiceStatus.DRAFT:
            raise Refused(
                f"{invoice} has already been issued.",
                action="invoice.issue",
                entity_type="finance.invoice",
                entity_id=invoice.pk,
            )
        lines = list(invoice.lines.all())
        if not lines:
            raise ValidationError("An invoice needs at least one line before it is issued.")
        for name, value in recipient_of(invoice).details().items():
            setattr(invoice, name, value)
        invoice.vat_rate = settings.vat_rate
        totals = totals_of(lines, vat_rate=invoice.vat_rate)
        invoice.subtotal, invoice.vat_amount, invoice.total = (
            totals.subtotal,
            totals.vat_amount,
            totals.total,
        )
        invoice.financial_year = financial_year_of(
            issued_on, start_month=settings.financial_year_start_month
        )
        invoice.sequence = number_take(kind=invoice.kind, financial_year=invoice.financial_year)
        invoice.number = document_number(invoice.kind, invoice.financial_year, invoice.sequence)
        invoice.issued_on = issued_on
        invoice.due_on = issued_on + datetime.timedelta(days=settings.invoice_due_days)
        invoice.issued_by = actor
        invoice.issued_at = timezone.now()
        invoice.issue()
        invoice.save()
        audit_record(
            action=f"{invoice.kind}.issued",
            entity=invoice,
            actor=actor,
            new_values={
                "number": invoice.number,
                "total": str(invoice.total),
                "currency": invoice.currency,
            },
        )
    return invoice


def invoice_balance_refresh(invoice: Invoice) -> None:
    """Set an issued invoice's status from what has been paid and credited against it (the
    caller holds its row and has updated `amount_paid` or `amount_credited`)."""
    settled = invoice.amount_paid + invoice.amount_credited
    if settled <= 0:
        target = InvoiceStatus.ISSUED
    elif settled < invoice.total:
        target = InvoiceStatus.PARTIALLY_PAID
    else:
        target = InvoiceStatus.PAID
    if invoice.status != target:
        {
            InvoiceStatus.ISSUED: invoice.mark_unpaid,
            InvoiceStatus.PARTIALLY_PAID: invoice.mark_partially_paid,
            InvoiceStatus.PAID: invoice.mark_paid,
        }[target]()
    invoice.save(update_fields=["status", "amount_paid", "amount_credited"])
