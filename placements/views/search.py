"""The distance search, the matching page and urgent requests (admins), and urgent requests as
an organisation's members see and answer them."""

import datetime
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from academics.models import AcademicYear
from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from accounts.refusals import refusal_show
from cohorts.models import Cohort
from learners.models import Learner
from placements.access import current_organisation_or_404
from placements.forms.search import (
    MatchingForm,
    ProposeForm,
    SearchForm,
    UrgentAnswerForm,
    UrgentRequestForm,
    dates_default,
    pairs_parse,
)
from placements.models import (
    Organisation,
    UrgentAnswer,
    UrgentPlacementRequest,
    UrgentRequestStatus,
)
from placements.selectors.search import (
    cohort_learners_for_matching,
    learner_matches,
    member_urgent_invites,
    offers_within,
    open_cohort,
    search_results,
    urgent_invites,
    urgent_requests,
)
from placements.services.placements import MANAGE_PLACEMENTS, Proposal, placements_propose
from placements.services.urgent import (
    UrgentNeed,
    urgent_invite_answer,
    urgent_request_broadcast,
    urgent_request_close,
)

# Learners per page of the matching page: one distance query each, so the page is capped.
MATCHING_PAGE_SIZE = 20


# --- Distance search --------------------------------------------------------------------


@permission_required(MANAGE_PLACEMENTS)
def search(request: AuthenticatedRequest) -> HttpResponse:
    """Organisations near a learner or a point, nearest first."""
    form = SearchForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "page": None}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        year, subject = data["academic_year"], data["subject"]
        results = search_results(
            form.centre(),
            form.radius(),
            academic_year=year,
            subject=subject,
            phase=data["phase"],
            appetites=data["appetite"],
        )
        page = list_page(request, results)
        organisations = list(page.object_list)
        if subject is not None:
            offers_within(organisations, year, subject, data["phase"] or None)
            _propose_urls(organisations, form.chosen_learner, year)
        page.object_list = organisations
        context.update(
            page=page,
            centre_label=form.centre_label(),
            radius=form.radius(),
            year=year,
            subject=subject,
        )
    elif form.location_problem is not None:
        context["location_url"] = reverse(
            "placements:learner_location", args=[form.location_problem.pk]
        )
    return render(
        request, "placements/search/search.html", context, status=400 if form.errors else 200
    )


def _propose_urls(
    organisations: list[Organisation], learner: Learner | None, year: AcademicYear
) -> None:
    """Each offer's link to the proposal page for the learner searched around, in the offered
    subject itself (capacity is per subject), with their cohort when they have only one."""
    if learner is None:
        return
    cohort = open_cohort(learner)
    create_url = reverse("placements:placement_create")
    for organisation in organisations:
        for offer in organisation.offers:  # type: ignore[attr-defined]
            query = {
                "learner": learner.pk,
                "organisation": organisation.pk,
                "subject": offer.subject.pk,
                "academic_year": year.pk,
            }
            if cohort is not None:
                query["cohort"] = cohort.pk
            offer.propose_url = f"{create_url}?{urlencode(query)}"


# --- Matching ---------------------------------------------------------------------------


def _cohort(pk: int) -> Cohort:
    return get_object_or_404(Cohort.objects.select_related("programme"), pk=pk)


