"""SETA grant agreements and their claims: seen by who holds finance.view_finance (admins
read-only), changed only by the Finance role (finance.manage_finance); anyone else gets the
audited 404. Every write goes through finance.services.grants; an action on chosen claims is
confirmed on a page of its own first."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from academics.currencies import money_text
from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from finance.access import MANAGE_FINANCE, VIEW_FINANCE
from finance.forms.grants import (
    AgreementFilterForm,
    AgreementForm,
    ClaimAction,
    ClaimActionForm,
    ClaimFilterForm,
    claims_chosen,
)
from finance.models import GrantAgreement, GrantClaimStatus
from finance.selectors.grants import (
    grant_agreement_get,
    grant_agreement_list,
    grant_claim_list,
    grant_claim_totals,
    grant_claims_chosen,
    grant_claims_evidence,
    midpoint_of,
)
from finance.services.grants import (
    grant_agreement_create,
    grant_agreement_update,
    grant_claims_bring_up_to_date,
    grant_claims_mark_paid,
    grant_claims_reject,
    grant_claims_resubmit,
    grant_claims_submit,
)


def _agreement(pk: int) -> GrantAgreement:
    try:
        return grant_agreement_get(pk=pk)
    except GrantAgreement.DoesNotExist as missing:
        raise Http404("No such grant agreement.") from missing


@permission_required(VIEW_FINANCE)
def grant_list(request: AuthenticatedRequest) -> HttpResponse:
    filters = AgreementFilterForm(request.GET or None)
    return render(
        request,
        "finance/grants/list.html",
        {
            "filters": filters,
            "page": list_page(request, grant_agreement_list(**filters.selector_filters())),
            "may_manage": request.user.may(MANAGE_FINANCE),
        },
    )


def _agreement_form_page(
    request: AuthenticatedRequest, agreement: GrantAgreement | None
) -> HttpResponse:
    form = AgreementForm(request.POST if request.method == "POST" else None, agreement=agreement)
    if request.method == "POST" and form.is_valid():
        try:
            if agreement is None:
                agreement = grant_agreement_create(actor=request.user, data=form.data_input())
                messages.success(request, f"Grant agreement {agreement} is saved.")
            else:
                agreement = grant_agreement_update(
                    actor=request.user, agreement=agreement, data=form.data_input()
                )
                messages.success(request, f"Grant agreement {agreement} is saved.")
        except ValidationError as error:
            form.refusal_show(error)
        else:
            return redirect("finance:grant", pk=agreement.pk)
    return render(
        request,
        "finance/grants/form.html",
        {"form": form, "agreement": agreement},
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_FINANCE)
@never_cache
def grant_create(request: AuthenticatedRequest) -> HttpResponse:
    return _agreement_form_page(request, None)


@permission_required(MANAGE_FINANCE)
@never_cache
def grant_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _agreement_form_page(request, _agreement(pk))


@permission_required(VIEW_FINANCE)
def grant_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The agreement, its claims' counts and amounts per milestone and status, and its claims
    per learner with the evidence each needs; the Finance role acts on the ticked ones."""
    agreement = _agreement(pk)
    filters = ClaimFilterForm(request.GET or None)
    page = list_page(request, grant_claim_list(agreement=agreement, **filters.selector_filters()))
    evidence = grant_claims_evidence(agreement=agreement, claims=page, viewer=request.user)
    for claim in page:
        claim.evidence = evidence[claim.pk]  # type: ignore[attr-defined]
    return render(
        request,
        "finance/grants/detail.html",
        {
            "agreement": agreement,
            "totals": grant_claim_totals(agreement=agreement),
            "midpoint": midpoint_of(agreement.cohort),
            "filters": filters,
            "page": page,
            "may_manage": request.user.may(MANAGE_FINANCE),
            "statuses": GrantClaimStatus,
        },
    )


@permission_required(MANAGE_FINANCE)
@require_POST
def grant_claims_refresh(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The agreement page's "Bring claims up to date" (what the daily run does)."""
    agreement = _agreement(pk)
    made = grant_claims_bring_up_to_date(
        agreement=agreement, today=timezone.localdate(), actor=request.user
    )
    if made:
        messages.success(request, f"{made} claim{'s' if made != 1 else ''} became due.")
    else:
        messages.info(request, "The claims are up to date: no learner reached a new milestone.")
    return redirect("finance:grant", pk=agreement.pk)


@permission_required(MANAGE_FINANCE)
@never_cache
def grant_claims_action(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The confirmation of an action on the claims ticked on the agreement page (GET), and the
    action itself (POST): submit, submit again, mark paid or reject."""
    agreement = _agreement(pk)
    data = request.POST if request.method == "POST" else request.GET
    action = data.get("action", "")
    if action not in ClaimAction.SOURCES:
        raise Http404("No such action.")
    claims = grant_claims_chosen(agreement=agreement, pks=claims_chosen(data))
    if not claims:
        messages.error(request, "Tick at least one claim in the list first.")
        return redirect("finance:grant", pk=agreement.pk)
    form = ClaimActionForm(request.POST if request.method == "POST" else None, action=action)
    if request.method == "POST" and form.is_valid():
        fields = form.cleaned_data
        try:
            if action == ClaimAction.SUBMIT:
                done = grant_claims_submit(
                    actor=request.user, agreement=agreement, claims=claims, **fields
                )
                said = "submitted to the SETA"
            elif action == ClaimAction.RESUBMIT:
                done = grant_claims_resubmit(
                    actor=request.user, agreement=agreement, claims=claims, **fields
                )
                said = "submitted again"
            elif action == ClaimAction.PAY:
                done = grant_claims_mark_paid(
                    actor=request.user, agreement=agreement, claims=claims, **fields
                )
                said = "paid"
            else:
                done = grant_claims_reject(
                    actor=request.user, agreement=agreement, claims=claims, **fields
                )
                said = "rejected"
        except ValidationError as error:
            form.refusal_show(error)
        else:
            total = sum(claim.amount for claim in done)
            messages.success(
                request,
                f"{len(done)} claim{'s' if len(done) != 1 else ''} "
                f"({money_text(total, agreement.currency)}) {said}.",
            )
            return redirect("finance:grant", pk=agreement.pk)
    evidence = grant_claims_evidence(agreement=agreement, claims=claims, viewer=request.user)
    return render(
        request,
        "finance/grants/confirm.html",
        {
            "agreement": agreement,
            "action": action,
            "title": ClaimAction.TITLES[action],
            "button": ClaimAction.BUTTONS[action],
            "source": ClaimAction.SOURCES[action],
            "rows": [(claim, evidence[claim.pk]) for claim in claims],
            "total": sum(claim.amount for claim in claims),
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )
