"""Mentors' pages: a mentor's mentees (the placements they mentor now, with the weeks waiting
for them), and naming a placement's mentor (staff who manage placements, or a member acting
for the placement's organisation; anyone else gets the audited 404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check
from accounts.refusals import refusal_show
from placements.models import Placement
from workplace.access import MANAGE_PLACEMENTS
from workplace.forms.logbook import MentorForm
from workplace.selectors.logbook import current_mentorship, logbook_placement, mentees
from workplace.services.mentors import MENTORED_STATUSES, may_assign_mentor, mentor_assign


@login_required
def mentees_view(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "workplace/logbook/mentees.html",
        {"page": list_page(request, mentees(request.user))},
    )


@login_required
@never_cache
def mentor_assign_view(request: AuthenticatedRequest, placement_pk: int) -> HttpResponse:
    """Choose the placement's mentor among its organisation's members."""
    try:
        placement = logbook_placement(placement_pk)
    except Placement.DoesNotExist as missing:
        raise Http404("No such placement.") from missing
    permission_check(
        actor=request.user,
        action="view:workplace.mentor_assign",
        allowed=may_assign_mentor(request.user, placement),
    )
    staff = request.user.may(MANAGE_PLACEMENTS)
    back = (
        reverse("placements:placement_detail", args=[placement.pk])
        if staff
        else reverse("placements:member_placements")
    )
    mentorship = current_mentorship(placement)
    form = MentorForm(
        request.POST if request.method == "POST" else None,
        placement=placement,
        initial={"mentor": mentorship.mentor_id if mentorship else None},
    )
    if request.method == "POST" and form.is_valid():
        try:
            mentor_assign(
                actor=request.user, placement=placement, mentor=form.cleaned_data["mentor"]
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(
                request,
                f"{form.cleaned_data['mentor'].full_name} mentors {placement.learner.full_name} "
                "now, and is e-mailed.",
            )
            return redirect(back)
    return render(
        request,
        "workplace/logbook/mentor_assign.html",
        {
            "placement": placement,
            "mentorship": mentorship,
            "form": form,
            "back": back,
            "open": placement.status in MENTORED_STATUSES,
        },
        status=400 if form.is_bound else 200,
    )