@permission_required(MANAGE_PLACEMENTS)
@never_cache
def matching(request: AuthenticatedRequest, cohort_pk: int) -> HttpResponse:
    """The cohort's unplaced learners: the cleared beside the nearest organisations with a
    free place (chosen pairs proposed together), the others with the vetting they miss."""
    cohort = _cohort(cohort_pk)
    query = request.GET if request.method == "GET" else request.POST
    form = MatchingForm(query if query.get("subject") else None)
    propose = ProposeForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"cohort": cohort, "form": form, "propose": propose, "page": None}
    if request.method == "POST" and form.is_valid():
        made = _propose(request, cohort, form, propose)
        if made is not None:
            messages.success(
                request,
                f"{made} placement{'s' if made != 1 else ''} proposed to the organisations.",
            )
            dates = {name: str(propose.cleaned_data[name]) for name in ("starts_on", "ends_on")}
            return redirect(f"{request.path}?{urlencode({**_matching_query(form), **dates})}")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        year = data["academic_year"]
        if not propose.is_bound:
            propose = ProposeForm(initial=_dates_asked(request, year))
        on = _start_judged(propose, year)
        page = list_page(request, cohort_learners_for_matching(cohort), per_page=MATCHING_PAGE_SIZE)
        matches = learner_matches(
            list(page.object_list),
            cohort,
            academic_year=year,
            subject=data["subject"],
            radius_km=form.radius(),
            on=on,
        )
        for match in matches:
            match.location_url = (
                None
                if match.located
                else reverse("placements:learner_location", args=[match.learner.pk])
            )
            for organisation in match.organisations:
                organisation.pair = f"{match.learner.pk}:{organisation.pk}"  # type: ignore[attr-defined]
        page.object_list = matches  # type: ignore[assignment]
        context.update(
            page=page,
            propose=propose,
            query=_matching_query(form),
            chosen=set(request.POST.getlist("pair")),
            judged_on=on,
        )
    return render(request, "placements/search/matching.html", context)


def _dates_asked(request: AuthenticatedRequest, year: AcademicYear) -> dict[str, datetime.date]:
    """The dates the page offers: those in the query (kept after a proposal) when they are
    good, else from today or the year's start to the year's end."""
    dates = dates_default(year)
    asked = ProposeForm(request.GET)
    if asked.is_valid():
        dates.update(asked.cleaned_data)
    return dates


def _start_judged(propose: ProposeForm, year: AcademicYear) -> datetime.date:
    """The day clearance is judged on: the proposed start, which is what confirming checks
    (the posted one once sent, even if refused)."""
    if propose.is_bound:
        starts_on = getattr(propose, "cleaned_data", {}).get("starts_on")
        if starts_on is not None:
            return cast(datetime.date, starts_on)
        return dates_default(year)["starts_on"]
    return cast(datetime.date, propose.initial["starts_on"])


def _matching_query(form: MatchingForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "subject": data["subject"].pk,
        "academic_year": data["academic_year"].pk,
        "radius_km": form.radius(),
    }


def _propose(
    request: AuthenticatedRequest, cohort: Cohort, form: MatchingForm, propose: ProposeForm
) -> int | None:
    """Propose the chosen pairs, all or none; the count made, or None with the errors shown."""
    pairs = pairs_parse(request.POST.getlist("pair"))
    if not propose.is_valid():
        return None
    if not pairs:
        propose.add_error(None, "Choose at least one learner and organisation to propose.")
        return None
    learners = {
        learner.pk: learner
        for learner in cohort_learners_for_matching(cohort).filter(
            pk__in=[learner for learner, _ in pairs]
        )
    }
    organisations = Organisation.objects.in_bulk([organisation for _, organisation in pairs])
    if len(learners) != len({learner for learner, _ in pairs}) or len(organisations) != len(
        {organisation for _, organisation in pairs}
    ):
        propose.add_error(
            None,
            "A chosen learner is no longer waiting for a placement in this cohort, or an "
            "organisation is gone: reload the page and choose again.",
        )
        return None
    data = form.cleaned_data
    proposals = [
        Proposal(
            learner=learners[learner],
            organisation=organisations[organisation],
            academic_year=data["academic_year"],
            subject=data["subject"],
            starts_on=propose.cleaned_data["starts_on"],
            ends_on=propose.cleaned_data["ends_on"],
            cohort=cohort,
        )
        for learner, organisation in pairs
    ]
    try:
        return len(placements_propose(actor=request.user, proposals=proposals))
    except ValidationError as error:
        for message in error.messages:
            propose.add_error(None, message)
        return None


# --- Urgent requests (admins) -----------------------------------------------------------


@permission_required(MANAGE_PLACEMENTS)
def urgent_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "placements/search/urgent_list.html",
        {"page": list_page(request, urgent_requests())},
    )


