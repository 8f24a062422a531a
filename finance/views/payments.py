"""Payments received and bank statements, for finance (admins read them; the forms and buttons
are hidden from them and the services refuse them): the payments list, recording a payment
with its allocation, a payment's page with its allocations, credit and actions; statement
imports, uploading one, and matching or setting aside the lines that need a person. Every
write goes through finance.services.payments, .allocations or .statements."""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from academics.currencies import money_text
from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from enrolments.uploads import UploadGuard
from finance.access import MANAGE_FINANCE, VIEW_FINANCE
from finance.forms.payments import (
    AllocationAddForm,
    PartyChoiceForm,
    PaymentFailForm,
    PaymentFilterForm,
    PaymentReceiveForm,
    PaymentRefundForm,
    refusal_show,
)
from finance.forms.statements import LineIgnoreForm, LineMatchForm, StatementUploadForm
from finance.models import (
    BankStatementImport,
    BankStatementLine,
    Payment,
    PaymentDirection,
    PaymentPurpose,
    PaymentStatus,
    StatementLineStatus,
)
from finance.selectors.payments import (
    Party,
    allocation_default,
    invoices_open,
    party_choices,
    party_credits,
    party_find,
    party_of,
    payment_detail,
    payment_list,
)
from finance.selectors.settings import finance_settings_current
from finance.selectors.statements import (
    invoices_to_match,
    statement_import_detail,
    statement_import_list,
    statement_line_for_action,
)
from finance.services.allocations import allocation_add, allocation_remove
from finance.services.payments import (
    PaymentInput,
    payment_complete,
    payment_fail,
    payment_receive,
    payment_refund,
)
from finance.services.statements import (
    MAX_FILE_BYTES,
    statement_import,
    statement_line_ignore,
    statement_line_match,
)

# --- Payments ----------------------------------------------------------------------------------


@permission_required(VIEW_FINANCE)
def payment_list_view(request: AuthenticatedRequest) -> HttpResponse:
    filters = PaymentFilterForm(request.GET or None)
    return render(
        request,
        "finance/payments/list.html",
        {
            "filters": filters,
            "page": list_page(request, payment_list(**filters.selector_filters())),
            "may_manage": request.user.may(MANAGE_FINANCE),
        },
    )


def _payment(pk: int) -> Payment:
    try:
        return payment_detail(pk=pk)
    except Payment.DoesNotExist as missing:
        raise Http404 from missing


@permission_required(MANAGE_FINANCE)
@never_cache
def payment_create(request: AuthenticatedRequest) -> HttpResponse:
    """Who paid first (`?party=sponsor:12`), then the payment and its amount per open invoice."""
    party = party_find(request.GET.get("party", ""))
    if party is None:
        chooser = PartyChoiceForm(request.GET or None, choices=party_choices())
        if chooser.is_bound:
            chooser.is_valid()
        return render(
            request,
            "finance/payments/party.html",
            {"chooser": chooser},
            status=400 if chooser.is_bound else 200,
        )
    currency = finance_settings_current().currency
    invoices = list(invoices_open(party=party))
    form = PaymentReceiveForm(
        request.POST if request.method == "POST" else None, invoices=invoices, currency=currency
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        allocations = form.allocations_given()
        if not form.any_allocation_typed() and data["status"] == PaymentStatus.COMPLETED:
            allocations = allocation_default(
                [i for i in invoices if i.currency == data["currency"]], data["amount"]
            )
        try:
            payment = payment_receive(
                actor=request.user,
                payment=PaymentInput(
                    direction=PaymentDirection.RECEIVED,
                    purpose=PaymentPurpose.INVOICE,
                    amount=data["amount"],
                    currency=data["currency"],
                    paid_on=data["paid_on"],
                    method=data["method"],
                    reference=data["reference"],
                    notes=data["notes"],
                    status=data["status"],
                    **party.fields(),  # type: ignore[arg-type]
                ),
                allocations=allocations,
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, _received_message(payment, allocations))
            return redirect(payment)
    return render(
        request,
        "finance/payments/form.html",
        {
            "form": form,
            "party": party,
            "credits": party_credits(party=party),
        },
        status=400 if form.is_bound else 200,
    )


def _received_message(payment: Payment, allocations: list) -> str:
    amount = money_text(payment.amount, payment.currency)
    if payment.status == PaymentStatus.PENDING:
        return f"{amount} is recorded as pending: mark it completed when it arrives."
    allocated = sum((share for _invoice, share in allocations), Decimal(0))
    if not allocations:
        return f"{amount} is recorded as credit: nothing was set against an invoice."
    numbers = ", ".join(invoice.number for invoice, _share in allocations)
    rest = payment.amount - allocated
    credit = f"; {money_text(rest, payment.currency)} stays as credit" if rest > 0 else ""
    return f"{amount} is recorded and set against {numbers}{credit}."


@permission_required(VIEW_FINANCE)
def payment_detail_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _payment(pk))


def _detail_page(
    request: AuthenticatedRequest,
    payment: Payment,
    allocate_form: AllocationAddForm | None = None,
    status: int = 200,
) -> HttpResponse:
    may_manage = request.user.may(MANAGE_FINANCE)
    party = party_of(payment)
    allocatable = (
        may_manage
        and payment.status == PaymentStatus.COMPLETED
        and payment.direction == PaymentDirection.RECEIVED
        and payment.purpose == PaymentPurpose.INVOICE
        and payment.unallocated > 0  # type: ignore[attr-defined]
    )
    if allocatable and allocate_form is None:
        invoices = _open_invoices_for(payment, party)
        allocate_form = AllocationAddForm(invoices=invoices) if invoices else None
    return render(
        request,
        "finance/payments/detail.html",
        {
            "payment": payment,
            "party": party,
            "may_manage": may_manage,
            "allocatable": allocatable,
            "allocate_form": allocate_form,
            "statement_line": payment.statement_line if _has_line(payment) else None,
        },
        status=status,
    )


def _has_line(payment: Payment) -> bool:
    try:
        return payment.statement_line is not None
    except BankStatementLine.DoesNotExist:
        return False


def _open_invoices_for(payment: Payment, party: Party | None) -> list:
    if party is None:
        return list(invoices_to_match(currency=payment.currency))
    return list(invoices_open(party=party, currency=payment.currency))


