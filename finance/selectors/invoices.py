"""What the invoice pages read: the list with its filters (a fixed number of queries whatever
its length), one invoice or credit note with its lines, payments, credit notes and history, and
the choices of recipient for a draft."""

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from audit.models import AuditEvent
from finance.models import DocumentKind, Invoice, InvoiceStatus, PaymentAllocation
from learners.models import Learner
from partners.models import Partner
from sponsors.models import Sponsor

RECIPIENT_TYPES = [("sponsor", "Sponsors"), ("learner", "Learners"), ("partner", "Partners")]


def invoice_list(
    *, search: str = "", status: str = "", kind: str = "", recipient_type: str = ""
) -> QuerySet[Invoice]:
    """Invoices and credit notes, newest first; `search` matches the number, the recipient's
    name as issued or the sponsor's, learner's or partner's name for a draft."""
    invoices = Invoice.objects.select_related(
        "sponsor", "learner", "partner", "credited_invoice"
    ).order_by("-created_at", "-pk")
    if status:
        invoices = invoices.filter(status=status)
    if kind:
        invoices = invoices.filter(kind=kind)
    if recipient_type in {"sponsor", "learner", "partner"}:
        invoices = invoices.filter(**{f"{recipient_type}__isnull": False})
    if search:
        invoices = invoices.filter(
            Q(number__icontains=search)
            | Q(recipient_name__icontains=search)
            | Q(sponsor__company_name__icontains=search)
            | Q(learner__first_name__icontains=search)
            | Q(learner__last_name__icontains=search)
            | Q(partner__name__icontains=search)
        )
    return invoices


def recipient_name_of(invoice: Invoice) -> str:
    """As issued, or (for a draft) as the sponsor, learner or partner is named now."""
    if invoice.recipient_name:
        return invoice.recipient_name
    if invoice.sponsor is not None:
        return invoice.sponsor.company_name
    if invoice.learner is not None:
        return invoice.learner.full_name
    return invoice.partner.name if invoice.partner is not None else ""


def invoice_for_page(*, pk: int) -> Invoice:
    """One invoice or credit note with all its page shows (Invoice.DoesNotExist otherwise)."""
    invoice: Invoice = (
        Invoice.objects.select_related(
            "sponsor", "learner", "partner", "credited_invoice", "created_by", "issued_by"
        )
        .prefetch_related(
            "lines",
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.select_related("payment").order_by(
                    "created_at", "pk"
                ),
            ),
            Prefetch("credit_notes", queryset=Invoice.objects.order_by("created_at", "pk")),
        )
        .get(pk=pk)
    )
    return invoice


def invoice_history(invoice: Invoice) -> QuerySet[AuditEvent]:
    """The audit trail's events about this document, oldest first."""
    return (
        AuditEvent.objects.filter(entity_type="finance.invoice", entity_id=str(invoice.pk))
        .select_related("actor")
        .order_by("id")
    )


@dataclass(frozen=True)
class InvoiceActions:
    """What a finance user may do with the document now (admins see none of it)."""

    edit: bool
    issue: bool
    delete: bool
    void: bool
    credit: bool
    resend: bool
    record_payment: bool


def invoice_actions(invoice: Invoice, *, may_manage: bool) -> InvoiceActions:
    draft = invoice.status == InvoiceStatus.DRAFT
    is_invoice = invoice.kind == DocumentKind.INVOICE
    open_invoice = invoice.status in (
        InvoiceStatus.ISSUED,
        InvoiceStatus.PARTIALLY_PAID,
        InvoiceStatus.PAID,
    )
    return InvoiceActions(
        edit=may_manage and draft,
        issue=may_manage and draft,
        delete=may_manage and draft,
        void=may_manage
        and is_invoice
        and invoice.status == InvoiceStatus.ISSUED
        and not invoice.amount_paid
        and not invoice.amount_credited,
        credit=may_manage
        and is_invoice
        and open_invoice
        and invoice.total > invoice.amount_credited,
        resend=may_manage and bool(invoice.pdf) and open_invoice and bool(invoice.recipient_email),
        record_payment=may_manage
        and is_invoice
        and invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID),
    )


def payer_key(invoice: Invoice) -> str:
    """The payments page's name for who pays `invoice` (`sponsor:12`), to start recording their
    payment with them chosen."""
    for kind in ("sponsor", "learner", "partner"):
        pk = getattr(invoice, f"{kind}_id")
        if pk is not None:
            return f"{kind}:{pk}"
    return ""


def history_words(action: str) -> str:
    """An audit action as the invoice's history reads it: `invoice.draft_created` is "Draft
    created", `credit_note.issued` "Issued", `invoice.edit.refused` "Edit refused"."""
    _, _, rest = action.partition(".")
    return (rest or action).replace(".", " ").replace("_", " ").capitalize()


def sponsors_for_invoicing() -> QuerySet[Sponsor]:
    return Sponsor.objects.order_by("company_name")


def learners_for_invoicing() -> QuerySet[Learner]:
    return Learner.objects.order_by("last_name", "first_name", "pk")


def partners_for_invoicing() -> QuerySet[Partner]:
    return Partner.objects.filter(is_active=True).order_by("name")
