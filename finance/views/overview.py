"""The finance overview: what is owed and overdue, what came in this month, and what waits for
a finance user, each linking to its page. Finance and admins (read-only) see it."""

from django.http import HttpResponse
from django.shortcuts import render

from accounts.http import AuthenticatedRequest
from accounts.permissions import permission_required
from finance.access import MANAGE_FINANCE, VIEW_FINANCE
from finance.selectors.overview import finance_figures


@permission_required(VIEW_FINANCE)
def overview(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "finance/overview.html",
        {"figures": finance_figures(), "can_manage": request.user.may(MANAGE_FINANCE)},
    )
