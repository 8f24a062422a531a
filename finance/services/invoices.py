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
from django.db.models import Sum
from django.utils import timezone

from academics.currencies import cents, currency_error, money_text
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
from notifications.services import email_enqueue
from partners.models import Partner
from signing.documents import sha256_hex
from signing.sealing import pdf_seal
from signing.services.certificates import certificate_for_institution
from sponsors.models import Sponsor
from tenants.db import tenant_connection
from tenants.storage import file_store, files_removed_on_failure

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


def refusal_for(invoice: Invoice, message: str, action: str) -> Refused:
    return Refused(message, action=action, entity_type="finance.invoice", entity_id=invoice.pk)


def uncredited_amount(invoice: Invoice) -> Decimal:
    """What issued credit notes have not yet taken off `invoice`'s total."""
    left: Decimal = invoice.total - invoice.amount_credited
    return left


def _credit_vat_cap(credit_note: Invoice, credited: Invoice) -> None:
    """Keep a credit note's VAT within the invoice's VAT that issued credit notes have not yet
    taken (each note's VAT is rounded on its own, so notes crediting an invoice line by line
    could otherwise come to a cent more than it, and the last would be refused)."""
    taken = (
        Invoice.objects.filter(credited_invoice=credited, kind=DocumentKind.CREDIT_NOTE)
        .exclude(status=InvoiceStatus.DRAFT)
        .exclude(pk=credit_note.pk)
        .aggregate(vat=Sum("vat_amount"))["vat"]
    ) or Decimal(0)
    vat_left = max(credited.vat_amount - taken, Decimal(0))
    if credit_note.vat_amount > vat_left:
        credit_note.vat_amount = vat_left
        credit_note.total = credit_note.subtotal + vat_left


def credit_cap_check(credit_note: Invoice, credited: Invoice, *, action: str) -> None:
    """Refuse a credit note for more than its invoice still has un-credited, or against an
    invoice that is not issued (a draft has nothing to credit; a void one owes nothing) or
    against another credit note. The note's VAT is first capped at the invoice's VAT not yet
    credited (its total with it)."""
    if credited.kind == DocumentKind.CREDIT_NOTE:
        raise refusal_for(
            credited, f"{credited} is a credit note: only an invoice can be credited.", action
        )
    if credited.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
        raise refusal_for(
            credited,
            f"{credited} is {credited.get_status_display().lower()}: only an issued invoice can "
            "be credited.",
            action,
        )
    _credit_vat_cap(credit_note, credited)
    left = uncredited_amount(credited)
    if credit_note.total > left:
        raise refusal_for(
            credited,
            f"The credit note's total of {money_text(credit_note.total, credit_note.currency)} "
            f"is more than the {money_text(left, credited.currency)} of {credited} not yet "
            "credited.",
            action,
        )


@refusals_audited
def invoice_issue(
    *, actor: User | None, invoice: Invoice, issued_on: datetime.date | None = None
) -> Invoice:
    """Number a draft from its financial year's sequence and fix it: the recipient's details,
    the VAT rate and totals as they are now, the issue and due dates. From here on it can only
    be paid, credited or voided. A credit note also takes its total off its invoice's balance,
    in the same transaction; it keeps the VAT rate of the invoice it credits. The PDF is made
    and e-mailed by a task once this commits (finance.tasks.invoices)."""
    from finance.tasks.invoices import invoice_pdf_send

    permission_check(actor=actor, action="invoice.issue", permission=MANAGE_FINANCE)
    settings = finance_settings_current()
    issued_on = issued_on or timezone.localdate()
    with transaction.atomic(durable=True):
        credited: Invoice | None = None
        if invoice.kind == DocumentKind.CREDIT_NOTE:
            # Lock order: the credited invoice, then the credit note, then the counter (payment
            # allocation locks invoices alone), so that no two issues wait on each other.
            credited = Invoice.objects.select_for_update().get(pk=invoice.credited_invoice_id)
        locked: Invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("sponsor", "learner", "partner")
            .get(pk=invoice.pk)
        )
        invoice = locked
        if invoice.status != InvoiceStatus.DRAFT:
            raise refusal_for(invoice, f"{invoice} has already been issued.", "invoice.issue")
        lines = list(invoice.lines.all())
        if not lines:
            raise refusal_for(
                invoice,
                "An invoice needs at least one line before it is issued.",
                "invoice.issue",
            )
        for name, value in recipient_of(invoice).details().items():
            setattr(invoice, name, value)
        invoice.vat_rate = credited.vat_rate if credited is not None else settings.vat_rate
        totals = totals_of(lines, vat_rate=invoice.vat_rate)
        invoice.subtotal, invoice.vat_amount, invoice.total = (
            totals.subtotal,
            totals.vat_amount,
            totals.total,
        )
        if credited is not None:
            credit_cap_check(invoice, credited, action="credit_note.issue")
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
        new_values = {
            "number": invoice.number,
            "total": str(invoice.total),
            "currency": invoice.currency,
        }
        if credited is not None:
            credited.amount_credited += invoice.total
            invoice_balance_refresh(credited)
            new_values["credited_invoice"] = credited.number
            audit_record(
                action="invoice.credited",
                entity=credited,
                actor=actor,
                new_values={
                    "credit_note": invoice.number,
                    "amount_credited": str(credited.amount_credited),
                    "status": credited.status,
                },
            )
        audit_record(
            action=f"{invoice.kind}.issued", entity=invoice, actor=actor, new_values=new_values
        )
        invoice_pdf_send.delay_on_commit(invoice.pk)
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


