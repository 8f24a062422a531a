"""The ops admin's reconciliation of a cohort's delivery with the training gateway: the report
(delivery.reconciliation), and re-sending one record or every difference."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check, permission_required, reachable
from cohorts.models import Cohort
from delivery.forms.reconciliation import OutcomeFilterForm, ResendForm
from delivery.reconciliation import (
    MANAGE_SYNC,
    cohort_reconcile,
    cohort_runs,
    reconciliation_resend,
)
from integrations.connectors.base import Connector
from integrations.reconciliation import Outcome, ReconciledItem
from integrations.services import connector_load

# Runs per page: each run on the page is read from the gateway while the page is drawn.
RUNS_PER_PAGE = 5


@contextmanager
def _connector() -> Iterator[Connector | None]:
    """The active connector (None without one), closed (its connection pool with it) when the
    view is done with it."""
    connector = connector_load()
    try:
        yield connector
    finally:
        if connector is not None:
            connector.close()


def _cohort(request: AuthenticatedRequest, pk: int, action: str) -> Cohort:
    cohort = Cohort.objects.select_related("programme").filter(pk=pk).first()
    if cohort is None:
        raise Http404
    permission_check(actor=request.user, permission=MANAGE_SYNC, obj=cohort, action=action)
    return cohort


def _shown(item: ReconciledItem, outcome: str) -> bool:
    if outcome == OutcomeFilterForm.ALL:
        return True
    if outcome == OutcomeFilterForm.DIFFERENCES:
        return item.differs
    return item.outcome == outcome


@permission_required(MANAGE_SYNC)
def reconciliation_cohorts(request: AuthenticatedRequest) -> HttpResponse:
    """The cohorts with course runs, to choose one to reconcile."""
    cohorts = (
        reachable(request.user, Cohort.objects.all())
        .annotate(run_count=Count("runs", distinct=True))
        .filter(Q(run_count__gt=0))
        .select_related("programme")
        .order_by("-start_date", "name")
    )
    with _connector() as connector:
        return render(
            request,
            "delivery/reconciliation/cohorts.html",
            {"page": list_page(request, cohorts), "connector": connector},
        )


@permission_required(MANAGE_SYNC)
def reconciliation(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A few of the cohort's runs at a time, each compared with what the gateway holds: only
    the runs on the page are read from the gateway."""
    cohort = _cohort(request, pk, "view:delivery.reconciliation")
    filters = OutcomeFilterForm(request.GET or None)
    outcome = filters.chosen()
    page = list_page(request, cohort_runs(cohort), per_page=RUNS_PER_PAGE)
    with _connector() as connector:
        report = (
            cohort_reconcile(cohort, connector=connector, runs=list(page)) if connector else None
        )
    runs = []
    if report is not None:
        for run in report.runs:
            sections = [
                (section.title, shown)
                for section in run.sections
                if (shown := [item for item in section.items if _shown(item, outcome)])
            ]
            runs.append((run, sections))
    return render(
        request,
        "delivery/reconciliation/cohort.html",
        {
            "cohort": cohort,
            "page": page,
            "report": report,
            "runs": runs,
            "outcome": outcome,
            "counts": [
                (value, Outcome(value).label, count) for value, count in report.counts.items()
            ]
            if report
            else [],
            "resendable": [item for item in report.differences if item.resendable]
            if report
            else [],
        },
    )


@permission_required(MANAGE_SYNC)
def reconciliation_resend_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """GET: confirm re-sending every difference of the cohort. POST: queue one record, or all
    of them."""
    cohort = _cohort(request, pk, "delivery.reconciliation_resend")
    back = reverse("delivery:reconciliation", args=[cohort.pk])
    with _connector() as connector:
        if connector is None:
            messages.error(request, "No gateway connector is active: nothing can be sent.")
            return redirect(back)
        if request.method != "POST":
            report = cohort_reconcile(cohort, connector=connector)
            return render(
                request,
                "delivery/reconciliation/resend_confirm.html",
                {
                    "cohort": cohort,
                    "report": report,
                    "resendable": [item for item in report.differences if item.resendable],
                },
            )
        form = ResendForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(str(error) for error in form.non_field_errors()))
            return redirect(back)
        try:
            queued = reconciliation_resend(
                actor=request.user, cohort=cohort, connector=connector, **form.cleaned_data
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(back)
    if queued:
        names = ", ".join(item.label for item in queued[:5]) + ("…" if len(queued) > 5 else "")
        messages.success(
            request,
            f"{len(queued)} record{pluralize(len(queued))} queued to be sent again: {names}. "
            "Reload this page once the sync has run to see them compared again.",
        )
    else:
        messages.info(request, "Nothing was queued: no record differs, or its job is on its way.")
    return redirect(back)