@require_POST
@permission_required(MANAGE_FINANCE)
def payment_allocate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    payment = _payment(pk)
    form = AllocationAddForm(request.POST, invoices=_open_invoices_for(payment, party_of(payment)))
    if form.is_valid():
        try:
            allocation = allocation_add(
                actor=request.user,
                payment=payment,
                invoice=form.chosen_invoice(),
                amount=form.cleaned_data["amount"],
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(
                request,
                f"{money_text(allocation.amount, payment.currency)} is set against "
                f"{allocation.invoice.number}.",
            )
            return redirect(payment)
    return _detail_page(request, _payment(pk), allocate_form=form, status=400)


def _refusal_form() -> forms.Form:
    """A form without fields, bound and valid, that a service's refusal is shown on."""
    form = forms.Form({})
    form.is_valid()
    return form


def _confirm(
    request: AuthenticatedRequest,
    payment: Payment,
    *,
    heading: str,
    intro: str,
    submit: str,
    form=None,
    danger: bool = False,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "finance/payments/confirm.html",
        {
            "payment": payment,
            "heading": heading,
            "intro": intro,
            "submit": submit,
            "form": form,
            "danger": danger,
        },
        status=status,
    )


@permission_required(MANAGE_FINANCE)
@never_cache
def payment_complete_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    payment = _payment(pk)
    error_form = _refusal_form()
    if request.method == "POST":
        try:
            payment_complete(actor=request.user, payment=payment)
        except ValidationError as error:
            refusal_show(error_form, error)
        else:
            messages.success(
                request,
                "The payment is completed: set it against the payer's invoices below.",
            )
            return redirect(payment)
    return _confirm(
        request,
        payment,
        heading="Mark the payment completed?",
        intro=f"{money_text(payment.amount, payment.currency)} arrived in the account. It can "
        "then be set against invoices, and no longer fail.",
        submit="Mark completed",
        form=error_form if error_form.errors else None,
        status=400 if error_form.errors else 200,
    )


@permission_required(MANAGE_FINANCE)
@never_cache
def payment_fail_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    payment = _payment(pk)
    form = PaymentFailForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            payment_fail(actor=request.user, payment=payment, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, "The payment is marked failed.")
            return redirect(payment)
    return _confirm(
        request,
        payment,
        heading="Mark the payment failed?",
        intro=f"{money_text(payment.amount, payment.currency)} never arrived. A failed payment "
        "stays failed: if the payer tries again, record a new payment.",
        submit="Mark failed",
        form=form,
        danger=True,
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_FINANCE)
@never_cache
def payment_refund_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    payment = _payment(pk)
    form = PaymentRefundForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            refund = payment_refund(actor=request.user, payment=payment, **form.cleaned_data)
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(
                request,
                f"{money_text(refund.amount, refund.currency)} is recorded as refunded; the "
                "invoices it paid owe that money again.",
            )
            return redirect(payment)
    numbers = ", ".join(a.invoice.number for a in payment.allocations.all())
    undone = f" It is taken off {numbers}, which owe it again." if numbers else ""
    return _confirm(
        request,
        payment,
        heading="Refund the payment?",
        intro=f"The whole {money_text(payment.amount, payment.currency)} goes back to the "
        f"payer and is recorded as a payment out.{undone} This cannot be undone.",
        submit="Refund",
        form=form,
        danger=True,
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_FINANCE)
@never_cache
def allocation_remove_view(
    request: AuthenticatedRequest, pk: int, allocation_pk: int
) -> HttpResponse:
    payment = _payment(pk)
    allocation = next((a for a in payment.allocations.all() if a.pk == allocation_pk), None)
    if allocation is None:
        raise Http404
    form = _refusal_form()
    if request.method == "POST":
        try:
            allocation_remove(actor=request.user, allocation=allocation)
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(
                request,
                f"{money_text(allocation.amount, payment.currency)} is taken off "
                f"{allocation.invoice.number} and is the payer's credit again.",
            )
            return redirect(payment)
    return _confirm(
        request,
        payment,
        heading=f"Take the payment off {allocation.invoice.number}?",
        intro=f"{allocation.invoice.number} will owe "
        f"{money_text(allocation.amount, payment.currency)} more, and the payment will have it "
        "as credit to set against another invoice.",
        submit="Take it off",
        form=form if form.errors else None,
        status=400 if form.errors else 200,
    )


# --- Bank statements ---------------------------------------------------------------------------


@permission_required(VIEW_FINANCE)
def statement_import_list_view(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "finance/payments/statements.html",
        {
            "page": list_page(request, statement_import_list()),
            "may_manage": request.user.may(MANAGE_FINANCE),
        },
    )


@csrf_exempt
@permission_required(MANAGE_FINANCE)
@never_cache
def statement_upload(request: AuthenticatedRequest) -> HttpResponse:
    """As for students' documents, the size limit is enforced while the body streams in, which
    needs our upload handler installed before anything reads the body; CSRF is checked after."""
    guard = UploadGuard.install(request, MAX_FILE_BYTES)
    return _statement_upload(request, guard)


@csrf_protect
def _statement_upload(request: AuthenticatedRequest, guard: UploadGuard) -> HttpResponse:
    form = StatementUploadForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    errors: list[str] = []
    if request.method == "POST":
        if guard.exceeded:
            errors = [
                f"The file is more than {MAX_FILE_BYTES // 1024 // 1024} MB: export a shorter "
                "period from your bank."
            ]
        elif form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                guard.sent_names_check()
                statement = statement_import(
                    actor=request.user, content=upload.read(), file_name=upload.name or ""
                )
            except ValidationError as error:
                errors = error.messages
            else:
                messages.success(request, _imported_message(statement))
                return redirect("finance:statement_import", pk=statement.pk)
    return render(
        request,
        "finance/payments/statement_upload.html",
        {"form": form, "errors": errors},
        status=400 if request.method == "POST" else 200,
    )


def _imported_message(statement: BankStatementImport) -> str:
    counted = statement_import_detail(pk=statement.pk)
    matched = counted.matched_count  # type: ignore[attr-defined]
    waiting = counted.unmatched_count  # type: ignore[attr-defined]
    return (
        f"{statement.file_name} is imported: {matched} line{'s' if matched != 1 else ''} "
        f"matched to invoices, {waiting} need{'s' if waiting == 1 else ''} a person."
    )


def _statement(pk: int) -> BankStatementImport:
    try:
        return statement_import_detail(pk=pk)
    except BankStatementImport.DoesNotExist as missing:
        raise Http404 from missing


def _statement_page(
    request: AuthenticatedRequest,
    statement: BankStatementImport,
    *,
    bound: dict[int, tuple[LineMatchForm | None, LineIgnoreForm | None]] | None = None,
    status: int = 200,
) -> HttpResponse:
    may_manage = request.user.may(MANAGE_FINANCE)
    currency = finance_settings_current().currency
    lines = list(statement.lines.all())
    invoices = (
        list(invoices_to_match(currency=currency))
        if may_manage and any(line.status == StatementLineStatus.UNMATCHED for line in lines)
        else []
    )
    bound = bound or {}
    waiting = []
    for line in lines:
        if line.status != StatementLineStatus.UNMATCHED:
            continue
        match_form, ignore_form = bound.get(line.pk, (None, None))
        waiting.append(
            (
                line,
                match_form or LineMatchForm(invoices=invoices, prefix=f"match-{line.pk}"),
                ignore_form or LineIgnoreForm(prefix=f"ignore-{line.pk}"),
            )
        )
    return render(
        request,
        "finance/payments/statement.html",
        {
            "statement": statement,
            "lines": lines,
            "waiting": waiting,
            "may_manage": may_manage,
            "invoices": invoices,
            "currency": currency,
        },
        status=status,
    )


@permission_required(VIEW_FINANCE)
def statement_import_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _statement_page(request, _statement(pk))


def _line(pk: int, line_pk: int) -> BankStatementLine:
    try:
        return statement_line_for_action(pk=line_pk, statement_pk=pk)
    except BankStatementLine.DoesNotExist as missing:
        raise Http404 from missing


@require_POST
@permission_required(MANAGE_FINANCE)
def statement_line_match_view(request: AuthenticatedRequest, pk: int, line_pk: int) -> HttpResponse:
    line = _line(pk, line_pk)
    invoices = list(invoices_to_match(currency=finance_settings_current().currency))
    form = LineMatchForm(request.POST, invoices=invoices, prefix=f"match-{line.pk}")
    if form.is_valid():
        try:
            line = statement_line_match(
                actor=request.user, line=line, invoice=form.chosen_invoice()
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(
                request,
                f"Row {line.row_number} is recorded as a payment of "
                f"{form.chosen_invoice().number}.",
            )
            return redirect(reverse("finance:statement_import", args=[pk]) + f"#row-{line.pk}")
    return _statement_page(request, _statement(pk), bound={line.pk: (form, None)}, status=400)


@require_POST
@permission_required(MANAGE_FINANCE)
def statement_line_ignore_view(
    request: AuthenticatedRequest, pk: int, line_pk: int
) -> HttpResponse:
    line = _line(pk, line_pk)
    form = LineIgnoreForm(request.POST, prefix=f"ignore-{line.pk}")
    if form.is_valid():
        try:
            line = statement_line_ignore(
                actor=request.user, line=line, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"Row {line.row_number} is set aside.")
            return redirect(reverse("finance:statement_import", args=[pk]) + f"#row-{line.pk}")
    return _statement_page(request, _statement(pk), bound={line.pk: (None, form)}, status=400)