@permission_required(MANAGE_PLACEMENTS)
@never_cache
def urgent_create(request: AuthenticatedRequest) -> HttpResponse:
    form = UrgentRequestForm(request.POST if request.method == "POST" else None)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        need = UrgentNeed(
            subject=data["subject"],
            phase=data["phase"],
            academic_year=data["academic_year"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            places=data["places"],
            centre=form.centre(),
            radius_km=form.radius(),
            centre_label=form.centre_label(),
            message=data["message"],
        )
        try:
            urgent = urgent_request_broadcast(actor=request.user, need=need)
        except ValidationError as error:
            refusal_show(form, error)
        else:
            invited = urgent.invites.count()
            messages.success(
                request,
                f"The request is sent to {invited} organisation{'s' if invited != 1 else ''}.",
            )
            return redirect(urgent)
    elif form.location_problem is not None:
        context["location_url"] = reverse(
            "placements:learner_location", args=[form.location_problem.pk]
        )
    return render(
        request,
        "placements/search/urgent_form.html",
        context,
        status=400 if form.is_bound and form.errors else 200,
    )


def _urgent(pk: int) -> UrgentPlacementRequest:
    request = urgent_requests().filter(pk=pk).first()
    if request is None:
        raise Http404
    return request


@permission_required(MANAGE_PLACEMENTS)
def urgent_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    urgent = _urgent(pk)
    invites = list(urgent_invites(urgent))
    create_url = reverse("placements:placement_create")
    for invite in invites:
        invite.propose_url = (  # type: ignore[attr-defined]
            f"{create_url}?"
            + urlencode(
                {
                    "organisation": invite.organisation_id,
                    "subject": urgent.subject_id,
                    "academic_year": urgent.academic_year_id,
                    "urgent_request": urgent.pk,
                }
            )
            if invite.answer == UrgentAnswer.CAN_HOST
            else None
        )
    return render(
        request,
        "placements/search/urgent_detail.html",
        {
            "urgent": urgent,
            "invites": invites,
            "can_host": [i for i in invites if i.answer == UrgentAnswer.CAN_HOST],
            "waiting": sum(1 for i in invites if not i.answer),
        },
    )


@permission_required(MANAGE_PLACEMENTS)
@require_POST
def urgent_close(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    urgent = _urgent(pk)
    try:
        urgent_request_close(actor=request.user, request=urgent)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The request is closed: organisations can no longer answer.")
    return redirect(urgent)


# --- Urgent requests (organisation members) ---------------------------------------------


@login_required
def member_urgent_list(request: AuthenticatedRequest) -> HttpResponse:
    organisation = current_organisation_or_404(request.user)
    return render(
        request,
        "placements/search/member_urgent_list.html",
        {
            "organisation": organisation,
            "page": list_page(request, member_urgent_invites(organisation)),
        },
    )


@login_required
@never_cache
def member_urgent_answer(request: AuthenticatedRequest, invite_pk: int) -> HttpResponse:
    organisation = current_organisation_or_404(request.user)
    invite = get_object_or_404(
        member_urgent_invites(organisation).select_related("request__created_by"), pk=invite_pk
    )
    is_open = invite.request.status == UrgentRequestStatus.OPEN
    form = UrgentAnswerForm(request.POST if request.method == "POST" else None, invite=invite)
    if request.method == "POST":
        if not is_open:
            messages.error(request, "This request is closed: it can no longer be answered.")
            return redirect("placements:member_urgent_answer", invite_pk=invite.pk)
        if form.is_valid():
            try:
                urgent_invite_answer(
                    actor=request.user,
                    invite=invite,
                    answer=form.cleaned_data["answer"],
                    places_offered=form.cleaned_data["places_offered"],
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                refusal_show(form, error)
            else:
                messages.success(request, "Thank you: your answer is sent to the institution.")
                return redirect("placements:member_urgent_list")
    return render(
        request,
        "placements/search/member_urgent_answer.html",
        {"organisation": organisation, "invite": invite, "form": form, "is_open": is_open},
        status=400 if form.is_bound and form.errors else 200,
    )
