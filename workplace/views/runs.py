"""The staff overview of a course run's portfolios of evidence: every learner of the run against
every outcome of its course, how each portfolio stands, and counts per outcome. For people who
manage delivery for the run's cohort; anyone else gets the audited 404."""

from django.http import HttpResponse
from django.shortcuts import render

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check, permission_required
from delivery.models import CourseRun
from workplace.access import MANAGE_DELIVERY
from workplace.selectors.runs import (
    outcome_counts,
    portfolio_grid,
    run_course_enrollments,
    run_outcomes,
    run_reached,
)


@permission_required(MANAGE_DELIVERY)
def run_portfolios(request: AuthenticatedRequest, run_pk: int) -> HttpResponse:
    try:
        run = run_reached(request.user, run_pk)
    except CourseRun.DoesNotExist:
        permission_check(actor=request.user, action="view:workplace.run_portfolios", allowed=False)
        raise  # not reached: the refusal raises
    outcomes = run_outcomes(run)
    page = list_page(request, run_course_enrollments(run))
    return render(
        request,
        "workplace/runs/portfolios.html",
        {
            "run": run,
            "outcomes": outcomes,
            "counts": outcome_counts(run, outcomes) if outcomes else [],
            "page": page,
            "rows": portfolio_grid(list(page.object_list), outcomes) if outcomes else [],
        },
    )
