"""The institution's organisation pages: the list (search, filters, a map), an organisation's
page with its address, coordinates, contacts and sponsor, the forms that change them, the
import from a register's extract, and a learner's home coordinates. Whoever places learners
may look; only who manages organisations may change them."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from academics.forms import CatalogueForm
from academics.imports import (
    TEMPLATE_TYPES,
    import_rows_keep,
    import_rows_kept,
    template_download,
)
from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from learners.models import Learner
from placements.forms.organisations import (
    CoordinatesForm,
    OrganisationAddressForm,
    OrganisationContactForm,
    OrganisationDetailForm,
    OrganisationFilterForm,
    OrganisationForm,
    OrganisationImportForm,
)
from placements.models import Organisation, OrganisationContact, OrganisationDetail
from placements.organisation_imports import (
    COLUMNS,
    MAX_ROWS,
    organisation_plan,
    organisation_rows_read,
    organisation_template,
)
from placements.selectors.locations import learner_location, learner_point
from placements.selectors.organisations import (
    contact_supervising,
    coordinate_flag_sentence,
    organisation_list,
    organisation_map,
    organisation_open_placements,
    organisation_page,
)
from placements.services.geocoding import (
    LOCATE_LEARNERS,
    MANAGE_ORGANISATIONS,
    geocoder_configured,
    learner_address,
    learner_location_enter,
    learner_location_lookup,
)
from placements.services.organisations import (
    organisation_address_set,
    organisation_contact_add,
    organisation_contact_remove,
    organisation_contact_update,
    organisation_coordinates_enter,
    organisation_create,
    organisation_deactivate,
    organisation_detail_set,
    organisation_lookup_ask,
    organisation_reactivate,
    organisation_update,
    organisations_import,
)

# Who may see organisations: who manages them, and who places learners with them.
SEE_ORGANISATIONS = (MANAGE_ORGANISATIONS, "placements.manage_placements")


def _organisation(pk: int) -> Organisation:
    try:
        return organisation_page(pk)
    except Organisation.DoesNotExist as missing:
        raise Http404 from missing


def _refused(forms: list[CatalogueForm], error: ValidationError) -> None:
    """A service's refusal beside the field it names, on whichever form has that field."""
    if not hasattr(error, "error_dict"):
        forms[0].add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form = next((form for form in forms if name in form.fields), forms[0])
        form.add_error(name if name in form.fields else None, errors)


def _without_view(request: AuthenticatedRequest) -> str:
    """The list's filters as a query string, without the map view or the page."""
    query = request.GET.copy()
    query.pop("view", None)
    query.pop("page", None)
    return query.urlencode()


@permission_required(*SEE_ORGANISATIONS)
def organisation_list_view(request: AuthenticatedRequest) -> HttpResponse:
    filters = OrganisationFilterForm(request.GET or None)
    organisations = organisation_list(**filters.selector_filters())
    showing_map = request.GET.get("view") == "map"
    return render(
        request,
        "placements/organisations/list.html",
        {
            "filters": filters,
            "page": None if showing_map else list_page(request, organisations),
            "map": organisation_map(organisations) if showing_map else None,
            "list_query": _without_view(request),
            "may_manage": request.user.may(MANAGE_ORGANISATIONS),
        },
    )


