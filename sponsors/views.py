from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from cohorts.models import Cohort
from signing.forms import RevokeForm
from sponsors.forms import CohortSponsorForm, SponsorFilterForm, SponsorForm
from sponsors.models import Sponsor
from sponsors.selectors import cohort_sponsor_status, sponsor_list
from sponsors.services import (
    FIELDS,
    cohort_sponsor_set,
    sponsor_create,
    sponsor_invite,
    sponsor_invite_revoke,
    sponsor_update,
)


@permission_required("sponsors.manage_sponsors")
def sponsor_list_view(request: AuthenticatedRequest) -> HttpResponse:
    filters = SponsorFilterForm(request.GET or None)
    sponsors = sponsor_list(**filters.selector_filters())
    return render(
        request,
        "sponsors/sponsor_list.html",
        {"page": list_page(request, sponsors), "filters": filters},
    )


@permission_required("sponsors.manage_sponsors")
def sponsor_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    sponsor = get_object_or_404(sponsor_list(), pk=pk)
    return render(request, "sponsors/sponsor_detail.html", {"sponsor": sponsor})


@permission_required("sponsors.manage_sponsors")
def sponsor_edit(request: AuthenticatedRequest, pk: int | None = None) -> HttpResponse:
    sponsor = get_object_or_404(Sponsor, pk=pk) if pk else None
    form = SponsorForm(request.POST or None, instance=sponsor)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in FIELDS}
        try:
            user = form.cleaned_data["user"]
            if sponsor is None:
                sponsor = sponsor_create(actor=request.user, user=user, **values)
                messages.success(request, f"{sponsor.company_name} added.")
            else:
                sponsor = sponsor_update(sponsor=sponsor, actor=request.user, user=user, **values)
                messages.success(request, f"{sponsor.company_name} saved.")
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return redirect("sponsors:detail", pk=sponsor.pk)
    return render(request, "sponsors/sponsor_form.html", {"form": form, "sponsor": sponsor})


@require_POST
@permission_required("sponsors.manage_sponsors")
def cohort_sponsor_set_view(request: AuthenticatedRequest, cohort_pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort, pk=cohort_pk)
    form = CohortSponsorForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the sponsors listed.")
    else:
        try:
            cohort_sponsor_set(
                cohort=cohort, sponsor=form.cleaned_data["sponsor"], actor=request.user
            )
            messages.success(request, "Sponsor saved.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return redirect("cohorts:dashboard", pk=cohort.pk)


@require_POST
@permission_required("sponsors.manage_sponsors")
def sponsor_invite_view(request: AuthenticatedRequest, cohort_pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort, pk=cohort_pk)
    try:
        sponsor_invite(cohort=cohort, actor=request.user)
        messages.success(request, "The sponsor has been e-mailed a link to sign.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("cohorts:dashboard", pk=cohort.pk)


@permission_required("sponsors.manage_sponsors")
def sponsor_invite_revoke_view(request: AuthenticatedRequest, cohort_pk: int) -> HttpResponse:
    """Asks first (a page, so that it works without scripts); the POST revokes the link."""
    cohort = get_object_or_404(Cohort.objects.select_related("sponsor"), pk=cohort_pk)
    form = RevokeForm(request.POST if request.method == "POST" else None)
    if request.method != "POST" or not form.is_valid():
        return render(
            request,
            "sponsors/invite_revoke.html",
            {"cohort": cohort, "sponsor_status": cohort_sponsor_status(cohort), "form": form},
        )
    try:
        sponsor_invite_revoke(
            cohort=cohort, actor=request.user, reason=form.cleaned_data["reason"].strip()
        )
        messages.success(request, "The sponsor's link is revoked: it no longer opens.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("cohorts:dashboard", pk=cohort.pk)
