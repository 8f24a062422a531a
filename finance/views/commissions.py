"""Partners' commissions for finance: the list with its filters and the commissions-owed
report (finance.view_finance: the Finance role and admins, who see it read-only), cancelling
a commission and paying a partner the commissions chosen (finance.manage_finance), each after
a page that says what will happen. Every write goes through finance.services.commissions."""

import datetime
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from finance.access import MANAGE_FINANCE, VIEW_FINANCE
from finance.forms.commissions import CommissionCancelForm, CommissionFilterForm, PayoutForm
from finance.models import Commission, CommissionStatus
from finance.selectors.commissions import (
    commission_for_cancel,
    commission_list,
    commissions_owed,
    partner_bank_account,
    payout_partner,
)
from finance.services.commissions import commission_cancel, commissions_pay
from partners.models import Partner, PaymentMethod


@permission_required(VIEW_FINANCE)
def commission_list_page(request: AuthenticatedRequest) -> HttpResponse:
    filters = CommissionFilterForm(request.GET or None)
    chosen = filters.selector_filters()
    return render(
        request,
        "finance/commissions/list.html",
        {
            "filters": filters,
            "owed": commissions_owed(partner=chosen.get("partner"), month=chosen.get("month")),
            "page": list_page(request, commission_list(**chosen)),
            "month": chosen.get("month"),
            "may_manage": request.user.may(MANAGE_FINANCE),
        },
    )


@permission_required(MANAGE_FINANCE)
@never_cache
def commission_cancel_page(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        commission = commission_for_cancel(pk=pk)
    except Commission.DoesNotExist as missing:
        raise Http404 from missing
    form = CommissionCancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            commission_cancel(
                actor=request.user, commission=commission, reason=form.cleaned_data["reason"]
            )
        except ValidationError as refusal:
            form.add_error(None, refusal.messages)
        else:
            messages.success(
                request,
                f"The commission of {commission.partner.name} for {commission.learner.full_name} "
                "is cancelled: it is no longer owed.",
            )
            return redirect("finance:commissions")
    return render(
        request,
        "finance/commissions/cancel.html",
        {"commission": commission, "form": form},
        status=400 if form.is_bound else 200,
    )


def _owed_up_to(request: AuthenticatedRequest) -> datetime.date:
    """The day the payout page's preselection runs to (?up_to=), today by default."""
    try:
        return datetime.date.fromisoformat(request.GET.get("up_to", ""))
    except ValueError:
        return timezone.localdate()


@permission_required(MANAGE_FINANCE)
@never_cache
def commissions_pay_page(request: AuthenticatedRequest, partner_pk: int) -> HttpResponse:
    """Choose the partner's commissions to pay (all owed up to a day, unless changed) and how
    they were paid; then a page that says what will be recorded; then the payout."""
    try:
        partner = payout_partner(pk=partner_pk)
    except Partner.DoesNotExist as missing:
        raise Http404 from missing
    up_to = _owed_up_to(request)
    owed = list(commission_list(partner=partner, status=CommissionStatus.ACCRUED))
    form = PayoutForm(
        request.POST if request.method == "POST" else None,
        partner=partner,
        commissions=Commission.objects.filter(partner=partner),
    )
    confirming = False
    if request.method == "POST" and form.is_valid():
        arguments = form.service_arguments()
        # Nothing chosen has nothing to confirm: the service refuses it (audited) at once.
        if "confirm" not in request.POST and arguments["commission_ids"]:
            confirming = "change" not in request.POST
        else:
            try:
                payment = commissions_pay(actor=request.user, partner=partner, **arguments)
            except ValidationError as refusal:
                form.add_error(None, refusal.messages)
            else:
                count = len(arguments["commission_ids"])
                messages.success(
                    request,
                    f"The payout to {partner.name} of {count} commission{pluralize(count)} "
                    "is recorded.",
                )
                return redirect(
                    "finance:partner_statement",
                    partner.pk,
                    payment.paid_on.year,
                    payment.paid_on.month,
                )
    cleaned = getattr(form, "cleaned_data", {})
    if "commissions" in cleaned:
        chosen = {c.pk for c in cleaned["commissions"]}
    else:
        chosen = {c.pk for c in owed if c.accrued_on <= up_to}
    selected = [c for c in owed if c.pk in chosen]
    return render(
        request,
        "finance/commissions/pay.html",
        {
            "partner": partner,
            "bank_account": partner_bank_account(partner),
            "form": form,
            "owed": owed,
            "chosen": chosen,
            "selected": selected,
            "total": sum((c.amount for c in selected), Decimal(0)),
            "up_to": up_to,
            "confirming": confirming,
            "method_label": PaymentMethod(cleaned["method"]).label if "method" in cleaned else "",
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
