"""Partners' monthly commission statements: the months with activity, one month's statement as
a page and as a sealed PDF. Finance (and admins, read-only) reach every partner's; a partner's
contact reaches only their own partner's (another's is the audited 404), from their own list
(`my_statements`)."""

import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check
from finance.access import MANAGE_FINANCE, VIEW_FINANCE
from finance.selectors.commissions import (
    partner_statement,
    statement_months,
    statement_partner,
    statements_allowed,
)
from finance.services.commissions import partner_statement_produce
from finance.statement_pdf import statement_filename
from partners.access import partner_of_contact
from partners.models import Partner
from tenants.ratelimits import rate_limited

# Each PDF is rendered and sealed in the request: a person takes a few an hour.
PDF_RATE = "20/h"
TOO_MANY_PDFS = (
    "You have downloaded statements many times in the last hour: try again later, or use the "
    "copy you downloaded."
)


def _partner_reached(request: AuthenticatedRequest, partner_pk: int, action: str) -> Partner:
    """The partner, when the person may read its statements; the audited 404 otherwise."""
    try:
        partner = statement_partner(pk=partner_pk)
    except Partner.DoesNotExist as missing:
        raise Http404 from missing
    permission_check(
        actor=request.user, action=action, allowed=statements_allowed(request.user, partner)
    )
    return partner


def _month(year: int, month: int) -> datetime.date:
    try:
        return datetime.date(year, month, 1)
    except ValueError as wrong:
        raise Http404 from wrong


def _months_page(request: AuthenticatedRequest, partner: Partner, *, own: bool) -> HttpResponse:
    return render(
        request,
        "finance/statements/months.html",
        {
            "partner": partner,
            "page": list_page(request, statement_months(partner)),
            "own": own,
            "finance": request.user.may(VIEW_FINANCE),
            "may_manage": request.user.may(MANAGE_FINANCE),
        },
    )


@login_required
def partner_statements(request: AuthenticatedRequest, partner_pk: int) -> HttpResponse:
    partner = _partner_reached(request, partner_pk, "view:finance.partner_statements")
    return _months_page(request, partner, own=not request.user.may(VIEW_FINANCE))


@login_required
def my_statements(request: AuthenticatedRequest) -> HttpResponse:
    """A partner's contact's own statements."""
    partner = partner_of_contact(request.user)
    permission_check(
        actor=request.user, action="view:finance.my_statements", allowed=partner is not None
    )
    assert partner is not None
    return _months_page(request, partner, own=True)


def _statement_page(
    request: AuthenticatedRequest,
    partner: Partner,
    month: datetime.date,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "finance/statements/statement.html",
        {
            "statement": partner_statement(partner, month),
            "partner": partner,
            "own": not request.user.may(VIEW_FINANCE),
            "may_manage": request.user.may(MANAGE_FINANCE),
            "error": error,
        },
        status=status,
    )


@login_required
def statement_page(
    request: AuthenticatedRequest, partner_pk: int, year: int, month: int
) -> HttpResponse:
    partner = _partner_reached(request, partner_pk, "view:finance.partner_statement")
    return _statement_page(request, partner, _month(year, month))


@login_required
@never_cache
def statement_pdf_download(
    request: AuthenticatedRequest, partner_pk: int, year: int, month: int
) -> HttpResponse:
    partner = _partner_reached(request, partner_pk, "view:finance.partner_statement_pdf")
    first = _month(year, month)
    if rate_limited(request, group="finance.statement_pdf", key="user", rate=PDF_RATE):
        return _statement_page(request, partner, first, error=TOO_MANY_PDFS, status=429)
    statement = partner_statement(partner, first)
    pdf = partner_statement_produce(actor=request.user, statement=statement)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement_filename(statement)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