@permission_required(MANAGE_ORGANISATIONS)
@never_cache
def organisation_create_view(request: AuthenticatedRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = OrganisationForm(data)
    address = OrganisationAddressForm(data, prefix="address", initial={"country": "ZA"})
    coordinates = CoordinatesForm(data, prefix="coordinates")
    if data is not None and all([form.is_valid(), address.is_valid(), coordinates.is_valid()]):
        try:
            organisation = organisation_create(
                actor=request.user,
                fields=form.changes(),
                address=address.changes(),
                latitude=coordinates.cleaned_data["latitude"],
                longitude=coordinates.cleaned_data["longitude"],
            )
        except ValidationError as error:
            _refused([form, address], error)
        else:
            messages.success(request, f"{organisation} added.")
            return redirect(organisation)
    return render(
        request,
        "placements/organisations/create.html",
        {
            "form": form,
            "address": address,
            "coordinates": coordinates,
            "geocoding": geocoder_configured(),
        },
        status=400 if data is not None else 200,
    )


@permission_required(*SEE_ORGANISATIONS)
def organisation_detail_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organisation = _organisation(pk)
    return render(
        request,
        "placements/organisations/detail.html",
        {
            "organisation": organisation,
            "address": getattr(organisation, "address", None),
            "detail": getattr(organisation, "detail", None),
            "flag": coordinate_flag_sentence(organisation),
            "may_manage": request.user.may(MANAGE_ORGANISATIONS),
            "geocoding": geocoder_configured(),
        },
    )


def _form_page(
    request: AuthenticatedRequest,
    organisation: Organisation,
    forms: list[CatalogueForm],
    save: Callable[[], object],
    *,
    heading: str,
    submit: str,
    saved: str,
    intro: str = "",
) -> HttpResponse:
    """One or more forms about an organisation: on a valid POST, `save` (service calls) and
    back to its page; a refusal goes back beside its field."""
    if request.method == "POST" and all([form.is_valid() for form in forms]):
        try:
            save()
        except ValidationError as error:
            _refused(forms, error)
        else:
            messages.success(request, saved)
            return redirect(organisation)
    return render(
        request,
        "placements/organisations/form.html",
        {
            "organisation": organisation,
            "forms": forms,
            "heading": heading,
            "submit": submit,
            "intro": intro,
        },
        status=400 if request.method == "POST" else 200,
    )


@permission_required(MANAGE_ORGANISATIONS)
@never_cache
def organisation_edit_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organisation = _organisation(pk)
    data = request.POST if request.method == "POST" else None
    form = OrganisationForm(data, instance=organisation)
    detail = OrganisationDetailForm(
        data,
        instance=getattr(organisation, "detail", None) or OrganisationDetail(),
        prefix="detail",
    )

    def save() -> None:
        organisation_update(actor=request.user, organisation=organisation, fields=form.changes())
        organisation_detail_set(
            actor=request.user, organisation=organisation, detail=detail.changes()
        )

    return _form_page(
        request,
        organisation,
        [form, detail],
        save,
        heading=f"Edit {organisation}",
        submit="Save",
        saved=f"{organisation} saved.",
    )


@permission_required(MANAGE_ORGANISATIONS)
@never_cache
def organisation_address_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organisation = _organisation(pk)
    form = OrganisationAddressForm(
        request.POST if request.method == "POST" else None,
        instance=getattr(organisation, "address", None),
        initial={"country": "ZA"},
    )
    intro = (
        "A changed address is looked up for new coordinates; coordinates entered by hand stay."
        if geocoder_configured()
        else "Coordinates looked up from the old address are flagged when the address changes: "
        "enter new ones on the organisation's page."
    )
    return _form_page(
        request,
        organisation,
        [form],
        lambda: organisation_address_set(
            actor=request.user, organisation=organisation, address=form.changes()
        ),
        heading=f"Address of {organisation}",
        submit="Save address",
        saved=f"The address of {organisation} is saved.",
        intro=intro,
    )


@permission_required(MANAGE_ORGANISATIONS)
@never_cache
def organisation_coordinates_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organisation = _organisation(pk)
    form = CoordinatesForm(
        request.POST if request.method == "POST" else None,
        initial={"latitude": organisation.latitude, "longitude": organisation.longitude},
    )
    if request.method == "POST" and form.is_valid():
        try:
            organisation_coordinates_enter(
                actor=request.user,
                organisation=organisation,
                latitude=form.cleaned_data["latitude"],
                longitude=form.cleaned_data["longitude"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"The coordinates of {organisation} are saved.")
            return redirect(organisation)
    return render(
        request,
        "placements/organisations/coordinates.html",
        {
            "organisation": organisation,
            "form": form,
            "flag": coordinate_flag_sentence(organisation),
            "geocoding": geocoder_configured(),
            "address": getattr(organisation, "address", None),
        },
        status=400 if request.method == "POST" else 200,
    )


@permission_required(MANAGE_ORGANISATIONS)
@require_POST
def organisation_lookup_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organisation = get_object_or_404(Organisation, pk=pk)
    try:
        organisation_lookup_ask(actor=request.user, organisation=organisation)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, "The address is being looked up: reload the page in a moment to see it."
        )
    return redirect(organisation)


@permission_required(MANAGE_ORGANISATIONS)
@never_cache
def organisation_active_view(request: AuthenticatedRequest, pk: int, active: bool) -> HttpResponse:
    """Deactivate (after a confirmation) or reactivate."""
    organisation = _organisation(pk)
    refused = ""
    if request.method == "POST":
        try:
            if active:
                organisation_reactivate(actor=request.user, organisation=organisation)
                messages.success(request, f"{organisation} hosts learners again.")
            else:
                organisation_deactivate(actor=request.user, organisation=organisation)
                messages.success(request, f"{organisation} is deactivated.")
            return redirect(organisation)
        except ValidationError as error:
            refused = " ".join(error.messages)
    if active:
        raise Http404  # reactivating needs no confirmation page: the button posts
    return render(
        request,
        "placements/organisations/deactivate.html",
        {
            "organisation": organisation,
            "refused": refused,
            "open_placements": organisation_open_placements(organisation),
            "placements_url": (
                f"{reverse('placements:placement_list')}?organisation={organisation.pk}"
            ),
        },
    )


def _contact(organisation: Organisation, contact_pk: int) -> OrganisationContact:
    return get_object_or_404(OrganisationContact, pk=contact_pk, organisation=organisation)


@permission_required(MANAGE_ORGANISATIONS)
@never_cache
def organisation_contact_add_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    organisation = _organisation(pk)
    form = OrganisationContactForm(request.POST if request.method == "POST" else None)
    return _form_page(
        request,
        organisation,
        [form],
        lambda: organisation_contact_add(
            actor=request.user, organisation=organisation, fields=form.changes()
        ),
        heading=f"Add a contact at {organisation}",
        submit="Add contact",
        saved="Contact added.",
    )


@permission_required(MANAGE_ORGANISATIONS)
@never_cache
def organisation_contact_edit_view(
    request: AuthenticatedRequest, pk: int, contact_pk: int
) -> HttpResponse:
    organisation = _organisation(pk)
    contact = _contact(organisation, contact_pk)
    form = OrganisationContactForm(
        request.POST if request.method == "POST" else None, instance=contact
    )
    return _form_page(
        request,
        organisation,
        [form],
        lambda: organisation_contact_update(
            actor=request.user, contact=contact, fields=form.changes()
        ),
        heading=f"Edit {contact.full_name}",
        submit="Save contact",
        saved=f"{contact.full_name} saved.",
    )


@permission_required(MANAGE_ORGANISATIONS)
@never_cache
def organisation_contact_remove_view(
    request: AuthenticatedRequest, pk: int, contact_pk: int
) -> HttpResponse:
    """Ask first; remove on confirmation, or say why not."""
    organisation = _organisation(pk)
    contact = _contact(organisation, contact_pk)
    if request.method == "POST":
        try:
            organisation_contact_remove(actor=request.user, contact=contact)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{contact.full_name} removed.")
        return redirect(organisation)
    return render(
        request,
        "placements/organisations/contact_remove.html",
        {
            "organisation": organisation,
            "contact": contact,
            "supervising": contact_supervising(contact),
        },
    )


# Organisations from a register's extract

IMPORT_SESSION_KEY = "placements_organisation_import"


@permission_required(MANAGE_ORGANISATIONS)
def organisation_import_view(request: AuthenticatedRequest) -> HttpResponse:
    """Upload: the file is read and checked at once; its rows wait in the session for the
    preview and the confirmation, which checks them again."""
    form = OrganisationImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = organisation_rows_read(upload.read())
        except ValidationError as error:
            form.add_error("file", error)
        else:
            import_rows_keep(request.session, IMPORT_SESSION_KEY, upload.name, rows)
            return redirect("placements:organisation_import_preview")
    return render(
        request,
        "placements/organisations/import_upload.html",
        {"form": form, "columns": COLUMNS, "max_rows": MAX_ROWS},
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_ORGANISATIONS)
def organisation_import_preview_view(request: AuthenticatedRequest) -> HttpResponse:
    """What confirming would create and update, and each refused row with its reasons."""
    kept = import_rows_kept(request.session, IMPORT_SESSION_KEY)
    if kept is None:
        messages.info(request, "Upload a file to import first.")
        return redirect("placements:organisation_import")
    name, rows = kept
    plan = organisation_plan(rows, geocoding=geocoder_configured())
    return render(
        request, "placements/organisations/import_preview.html", {"name": name, "plan": plan}
    )


@permission_required(MANAGE_ORGANISATIONS)
@require_POST
def organisation_import_confirm_view(request: AuthenticatedRequest) -> HttpResponse:
    kept = import_rows_kept(request.session, IMPORT_SESSION_KEY)
    if kept is None:
        messages.info(request, "Upload a file to import first.")
        return redirect("placements:organisation_import")
    try:
        counts = organisations_import(actor=request.user, rows=kept[1])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("placements:organisation_import_preview")
    del request.session[IMPORT_SESSION_KEY]
    refused = counts["refused"]
    messages.success(
        request,
        f"Imported: {counts['created']} new and {counts['updated']} updated organisations"
        + (
            f"; {refused} refused row{'s were' if refused != 1 else ' was'} left out."
            if refused
            else "."
        ),  # fmt: skip
    )
    return redirect("placements:organisation_list")


@permission_required(MANAGE_ORGANISATIONS)
def organisation_import_template_view(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    if kind not in TEMPLATE_TYPES:
        raise Http404
    return template_download(organisation_template(kind), kind, "organisations-template")


# A learner's home, for the distance search


@permission_required(*LOCATE_LEARNERS)
@never_cache
def learner_location_view(request: AuthenticatedRequest, learner_pk: int) -> HttpResponse:
    learner = get_object_or_404(Learner, pk=learner_pk)
    location = learner_location(learner)
    form = CoordinatesForm(
        request.POST if request.method == "POST" else None,
        initial={
            "latitude": location.latitude if location else None,
            "longitude": location.longitude if location else None,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            learner_location_enter(
                actor=request.user,
                learner=learner,
                latitude=form.cleaned_data["latitude"],
                longitude=form.cleaned_data["longitude"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"The coordinates of {learner.full_name}'s home are saved.")
            return redirect("placements:learner_location", learner_pk=learner.pk)
    point, why = learner_point(learner, location)
    return render(
        request,
        "placements/organisations/learner_location.html",
        {
            "learner": learner,
            "location": location,
            "address": learner_address(learner),
            "point": point,
            "why": why,
            "form": form,
            "geocoding": geocoder_configured(),
        },
        status=400 if request.method == "POST" else 200,
    )


@permission_required(*LOCATE_LEARNERS)
@require_POST
def learner_location_lookup_view(request: AuthenticatedRequest, learner_pk: int) -> HttpResponse:
    learner = get_object_or_404(Learner, pk=learner_pk)
    try:
        learner_location_lookup(actor=request.user, learner=learner)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, "The address is being looked up: reload the page in a moment to see it."
        )
    return redirect(reverse("placements:learner_location", args=[learner.pk]))
