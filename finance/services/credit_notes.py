"""Credit notes: the only way to take something off an issued invoice. A draft credit note is
made from an issued (or partly or fully paid) invoice, to the same recipient in the same
currency, with the lines chosen (the whole invoice unless fewer are); its total may not exceed
what the invoice still has un-credited. Issuing it is finance.services.invoices.invoice_issue,
which numbers it from its own sequence (CN-YYYY-NNNNN) and, in the same transaction, adds its
total to the invoice's amount credited and refreshes the invoice's status."""

from collections.abc import Sequence
from dataclasses import replace

from django.db import transaction

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from finance.access import MANAGE_FINANCE
from finance.models import DocumentKind, Invoice
from finance.services.invoices import (
    LineInput,
    credit_cap_check,
    lines_validate,
    lines_write,
)
from finance.services.refusals import refusals_audited


def credit_lines_of(invoice: Invoice) -> list[LineInput]:
    """The whole invoice, line by line, as a credit note's lines."""
    return [
        LineInput(
            description=line.description,
            unit_price=line.unit_price,
            quantity=line.quantity,
            vat_applies=line.vat_applies,
            course_enrollment=line.course_enrollment,
        )
        for line in invoice.lines.select_related("course_enrollment")
    ]


@refusals_audited
def credit_note_draft_create(
    *,
    actor: User | None,
    invoice: Invoice,
    lines: Sequence[LineInput] | None = None,
    notes: str = "",
) -> Invoice:
    """A draft credit note against `invoice` with `lines` (the whole invoice when None);
    refused (audited) when the invoice is a draft, void or a credit note itself, or when the
    lines come to more than it has un-credited."""
    permission_check(actor=actor, action="credit_note.draft_create", permission=MANAGE_FINANCE)
    chosen = list(lines) if lines is not None else credit_lines_of(invoice)
    chosen = [replace(line, description=line.description.strip()) for line in chosen]
    lines_validate(chosen)
    with transaction.atomic(durable=True):
        credited: Invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
        credit_note: Invoice = Invoice(
            kind=DocumentKind.CREDIT_NOTE,
            credited_invoice=credited,
            sponsor_id=credited.sponsor_id,
            learner_id=credited.learner_id,
            partner_id=credited.partner_id,
            currency=credited.currency,
            vat_rate=credited.vat_rate,
            reference=credited.number,
            notes=notes.strip(),
            created_by=actor,
        )
        credit_note.save()
        lines_write(credit_note, chosen)
        credit_cap_check(credit_note, credited, action="credit_note.draft_create")
        credit_note.save(update_fields=["subtotal", "vat_amount", "total"])
        audit_record(
            action="credit_note.draft_created",
            entity=credit_note,
            actor=actor,
            new_values={
                "credited_invoice": credited.number,
                "total": str(credit_note.total),
                "lines": len(chosen),
            },
        )
    return credit_note