def _draft_locked(invoice: Invoice, action: str) -> Invoice:
    """The draft's row, locked; refused (audited) once it has been issued."""
    locked: Invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if locked.status != InvoiceStatus.DRAFT:
        raise refusal_for(
            locked,
            f"{locked} has been issued and can no longer be changed: credit it with a credit "
            "note instead.",
            action,
        )
    return locked


@refusals_audited
def invoice_draft_update(
    *,
    actor: User | None,
    invoice: Invoice,
    lines: Sequence[LineInput],
    recipient: Recipient | None = None,
    reference: str = "",
    notes: str = "",
) -> Invoice:
    """Replace a draft's lines, reference and notes (and its recipient, unless it is a credit
    note, whose recipient is its invoice's). Refused once issued; a credit note may not come to
    more than its invoice has un-credited."""
    permission_check(actor=actor, action="invoice.edit", permission=MANAGE_FINANCE)
    with transaction.atomic(durable=True):
        credited: Invoice | None = None
        if invoice.kind == DocumentKind.CREDIT_NOTE:
            credited = Invoice.objects.select_for_update().get(pk=invoice.credited_invoice_id)
        invoice = _draft_locked(invoice, "invoice.edit")
        lines_validate(lines)
        old = {"total": str(invoice.total), "lines": invoice.lines.count()}
        if recipient is not None and credited is None:
            for name, party in recipient.fields().items():
                setattr(invoice, name, party)
        invoice.reference, invoice.notes = reference.strip(), notes.strip()
        lines_write(invoice, lines)
        if credited is not None:
            credit_cap_check(invoice, credited, action="invoice.edit")
        invoice.save(
            update_fields=[
                "sponsor",
                "learner",
                "partner",
                "reference",
                "notes",
                "subtotal",
                "vat_amount",
                "total",
            ]
        )
        audit_record(
            action=f"{invoice.kind}.draft_updated",
            entity=invoice,
            actor=actor,
            old_values=old,
            new_values={"total": str(invoice.total), "lines": len(lines)},
        )
    return invoice


@refusals_audited
def invoice_draft_delete(*, actor: User | None, invoice: Invoice) -> None:
    """Delete a draft (it has no number, so nothing is lost from the sequence); refused once
    issued."""
    permission_check(actor=actor, action="invoice.delete", permission=MANAGE_FINANCE)
    with transaction.atomic(durable=True):
        invoice = _draft_locked(invoice, "invoice.delete")
        audit_record(
            action=f"{invoice.kind}.draft_deleted",
            entity=invoice,
            actor=actor,
            old_values={"total": str(invoice.total), "currency": invoice.currency},
        )
        invoice.delete()


@refusals_audited
def invoice_void(*, actor: User | None, invoice: Invoice, reason: str) -> Invoice:
    """Cancel an issued invoice nothing has been paid or credited against; its number stays
    used (and printed as void). A credit note is not voided: credit the other way instead."""
    permission_check(actor=actor, action="invoice.void", permission=MANAGE_FINANCE)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the invoice is void: it is kept with it."})
    with transaction.atomic(durable=True):
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if invoice.kind == DocumentKind.CREDIT_NOTE:
            raise refusal_for(
                invoice, f"{invoice} is a credit note: it cannot be voided.", "invoice.void"
            )
        if invoice.status != InvoiceStatus.ISSUED:
            raise refusal_for(
                invoice,
                f"{invoice} is {invoice.get_status_display().lower()}: only an issued invoice "
                "with nothing paid or credited can be voided.",
                "invoice.void",
            )
        if invoice.amount_paid or invoice.amount_credited or invoice.allocations.exists():
            raise refusal_for(
                invoice,
                f"Something has been paid or credited against {invoice}: it cannot be voided. "
                "Credit it with a credit note instead.",
                "invoice.void",
            )
        invoice.void()
        invoice.voided_at = timezone.now()
        invoice.void_reason = reason
        invoice.save(update_fields=["status", "voided_at", "void_reason"])
        audit_record(
            action="invoice.voided", entity=invoice, actor=actor, new_values={"reason": reason}
        )
    return invoice


# --- The PDF and its e-mail ---------------------------------------------------------------------

