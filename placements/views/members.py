"""Organisation members' own pages (their current organisation, switching it, its placement
preference per academic year), and the admin's pages about members and preferences: an
organisation's members and preferences, and the overview of who has answered a year.

Member pages find everything through placements.access: another organisation's ids answer 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from academics.models import AcademicYear
from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from placements.access import current_organisation_or_404
from placements.forms.members import MembershipAddForm, PreferenceForms
from placements.models import Organisation, OrganisationMembership, PlacementPreference
from placements.selectors.members import (
    academic_years,
    default_overview_year,
    member_waiting,
    members_of_organisation,
    memberships_of,
    preference_counts,
    preferences_by_year,
    unanswered_organisations,
)
from placements.services.memberships import (
    MANAGE_ORGANISATIONS,
    membership_add,
    membership_remove,
    membership_switch,
)
from placements.services.preferences import (
    REMINDER_INTERVAL,
    RemindersSent,
    preference_reminders_send,
    preference_set,
)


def _names(organisations: list[Organisation]) -> str:
    return ", ".join(organisation.name for organisation in organisations)


@login_required
def member_home(request: AuthenticatedRequest) -> HttpResponse:
    organisation = current_organisation_or_404(request.user)
    return render(
        request,
        "placements/members/home.html",
        {
            "organisation": organisation,
            "memberships": list(memberships_of(request.user)),
            "years": preferences_by_year(organisation),
            "waiting": member_waiting(organisation),
        },
    )


@login_required
@require_POST
def member_switch(request: AuthenticatedRequest) -> HttpResponse:
    try:
        organisation_pk = int(request.POST.get("organisation", ""))
        membership = membership_switch(user=request.user, organisation_pk=organisation_pk)
    except (ValueError, OrganisationMembership.DoesNotExist) as missing:
        raise Http404 from missing
    messages.success(request, f"You are now acting for {membership.organisation}.")
    return redirect("placements:member_home")


def _preference_page(
    request: AuthenticatedRequest,
    *,
    organisation: Organisation,
    year: AcademicYear,
    back: str,
    on_behalf: bool,
) -> HttpResponse:
    """The preference form for one organisation and year, shared by the member's page and the
    admin's (who sets it on the organisation's behalf). The form carries the organisation it
    was opened for: a member who switched organisation in another window since is not saving
    the form onto the new one."""
    if request.method == "POST" and request.POST.get("organisation") != str(organisation.pk):
        # Opened for another organisation (the member switched since, in another window).
        messages.error(
            request,
            "This form was opened for another organisation: nothing was saved. Below is "
            f"{organisation}'s preference; check it and save again.",
        )
        return redirect(request.path)
    preference = PlacementPreference.objects.filter(
        organisation=organisation, academic_year=year
    ).first()
    forms = PreferenceForms(request.POST if request.method == "POST" else None, preference)
    if request.method == "POST" and forms.is_valid():
        try:
            preference_set(
                actor=request.user,
                organisation=organisation,
                academic_year=year,
                appetite=forms.appetite,
                details=forms.details(),
            )
        except ValidationError as error:
            forms.refusal_show(error)
        else:
            messages.success(request, f"{organisation}'s preference for {year} is saved.")
            return redirect(back)
    return render(
        request,
        "placements/members/preference_form.html",
        {
            "organisation": organisation,
            "year": year,
            "preference": preference,
            "forms": forms,
            "back": back,
            "on_behalf": on_behalf,
            "closed": year.ends_on < timezone.localdate(),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@never_cache
def member_preference(request: AuthenticatedRequest, year_pk: int) -> HttpResponse:
    organisation = current_organisation_or_404(request.user)
    year = get_object_or_404(AcademicYear, pk=year_pk)
    return _preference_page(
        request,
        organisation=organisation,
        year=year,
        back=reverse("placements:member_home"),
        on_behalf=False,
    )


# The admin's pages.


@permission_required(MANAGE_ORGANISATIONS)
def organisation_members(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=pk)
    form = MembershipAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = membership_add(
                actor=request.user,
                organisation=organisation,
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for name, errors in error.error_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, error)
        else:
            invited = not membership.user.has_usable_password()
            messages.success(
                request,
                f"{membership.user} is now a member of {organisation}"
                + (
                    ". They have not set a password yet: their invitation e-mail says how."
                    if invited
                    else "."
                ),
            )
            return redirect("placements:organisation_members", pk=organisation.pk)
    return render(
        request,
        "placements/members/organisation_members.html",
        {
            "organisation": organisation,
            "page": list_page(request, members_of_organisation(organisation)),
            "form": form,
        },
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_ORGANISATIONS)
@never_cache
def organisation_member_remove(
    request: AuthenticatedRequest, pk: int, membership_pk: int
) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=pk)
    membership = get_object_or_404(
        OrganisationMembership.objects.select_related("user"),
        pk=membership_pk,
        organisation=organisation,
    )
    if request.method == "POST":
        membership_remove(actor=request.user, membership=membership)
        messages.success(request, f"{membership.user} is no longer a member of {organisation}.")
        return redirect("placements:organisation_members", pk=organisation.pk)
    others = memberships_of(membership.user).exclude(pk=membership.pk).count()
    return render(
        request,
        "placements/members/member_remove.html",
        {"organisation": organisation, "membership": membership, "others": others},
    )


@permission_required(MANAGE_ORGANISATIONS)
def organisation_preferences(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=pk)
    return render(
        request,
        "placements/members/organisation_preferences.html",
        {"organisation": organisation, "years": preferences_by_year(organisation)},
    )


@permission_required(MANAGE_ORGANISATIONS)
@never_cache
def organisation_preference_edit(
    request: AuthenticatedRequest, pk: int, year_pk: int
) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=pk)
    year = get_object_or_404(AcademicYear, pk=year_pk)
    return _preference_page(
        request,
        organisation=organisation,
        year=year,
        back=reverse("placements:organisation_preferences", args=[organisation.pk]),
        on_behalf=True,
    )


def _reminders_report(request: AuthenticatedRequest, outcome: RemindersSent) -> None:
    if outcome.sent:
        count = len(outcome.sent)
        messages.success(request, f"Reminder sent to {count} organisation{'s' * (count != 1)}.")
    hours = int(REMINDER_INTERVAL.total_seconds() // 3600)
    if outcome.too_soon:
        messages.warning(
            request,
            f"Not reminded again: {_names(outcome.too_soon)}, reminded less than {hours} "
            "hours ago.",
        )
    if outcome.answered:
        messages.info(request, f"Answered meanwhile: {_names(outcome.answered)}.")
    if outcome.no_address:
        messages.warning(
            request,
            f"No one to remind at {_names(outcome.no_address)}: add a member, an e-mail "
            "address or a placement lead.",
        )


@permission_required(MANAGE_ORGANISATIONS)
def preference_overview(request: AuthenticatedRequest) -> HttpResponse:
    years = list(academic_years())
    chosen = request.GET.get("year") or request.POST.get("year")
    year = next((y for y in years if str(y.pk) == chosen), None) if chosen else None
    if chosen and year is None:
        raise Http404("No such academic year.")
    year = year or default_overview_year()
    if year is None:
        return render(request, "placements/members/preference_overview.html", {"years": []})
    unanswered = unanswered_organisations(year)
    if request.method == "POST":
        if request.POST.get("all"):
            chosen_organisations = list(unanswered)
        else:
            pks = [int(pk) for pk in request.POST.getlist("organisations") if pk.isdigit()]
            chosen_organisations = list(unanswered.filter(pk__in=pks))
        if not chosen_organisations:
            messages.error(request, "Choose the organisations to remind.")
        else:
            outcome = preference_reminders_send(
                actor=request.user, academic_year=year, organisations=chosen_organisations
            )
            _reminders_report(request, outcome)
        return redirect(f"{reverse('placements:preference_overview')}?year={year.pk}")
    return render(
        request,
        "placements/members/preference_overview.html",
        {
            "years": years,
            "year": year,
            "counts": preference_counts(year),
            "page": list_page(request, unanswered),
        },
    )
