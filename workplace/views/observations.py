"""Observation reports: the mentor writes one for a placement they mentor now, about an outcome
of the learner's programme; the learner, the mentor, staff who manage placements or delivery
and whoever reaches a portfolio that uses it read it. Anyone else gets the audited 404. Writes
go through workplace.services.observations."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedRequest
from accounts.permissions import permission_check
from accounts.refusals import refusal_show
from placements.models import Placement
from workplace.access import is_mentor
from workplace.forms.portfolios import ObservationForm
from workplace.models import ObservationReport
from workplace.selectors.outcomes import placement_outcomes
from workplace.selectors.portfolios import observation_for_user
from workplace.services.observations import observation_add


@login_required
@never_cache
def observation_add_view(request: AuthenticatedRequest, placement_pk: int) -> HttpResponse:
    placement = (
        Placement.objects.select_related("learner", "organisation", "cohort")
        .filter(pk=placement_pk)
        .first()
    )
    permission_check(
        actor=request.user,
        action="view:workplace.observation_add",
        allowed=placement is not None and is_mentor(request.user, placement),
    )
    assert placement is not None
    form = ObservationForm(
        request.POST if request.method == "POST" else None,
        outcomes=placement_outcomes(placement),
        initial={"observed_on": min(timezone.localdate(), placement.ends_on)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            observation = observation_add(
                actor=request.user, placement=placement, **form.cleaned_data
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(
                request, f"The observation report is saved; {placement.learner.full_name} is told."
            )
            return redirect("workplace:observation", observation.pk)
    return render(
        request,
        "workplace/portfolios/observation_add.html",
        {"placement": placement, "form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
def observation_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        observation = observation_for_user(request.user, pk)
    except ObservationReport.DoesNotExist:
        permission_check(actor=request.user, action="view:workplace.observation", allowed=False)
        raise
    learner = observation.placement.learner
    return render(
        request,
        "workplace/portfolios/observation.html",
        {
            "observation": observation,
            "is_learner": learner.user_id == request.user.pk,
            "my_portfolios": reverse("workplace:my_portfolios"),
        },
    )