PDF_STORAGE_FAILED = "The invoice's PDF could not be stored; it will be tried again."


def invoice_pdf_filename(invoice: Invoice) -> str:
    return f"{invoice.number}.pdf"


def invoice_pdf_make(*, invoice_id: int) -> bool:
    """Render, seal and store an issued document's PDF once; False if it already had one (or
    is a draft). Rendering happens outside the transaction; storing under the row's lock, so a
    repeated or concurrent task keeps the first PDF."""
    from finance.invoice_pdf import invoice_pdf

    invoice = (
        Invoice.objects.select_related("credited_invoice")
        .prefetch_related("lines")
        .filter(pk=invoice_id)
        .exclude(status=InvoiceStatus.DRAFT)
        .first()
    )
    if invoice is None or invoice.pdf:
        return False
    sealed = pdf_seal(
        invoice_pdf(
            invoice, institution=tenant_connection.tenant, settings=finance_settings_current()
        ),
        certificate=certificate_for_institution(),
        reason=f"{invoice.get_kind_display()} {invoice.number}",
    )
    with files_removed_on_failure() as stored, transaction.atomic(durable=True):
        locked: Invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if locked.pdf:
            return False
        file_store(
            locked.pdf,
            name=invoice_pdf_filename(locked),
            content=sealed,
            failure_message=PDF_STORAGE_FAILED,
            described_as=f"the PDF of invoice {locked.pk}",
        )
        stored.append(locked.pdf)
        locked.save(update_fields=["pdf"])
        audit_record(
            action=f"{locked.kind}.pdf_rendered",
            entity=locked,
            actor=None,
            new_values={"sha256": sha256_hex(sealed)},
        )
    return True


def _email_enqueue(invoice: Invoice) -> None:
    """Queue the e-mail with the PDF attached, inside the caller's transaction."""
    email_enqueue(
        recipient=invoice.recipient_email,
        template="finance_invoice",
        context={
            "recipient_name": invoice.recipient_name,
            "kind": invoice.get_kind_display().lower(),
            "number": invoice.number,
            "total": money_text(invoice.total, invoice.currency),
            "due_on": invoice.due_on.strftime("%-d %B %Y") if invoice.due_on else "",
            "credited_number": invoice.credited_invoice.number if invoice.credited_invoice else "",
            "attachments": [
                {
                    "path": invoice.pdf.name,
                    "filename": invoice_pdf_filename(invoice),
                    "mimetype": "application/pdf",
                }
            ],
        },
    )


def invoice_email_first(*, invoice_id: int) -> bool:
    """E-mail an issued document's PDF to its recipient the first time; False when it has no
    PDF yet, no e-mail address, has already been e-mailed or has been voided meanwhile."""
    with transaction.atomic(durable=True):
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("credited_invoice")
            .filter(pk=invoice_id, emailed_at__isnull=True)
            .exclude(status__in=(InvoiceStatus.DRAFT, InvoiceStatus.VOID))
            .first()
        )
        if invoice is None or not invoice.pdf or not invoice.recipient_email:
            return False
        _email_enqueue(invoice)
        invoice.emailed_at = timezone.now()
        invoice.save(update_fields=["emailed_at"])
        audit_record(
            action=f"{invoice.kind}.emailed",
            entity=invoice,
            actor=None,
            new_values={"emailed": True},
        )
    return True


@refusals_audited
def invoice_resend(*, actor: User | None, invoice: Invoice) -> Invoice:
    """E-mail the PDF to the recipient again (they lost it, or the first went astray)."""
    permission_check(actor=actor, action="invoice.resend", permission=MANAGE_FINANCE)
    with transaction.atomic(durable=True):
        invoice = (
            Invoice.objects.select_for_update(of=("self",))
            .select_related("credited_invoice")
            .get(pk=invoice.pk)
        )
        if invoice.status == InvoiceStatus.DRAFT:
            raise refusal_for(
                invoice, f"{invoice} is not issued: there is nothing to send.", "invoice.resend"
            )
        if invoice.status == InvoiceStatus.VOID:
            raise refusal_for(
                invoice, f"{invoice} is void: it is not sent again.", "invoice.resend"
            )
        if not invoice.pdf:
            raise refusal_for(
                invoice,
                f"{invoice}'s PDF is still being made: try again in a minute.",
                "invoice.resend",
            )
        if not invoice.recipient_email:
            raise refusal_for(
                invoice,
                "The recipient has no e-mail address on this invoice: it keeps the address it "
                "was issued with, so download the PDF and send it yourself (and add an address "
                "to their record for the next one).",
                "invoice.resend",
            )
        _email_enqueue(invoice)
        invoice.emailed_at = timezone.now()
        invoice.save(update_fields=["emailed_at"])
        audit_record(
            action=f"{invoice.kind}.emailed",
            entity=invoice,
            actor=actor,
            new_values={"emailed": True, "again": True},
        )
    return invoice
