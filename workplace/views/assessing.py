"""Assessing portfolios: the queue of portfolios waiting for an assessor whose valid
registration covers their programme (oldest hand-in first), and the decision on one. People
without workplace.assess_portfolios, and assessors out of scope, get the audited 404. Every
write goes through workplace.services.portfolios."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from accounts.refusals import refusal_show
from workplace.access import ASSESS
from workplace.forms.portfolios import AssessForm, QueueFilterForm
from workplace.models import Decision, PortfolioStatus
from workplace.selectors.portfolios import (
    assessor_queue,
    assessor_standing,
    portfolio_evidence,
    portfolio_history,
    queue_runs,
)
from workplace.services.portfolios import assessor_conflict, portfolio_assess
from workplace.views.portfolios import evidence_rows, reached_portfolio


@permission_required(ASSESS)
def assess_queue(request: AuthenticatedRequest) -> HttpResponse:
    """Portfolios waiting for the assessor, or why there are none to show: no registration, or
    one withdrawn or expired."""
    standing = assessor_standing(request.user)
    filters = QueueFilterForm(request.GET or None, runs=queue_runs(request.user))
    filtered = filters.selector_filters()
    return render(
        request,
        "workplace/portfolios/assess_queue.html",
        {
            "standing": standing,
            "filters": filters,
            "page": list_page(
                request, assessor_queue(request.user, course_run=filtered.get("course_run"))
            )
            if not standing
            else None,
        },
    )


@permission_required(ASSESS)
@never_cache
def portfolio_assess_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The decision on the latest submission: competent, or not yet competent with feedback."""
    portfolio = reached_portfolio(request, pk, "view:workplace.portfolio_assess")
    form = AssessForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            submission = portfolio_assess(
                actor=request.user,
                portfolio=portfolio,
                decision=form.cleaned_data["decision"],
                feedback=form.cleaned_data["feedback"],
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(
                request,
                f"Submission {submission.number} is assessed "
                f"{Decision(submission.decision).label.lower()}; the learner is told.",
            )
            return redirect("workplace:assess_queue")
    return render(
        request,
        "workplace/portfolios/assess.html",
        {
            "portfolio": portfolio,
            "learner": portfolio.course_enrollment.enrollment.learner,
            "form": form,
            "waiting": portfolio.status == PortfolioStatus.SUBMITTED,
            "conflict": assessor_conflict(request.user, portfolio),
            "evidence": evidence_rows(portfolio_evidence(portfolio)),
            "history": portfolio_history(portfolio),
        },
        status=400 if form.is_bound else 200,
    )
