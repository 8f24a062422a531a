"""Invoices and credit notes, for finance (finance.view_finance sees them; only
finance.manage_finance changes them, and admins see the same pages without the buttons):
the list, drafting and editing, issuing, voiding and deleting (each after a confirmation
page), crediting, the detail page, and the PDF, downloaded through here and never from a
public address. Every write goes through finance.services."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from finance.access import MANAGE_FINANCE, VIEW_FINANCE
from finance.forms.invoices import (
    CreditForm,
    InvoiceFilterForm,
    InvoiceHeaderForm,
    VoidForm,
    credit_line_forms,
    credit_lines_chosen,
    line_formset,
)
from finance.models import Invoice, InvoiceStatus
from finance.selectors.invoices import (
    history_words,
    invoice_actions,
    invoice_for_page,
    invoice_history,
    invoice_list,
    payer_key,
    recipient_name_of,
)
from finance.services.credit_notes import credit_note_draft_create
from finance.services.invoices import (
    invoice_draft_create,
    invoice_draft_delete,
    invoice_draft_update,
    invoice_issue,
    invoice_pdf_filename,
    invoice_resend,
    invoice_void,
    uncredited_amount,
)
from tenants.ratelimits import rate_limited

# Each resend is an e-mail with the PDF to someone outside: a person sends a few an hour.
RESEND_RATE = "10/h"
TOO_MANY_RESENDS = (
    "You have e-mailed invoices again many times in the last hour: try again later, or "
    "download the PDF and send it yourself."
)


def _invoice(pk: int) -> Invoice:
    try:
        return invoice_for_page(pk=pk)
    except Invoice.DoesNotExist as missing:
        raise Http404 from missing


def _refusal(request: AuthenticatedRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@permission_required(VIEW_FINANCE)
def invoice_list_page(request: AuthenticatedRequest) -> HttpResponse:
    filters = InvoiceFilterForm(request.GET or None)
    page = list_page(request, invoice_list(**filters.selector_filters()))
    for invoice in page:
        invoice.recipient_display = recipient_name_of(invoice)  # type: ignore[attr-defined]
    return render(
        request,
        "finance/invoices/list.html",
        {"filters": filters, "page": page, "may_manage": request.user.may(MANAGE_FINANCE)},
    )


@permission_required(VIEW_FINANCE)
def invoice_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _invoice(pk))


def _detail_page(
    request: AuthenticatedRequest, invoice: Invoice, *, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "finance/invoices/detail.html",
        {
            "invoice": invoice,
            "recipient_name": recipient_name_of(invoice),
            "actions": invoice_actions(invoice, may_manage=request.user.may(MANAGE_FINANCE)),
            "history": [(event, history_words(event.action)) for event in invoice_history(invoice)],
            "payer_key": payer_key(invoice),
            "uncredited": uncredited_amount(invoice),
        },
        status=status,
    )


def _draft_form(request: AuthenticatedRequest, invoice: Invoice | None) -> HttpResponse:
    """The draft's page (a new one for `invoice` None): shown, given more rows, or saved
    through invoice_draft_create or invoice_draft_update."""
    data = request.POST if request.method == "POST" else None
    header = InvoiceHeaderForm(data, invoice=invoice)
    lines = line_formset(data, invoice=invoice)
    status = 200
    if data is not None and "more" not in data:
        status = 400
        if header.is_valid() and lines.is_valid():
            fields = {
                "actor": request.user,
                "lines": lines.lines(),
                "reference": header.cleaned_data["reference"],
                "notes": header.cleaned_data["notes"],
            }
            try:
                if invoice is None:
                    saved = invoice_draft_create(
                        recipient=header.cleaned_data["recipient"], **fields
                    )
                else:
                    recipient = header.cleaned_data.get("recipient")
                    saved = invoice_draft_update(invoice=invoice, recipient=recipient, **fields)
            except ValidationError as error:
                header.add_error(None, error)
            else:
                messages.success(request, "The draft is saved. Check it, then issue it.")
                return redirect(saved)
    return render(
        request,
        "finance/invoices/form.html",
        {"header": header, "lines": lines, "invoice": invoice},
        status=status,
    )


@permission_required(MANAGE_FINANCE)
@never_cache
def invoice_create(request: AuthenticatedRequest) -> HttpResponse:
    return _draft_form(request, None)


@permission_required(MANAGE_FINANCE)
@never_cache
def invoice_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invoice = _invoice(pk)
    if invoice.status != InvoiceStatus.DRAFT and request.method != "POST":
        # Only looking: said, not audited (a GET changes nothing, and may come from a link).
        messages.error(
            request,
            f"{invoice} has been issued and can no longer be changed: credit it with a credit "
            "note instead.",
        )
        return redirect(invoice)
    if invoice.status != InvoiceStatus.DRAFT:
        # A change is refused (and audited) by the service.
        try:
            invoice_draft_update(actor=request.user, invoice=invoice, lines=[])
        except ValidationError as error:
            _refusal(request, error)
        return redirect(invoice)
    return _draft_form(request, invoice)


def _confirm(
    request: AuthenticatedRequest, invoice: Invoice, action: str, form=None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "finance/invoices/confirm.html",
        {
            "invoice": invoice,
            "action": action,
            "form": form,
            "recipient_name": recipient_name_of(invoice),
        },
        status=status,
    )


@permission_required(MANAGE_FINANCE)
@never_cache
def invoice_issue_confirm(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invoice = _invoice(pk)
    if request.method != "POST":
        return _confirm(request, invoice, "issue")
    try:
        invoice = invoice_issue(actor=request.user, invoice=invoice)
    except ValidationError as error:
        _refusal(request, error)
    else:
        messages.success(
            request,
            f"{invoice.get_kind_display()} {invoice.number} is issued. Its PDF is being made "
            "and will be e-mailed to the recipient.",
        )
    return redirect(invoice)


@permission_required(MANAGE_FINANCE)
@never_cache
def invoice_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invoice = _invoice(pk)
    if request.method != "POST":
        return _confirm(request, invoice, "delete")
    try:
        invoice_draft_delete(actor=request.user, invoice=invoice)
    except ValidationError as error:
        _refusal(request, error)
        return redirect(invoice)
    messages.success(request, f"The draft {invoice.get_kind_display().lower()} is deleted.")
    return redirect("finance:invoices")


@permission_required(MANAGE_FINANCE)
@never_cache
def invoice_void_confirm(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invoice = _invoice(pk)
    form = VoidForm(request.POST if request.method == "POST" else None)
    if request.method != "POST":
        return _confirm(request, invoice, "void", form)
    if not form.is_valid():
        return _confirm(request, invoice, "void", form, status=400)
    try:
        invoice = invoice_void(
            actor=request.user, invoice=invoice, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        _refusal(request, error)
    else:
        messages.success(request, f"{invoice.number} is void. Its number stays used.")
    return redirect(invoice)


@permission_required(MANAGE_FINANCE)
@never_cache
def invoice_credit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Choose the lines (and quantities) a credit note takes back: the whole invoice unless
    fewer are chosen. The credit note is a draft until it is issued."""
    invoice = _invoice(pk)
    data = request.POST if request.method == "POST" else None
    form = CreditForm(data)
    line_forms = credit_line_forms(invoice, data)
    if data is not None and form.is_valid() and all(line.is_valid() for line in line_forms):
        chosen = credit_lines_chosen(line_forms)
        if not chosen:
            form.add_error(None, "Tick at least one line to credit.")
        else:
            try:
                credit_note = credit_note_draft_create(
                    actor=request.user,
                    invoice=invoice,
                    lines=chosen,
                    notes=form.cleaned_data["notes"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    "The draft credit note is saved. Check it, then issue it: only then "
                    f"is it taken off {invoice.number}.",
                )
                return redirect(credit_note)
    return render(
        request,
        "finance/invoices/credit.html",
        {
            "invoice": invoice,
            "form": form,
            "line_forms": line_forms,
            "uncredited": uncredited_amount(invoice),
        },
        status=400 if data is not None else 200,
    )


@permission_required(MANAGE_FINANCE)
@require_POST
def invoice_resend_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    invoice = _invoice(pk)
    if rate_limited(request, group="finance.invoice_resend", key="user", rate=RESEND_RATE):
        messages.error(request, TOO_MANY_RESENDS)
        return _detail_page(request, invoice, status=429)
    try:
        invoice = invoice_resend(actor=request.user, invoice=invoice)
    except ValidationError as error:
        _refusal(request, error)
    else:
        messages.success(
            request, f"{invoice.number} is e-mailed again to {invoice.recipient_email}."
        )
    return redirect(invoice)


@permission_required(VIEW_FINANCE)
def invoice_pdf(request: AuthenticatedRequest, pk: int) -> FileResponse:
    """The sealed PDF, from private storage (404 until it is made)."""
    invoice = _invoice(pk)
    if not invoice.pdf:
        raise Http404
    return FileResponse(
        invoice.pdf.open("rb"),
        as_attachment=True,
        filename=invoice_pdf_filename(invoice),
        content_type="application/pdf",
    )
