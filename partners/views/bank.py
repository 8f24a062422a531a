"""Bank details: asking for a partner's new details, and the queue of changes (partners' and
learners') waiting for a second person to confirm or reject them. Pages show the bank's name and
the last four digits only. Writes go through partners.services.bank."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import ActionRefused, permission_required
from partners.access import MANAGE_PARTNERS, VIEW_PARTNERS
from partners.forms.bank import BankConfirmForm, BankDetailsForm, BankRejectForm
from partners.models import BankAccountChange, BankChangeStatus
from partners.selectors.bank import bank_account_in_force, bank_change_page, bank_changes_pending
from partners.selectors.partners import partner_bank_account
from partners.services.bank import bank_change_confirm, bank_change_reject, bank_change_request
from partners.views.partners import partner_or_404

OWN_CHANGE_REFUSED = (
    "You asked for these bank details, so someone else must confirm them: ask another finance "
    "user. (Nobody alone can send money to a new account.)"
)


def _masked(change: BankAccountChange) -> str:
    return f"{change.bank_name} ••••{change.account_last4}"


def _owner_name(change: BankAccountChange) -> str:
    if change.partner is not None:
        return change.partner.name
    return change.learner.full_name if change.learner is not None else ""


@sensitive_post_parameters("account_number", "branch_code", "holder")
@permission_required(MANAGE_PARTNERS)
@never_cache
def bank_request_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    partner = partner_or_404(pk)
    form = BankDetailsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            change = bank_change_request(
                actor=request.user, details=form.details(), partner=partner
            )
        except ValidationError as error:
            form.refusal_show(error)
        else:
            messages.success(
                request,
                f"New bank details for {partner.name} ({_masked(change)}) wait for another "
                "person to confirm them.",
            )
            return redirect(partner)
    pending = BankAccountChange.objects.filter(
        partner=partner, status=BankChangeStatus.PENDING
    ).first()
    return render(
        request,
        "partners/bank_request.html",
        {
            "partner": partner,
            "form": form,
            "account": partner_bank_account(partner),
            "pending": pending,
        },
        status=400 if form.is_bound else 200,
    )


@permission_required(VIEW_PARTNERS)
def bank_changes_view(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "partners/bank_changes.html",
        {
            "page": list_page(request, bank_changes_pending()),
            "may_manage": request.user.may(MANAGE_PARTNERS),
        },
    )


def _change(pk: int) -> BankAccountChange:
    try:
        return bank_change_page(pk=pk)
    except BankAccountChange.DoesNotExist as missing:
        raise Http404 from missing


def _change_page(
    request: AuthenticatedRequest,
    change: BankAccountChange,
    *,
    confirm_form: BankConfirmForm | None = None,
    reject_form: BankRejectForm | None = None,
    refused: str = "",
) -> HttpResponse:
    return render(
        request,
        "partners/bank_change.html",
        {
            "change": change,
            "account": bank_account_in_force(change),
            "confirm_form": confirm_form or BankConfirmForm(),
            "reject_form": reject_form or BankRejectForm(),
            "refused": refused,
            "may_manage": request.user.may(MANAGE_PARTNERS),
            "asked_by_me": change.requested_by_id == request.user.pk,
        },
        status=400
        if refused or any(form is not None and form.errors for form in (confirm_form, reject_form))
        else 200,
    )


@permission_required(VIEW_PARTNERS)
@never_cache
def bank_change_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One change, with the confirmation and rejection forms while it waits."""
    return _change_page(request, _change(pk))


def _after_decision(change: BankAccountChange) -> HttpResponse:
    if change.partner is not None:
        return redirect(change.partner)
    return redirect("partners:bank_changes")


@sensitive_post_parameters("account_number", "branch_code", "holder")
@permission_required(MANAGE_PARTNERS)
@require_POST
def bank_change_confirm_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    change = _change(pk)
    form = BankConfirmForm(request.POST)
    if not form.is_valid():
        return _change_page(request, change, confirm_form=form)
    try:
        bank_change_confirm(
            actor=request.user,
            change=change,
            account_number=form.cleaned_data["account_number"],
            branch_code=form.cleaned_data["branch_code"],
        )
    except ActionRefused:
        if change.requested_by_id != request.user.pk:
            raise
        return _change_page(request, change, refused=OWN_CHANGE_REFUSED)
    except ValidationError as error:
        form.refusal_show(error)
        return _change_page(request, change, confirm_form=form)
    messages.success(
        request, f"{_owner_name(change)}'s new bank details ({_masked(change)}) are in force."
    )
    return _after_decision(change)


@permission_required(MANAGE_PARTNERS)
@require_POST
def bank_change_reject_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    change = _change(pk)
    form = BankRejectForm(request.POST)
    if not form.is_valid():
        return _change_page(request, change, reject_form=form)
    try:
        bank_change_reject(actor=request.user, change=change, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        return _change_page(request, change, refused=" ".join(error.messages))
    messages.success(request, f"The new bank details for {_owner_name(change)} are rejected.")
    return _after_decision(change)
