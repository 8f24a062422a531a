"""The ops admin's reconciliation of a cohort's delivery with the training gateway: the report
(delivery.reconciliation), and re-sending one record or every difference."""

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
from delivery.reconciliation import MANAGE_SYNC, cohort_reconcile, reconciliation_resend
from integrations.reconciliation import Outcome, ReconciledItem
from integrations.services import connector_load


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
    return render(
        request,
        "delivery/reconciliation/cohorts.html",
        {"page": list_page(request, cohorts), "connector": connector_load()},
    )


@permission_required(MANAGE_SYNC)
def reconciliation(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = _cohort(request, pk, "view:delivery.reconciliation")
    connector = connector_load()
    filters = OutcomeFilterForm(request.GET or None)
    outcome = filters.chosen()
    report = cohort_reconcile(cohort, connector=connector) if connector else None
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
    """GET: confirm re-sending every difference. POST: queue one record, or all of them."""
    cohort = _cohort(request, pk, "delivery.reconciliation_resend")
    connector = connector_load()
    back = reverse("delivery:reconciliation", args=[cohort.pk])
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
