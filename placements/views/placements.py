"""Placement pages: the institution's list, one placement with its history and its actions,
proposing one; a host organisation's member's placements (their current organisation's only:
any other id answers 404), which they confirm or decline; a learner's own placements."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from accounts.refusals import refusal_show
from learners.models import Learner
from learners.selectors import learner_of_user
from placements.access import current_organisation_or_404
from placements.forms.placements import (
    CancelReasonForm,
    MatchCohortForm,
    OutcomeForm,
    PlacementFilterForm,
    PlacementForm,
    ReasonForm,
    TerminateReasonForm,
)
from placements.models import Placement, PlacementStatus, UrgentPlacementRequest
from placements.selectors.placements import (
    learner_placements,
    organisation_placements,
    placement_detail,
    placement_history,
    placement_list,
)
from placements.selectors.search import open_cohorts
from placements.services.placements import (
    MANAGE_PLACEMENTS,
    placement_cancel,
    placement_complete,
    placement_confirm,
    placement_decline,
    placement_start,
    placement_terminate,
    placements_propose,
)

# What the create page takes from its address to prefill (the distance search and the urgent
# request pages link here).
PREFILL = ("learner", "organisation", "subject", "academic_year", "cohort", "urgent_request")


@dataclass(frozen=True)
class Action:
    """One transition as its confirmation page offers it."""

    name: str
    label: str
    heading: str
    explanation: str
    form: type[forms.Form] | None
    run: Callable[..., Placement]
    danger: bool = False
    done: str = ""


ACTIONS = {
    action.name: action
    for action in (
        Action(
            "confirm",
            "Confirm the placement",
            "Confirm this placement?",
            "Confirm it on the organisation's behalf, when it has agreed by other means. The "
            "learner must be cleared for placement on the start date and the organisation must "
            "have a free place for the subject this year; the learner is e-mailed.",
            None,
            placement_confirm,
            done="The placement is confirmed; the learner is e-mailed.",
        ),
        Action(
            "cancel",
            "Cancel the placement",
            "Cancel this proposed placement?",
            "The organisation no longer sees it as waiting for an answer. This cannot be undone: "
            "propose it again if needed.",
            CancelReasonForm,
            placement_cancel,
            danger=True,
            done="The placement is cancelled.",
        ),
        Action(
            "start",
            "Mark as started",
            "Has the learner started?",
            "Mark the placement active from today: the learner is at the organisation.",
            None,
            placement_start,
            done="The placement is active.",
        ),
        Action(
            "complete",
            "Complete the placement",
            "Complete this placement?",
            "The placement ran its course. Record how it went: the outcome notes stay with it.",
            OutcomeForm,
            placement_complete,
            done="The placement is completed.",
        ),
        Action(
            "terminate",
            "Terminate the placement",
            "End this placement early?",
            "The learner leaves the organisation before the end date. This cannot be undone.",
            TerminateReasonForm,
            placement_terminate,
            danger=True,
            done="The placement is terminated.",
        ),
    )
}
# The actions each status offers, in the order the detail page shows them.
OFFERED = {
    PlacementStatus.PROPOSED: ("confirm", "cancel"),
    PlacementStatus.CONFIRMED: ("start", "terminate"),
    PlacementStatus.ACTIVE: ("complete", "terminate"),
}


def _placement(pk: int) -> Placement:
    try:
        return placement_detail(pk)
    except Placement.DoesNotExist as missing:
        raise Http404("No such placement.") from missing


@permission_required(MANAGE_PLACEMENTS)
def placement_list_view(request: AuthenticatedRequest) -> HttpResponse:
    """The institution's placements; its "Match a cohort's learners" control sends `match`
    here, answered with the chosen cohort's matching page."""
    if "match" in request.GET:
        match = MatchCohortForm(request.GET)
        if match.is_valid():
            return redirect("placements:matching", cohort_pk=match.cleaned_data["match"].pk)
        messages.error(request, " ".join(str(error) for error in match.errors["match"]))
        return redirect("placements:placement_list")
    filters = PlacementFilterForm(request.GET or None)
    return render(
        request,
        "placements/placements/placement_list.html",
        {
            "filters": filters,
            "match": MatchCohortForm(),
            "page": list_page(request, placement_list(**filters.selector_filters())),
        },
    )


@permission_required(MANAGE_PLACEMENTS)
def placement_detail_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    placement = _placement(pk)
    return render(
        request,
        "placements/placements/placement_detail.html",
        {
            "placement": placement,
            "actions": [ACTIONS[name] for name in OFFERED.get(placement.status, ())],
            "history": placement_history(placement),
        },
    )


