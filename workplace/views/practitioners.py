"""Assessors' and moderators' registrations, for the people who manage practitioners (anyone
else gets the audited 404): the list with its filters, registering a person, and changing or
withdrawing a registration. Every write goes through workplace.services.practitioners."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from workplace.access import MANAGE_PRACTITIONERS
from workplace.forms.practitioners import RegistrationFilterForm, RegistrationForm
from workplace.models import PractitionerRegistration, PractitionerRole
from workplace.selectors.practitioners import registration_for_edit, registration_list
from workplace.services.practitioners import (
    EXPIRY_WARNING_DAYS,
    registration_create,
    registration_update,
)


@permission_required(MANAGE_PRACTITIONERS)
def practitioner_list(request: AuthenticatedRequest) -> HttpResponse:
    filters = RegistrationFilterForm(request.GET or None)
    return render(
        request,
        "workplace/practitioners/list.html",
        {
            "filters": filters,
            "page": list_page(request, registration_list(**filters.selector_filters())),
            "warning_days": EXPIRY_WARNING_DAYS,
        },
    )


@permission_required(MANAGE_PRACTITIONERS)
@never_cache
def practitioner_add(request: AuthenticatedRequest) -> HttpResponse:
    """Register a person; `?role=moderator` offers the people who may be moderators."""
    role = request.GET.get("role", "")
    form = RegistrationForm(
        request.POST if request.method == "POST" else None,
        role=role if role in PractitionerRole.values else "",
    )
    if request.method == "POST" and form.is_valid():
        try:
            registration = registration_create(actor=request.user, **form.service_arguments())
        except ValidationError as error:
            form.refusal_show(error)
        else:
            messages.success(
                request,
                f"{registration.user.full_name} is registered as "
                f"{registration.get_role_display().lower()}.",
            )
            return redirect("workplace:practitioner_list")
    return render(
        request,
        "workplace/practitioners/form.html",
        {"form": form, "registration": None},
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_PRACTITIONERS)
@never_cache
def practitioner_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        registration = registration_for_edit(pk=pk)
    except PractitionerRegistration.DoesNotExist as missing:
        raise Http404 from missing
    form = RegistrationForm(
        request.POST if request.method == "POST" else None, registration=registration
    )
    if request.method == "POST" and form.is_valid():
        try:
            registration = registration_update(
                actor=request.user, registration=registration, **form.service_arguments()
            )
        except ValidationError as error:
            form.refusal_show(error)
        else:
            state = "saved" if registration.is_active else "withdrawn"
            messages.success(
                request,
                f"{registration.user.full_name}'s {registration.get_role_display().lower()} "
                f"registration is {state}.",
            )
            return redirect("workplace:practitioner_list")
    return render(
        request,
        "workplace/practitioners/form.html",
        {"form": form, "registration": registration},
        status=400 if form.is_bound else 200,
    )
