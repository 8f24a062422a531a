"""Fees owed: per course enrolment with a fee, who owes it, what is invoiced and what is left,
grouped by payer; and drafting the invoices for what is left (finance.manage_finance)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from finance.access import MANAGE_FINANCE, VIEW_FINANCE
from finance.forms.fees import FeeFilterForm
from finance.selectors.fees import fee_groups, fees_owed, fees_totals
from finance.services.fees import fee_invoices_draft


@permission_required(VIEW_FINANCE)
def fees_owed_page(request: AuthenticatedRequest) -> HttpResponse:
    filters = FeeFilterForm(request.GET or None)
    enrolments = fees_owed(**filters.selector_filters())
    page = list_page(request, enrolments)
    return render(
        request,
        "finance/fees/owed.html",
        {
            "filters": filters,
            "page": page,
            "groups": fee_groups(list(page.object_list), enrolments),
            "totals": fees_totals(enrolments),
            "may_manage": request.user.may(MANAGE_FINANCE),
        },
    )


@permission_required(MANAGE_FINANCE)
@require_POST
def fees_invoices_draft(request: AuthenticatedRequest) -> HttpResponse:
    """Draft invoices for every fee the filters list (all pages), one per payer."""
    filters = FeeFilterForm(request.POST or None)
    back = reverse("finance:fees_owed")
    ids = list(fees_owed(**filters.selector_filters()).values_list("pk", flat=True))
    try:
        drafts = fee_invoices_draft(actor=request.user, course_enrollment_ids=ids)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect(back)
    if not drafts:
        messages.info(
            request,
            "Nothing to draft: every fee listed is invoiced in full or already in a draft.",
        )
        return redirect(back)
    messages.success(
        request,
        f"{len(drafts)} draft invoice{'s' if len(drafts) != 1 else ''} made, one per payer. "
        "Check each, then issue it.",
    )
    return redirect(reverse("finance:invoices") + "?status=draft")