def _prefill(request: AuthenticatedRequest) -> tuple[dict[str, Any], str]:
    """The create page's initial values from its address, and what to say about the cohort.
    An urgent request gives its subject, year and dates. Without a cohort, a learner with
    exactly one open enrolment has its cohort chosen; otherwise the page says why not."""
    initial: dict[str, Any] = {
        name: value
        for name in PREFILL
        if (value := request.GET.get(name, "").strip()) and value.isdigit()
    }
    if "urgent_request" in initial:
        urgent = UrgentPlacementRequest.objects.filter(pk=initial["urgent_request"]).first()
        if urgent is None:
            del initial["urgent_request"]
        else:
            initial.update(
                subject=urgent.subject_id,
                academic_year=urgent.academic_year_id,
                starts_on=urgent.starts_on,
                ends_on=urgent.ends_on,
            )
    learner = Learner.objects.filter(pk=initial.get("learner", 0)).first()
    if learner is None or "cohort" in initial:
        return initial, ""
    cohorts = list(open_cohorts(learner)[:2])
    if len(cohorts) == 1:
        initial["cohort"] = cohorts[0].pk
        return initial, ""
    if not cohorts:
        return initial, (
            f"{learner.full_name} has no open enrolment in a cohort: enrol them before "
            "proposing a placement."
        )
    return initial, (
        f"{learner.full_name} is enrolled in more than one cohort: choose the one whose "
        "workplace component this is."
    )


@permission_required(MANAGE_PLACEMENTS)
@never_cache
def placement_create(request: AuthenticatedRequest) -> HttpResponse:
    """Propose one placement; the organisation's members are e-mailed and answer it."""
    if request.method == "POST":
        form = PlacementForm(request.POST)
        if form.is_valid():
            try:
                [placement] = placements_propose(actor=request.user, proposals=[form.proposal()])
            except ValidationError as error:
                refusal_show(form, error)
            else:
                messages.success(
                    request,
                    f"The placement is proposed to {placement.organisation}: its members are "
                    "e-mailed to confirm or decline it.",
                )
                return redirect("placements:placement_detail", pk=placement.pk)
    else:
        initial, cohort_note = _prefill(request)
        form = PlacementForm(initial=initial)
        if cohort_note:
            form.fields["cohort"].help_text = cohort_note
    return render(
        request,
        "placements/placements/placement_form.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


def _action_page(
    request: AuthenticatedRequest,
    placement: Placement,
    action: Action,
    *,
    back: str,
    run: Callable[[Any], Placement],
    done_url: str,
) -> HttpResponse:
    """The confirmation page of a transition, and its POST: the form's fields go to `run`, a
    refusal shows on the page."""
    form = (action.form or forms.Form)(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            run(form.cleaned_data)
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, action.done)
            return redirect(done_url)
    return render(
        request,
        "placements/placements/placement_action.html",
        {"placement": placement, "action": action, "form": form, "back": back},
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_PLACEMENTS)
@never_cache
def placement_action(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    placement = _placement(pk)
    chosen = ACTIONS[action]
    back = reverse("placements:placement_detail", args=[placement.pk])
    return _action_page(
        request,
        placement,
        chosen,
        back=back,
        run=lambda data: chosen.run(placement=placement, actor=request.user, **data),
        done_url=back,
    )


# --- Organisation members --------------------------------------------------------------------


@login_required
def member_placements(request: AuthenticatedRequest) -> HttpResponse:
    """The placements at the member's current organisation, those waiting for an answer
    first."""
    organisation = current_organisation_or_404(request.user)
    status = request.GET.get("status", "")
    if status not in PlacementStatus.values:
        status = ""
    return render(
        request,
        "placements/placements/member_placements.html",
        {
            "organisation": organisation,
            "status": status,
            "statuses": PlacementStatus.choices,
            "page": list_page(request, organisation_placements(organisation, status=status)),
        },
    )


MEMBER_ACTIONS = {
    "confirm": Action(
        "confirm",
        "Confirm the placement",
        "Confirm this placement?",
        "You agree to host the learner on these dates. The institution and the learner are told.",
        None,
        placement_confirm,
        done="The placement is confirmed. Thank you.",
    ),
    "decline": Action(
        "decline",
        "Decline the placement",
        "Decline this placement?",
        "The institution reads your reason and may propose another learner or other dates.",
        ReasonForm,
        placement_decline,
        danger=True,
        done="The placement is declined; the institution sees your reason.",
    ),
}


@login_required
@never_cache
def member_placement_action(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    organisation = current_organisation_or_404(request.user)
    placement = get_object_or_404(
        Placement.objects.select_related("learner", "subject", "academic_year", "supervisor"),
        pk=pk,
        organisation=organisation,
    )
    chosen = MEMBER_ACTIONS[action]
    back = reverse("placements:member_placements")
    return _action_page(
        request,
        placement,
        chosen,
        back=back,
        run=lambda data: chosen.run(placement=placement, actor=request.user, **data),
        done_url=back,
    )


# --- Learners --------------------------------------------------------------------------------


@login_required
def my_placements(request: AuthenticatedRequest) -> HttpResponse:
    """The learner's placements, with the way to their vetting (only a learner has any)."""
    return render(
        request,
        "placements/placements/my_placements.html",
        {
            "placements": learner_placements(request.user),
            "is_learner": learner_of_user(request.user) is not None,
        },
    )
