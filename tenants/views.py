import logging
import mimetypes
from collections.abc import Callable

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from signing.selectors import certificate_in_use
from signing.services.certificates import certificate_import_pkcs12
from tenants.forms import (
    FindInstitutionForm,
    InstitutionCreateForm,
    InstitutionFilterForm,
    InstitutionProfileForm,
    SealCertificateUploadForm,
    SuspendForm,
)
from tenants.models import Institution, ProvisioningRequest
from tenants.overview import institution_facts
from tenants.provisioning import (
    provisioning_request_create,
    provisioning_request_dismiss,
    provisioning_request_retry,
)
from tenants.ratelimits import rate_limited
from tenants.selectors import institution_list_for_operator, provisioning_requests_for_operator
from tenants.services import (
    institution_finder_send,
    institution_profile_update,
    institution_reactivate,
    institution_suspend,
)
from tenants.storage import STORAGE_FAILED_MESSAGE

logger = logging.getLogger(__name__)


def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "tenants/landing.html")


def find_institution(request: HttpRequest) -> HttpResponse:
    """Each request e-mails an address: limited per client address, failing open (a cache
    that is down must not hide the form)."""
    form = FindInstitutionForm(request.POST or None)
    if request.method == "POST" and rate_limited(
        request, group="tenants.views.find_institution", key="ip", rate="10/h"
    ):
        form.add_error(None, "Too many requests from your address; try again in an hour.")
    elif request.method == "POST" and form.is_valid():
        institution_finder_send(email=form.cleaned_data["email"])
        return render(request, "tenants/find_institution_sent.html")
    return render(request, "tenants/find_institution.html", {"form": form})


def operator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Platform operators only (staff of the public schema); others go to sign in."""
    return staff_member_required(view, login_url="accounts:login")


@operator_required
def operator_dashboard(request: AuthenticatedRequest) -> HttpResponse:
    """The institutions, and above them the ones asked for that are not there yet: waiting,
    being created (the list refreshes itself meanwhile) or failed, with why."""
    filters = InstitutionFilterForm(request.GET or None)
    institutions = institution_list_for_operator(**filters.selector_filters())
    requests = list(provisioning_requests_for_operator())
    return render(
        request,
        "tenants/operator_dashboard.html",
        {
            "page": list_page(request, institutions),
            "filters": filters,
            "provisioning_requests": requests,
            "provisioning_in_progress": any(item.is_in_progress for item in requests),
        },
    )


@operator_required
def operator_institution_create(request: AuthenticatedRequest) -> HttpResponse:
    """Saves the request and returns at once; a worker creates the institution."""
    form = InstitutionCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            provisioning_request_create(**form.cleaned_data, actor=request.user)
        except ValidationError as error:  # the code was requested or taken a moment ago
            form.add_error("code", error)
        else:
            messages.success(
                request,
                f"{form.cleaned_data['name']} is being created. Its super admin will receive an "
                "invitation by e-mail in a moment.",
            )
            return redirect("tenants:operator_dashboard")
    return render(request, "tenants/operator_institution_form.html", {"form": form})


@operator_required
@require_POST
def operator_provisioning_request(
    request: AuthenticatedRequest, pk: int, action: str
) -> HttpResponse:
    """ "Try again" or "Dismiss" on a failed request."""
    provisioning_request = get_object_or_404(ProvisioningRequest, pk=pk)
    try:
        if action == "retry":
            provisioning_request_retry(
                provisioning_request=provisioning_request, actor=request.user
            )
            messages.success(request, f"{provisioning_request.name} is being created again.")
        elif action == "dismiss":
            provisioning_request_dismiss(
                provisioning_request=provisioning_request, actor=request.user
            )
            messages.success(request, f"The request for {provisioning_request.name} is dismissed.")
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("tenants:operator_dashboard")


def _operator_institution(pk: int) -> Institution:
    institution: Institution = get_object_or_404(
        Institution.objects.institutions().prefetch_related("domains"), pk=pk
    )
    return institution


@operator_required
def operator_institution_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One institution as the operator sees it: addresses, status and its history, how much
    it holds, who runs it and when someone last did something there."""
    institution = _operator_institution(pk)
    return render(
        request,
        "tenants/operator_institution_detail.html",
        {"subject": institution, "facts": institution_facts(institution)},
    )


@operator_required
def operator_institution_suspend(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A page that says what suspending does and asks why, before anything happens."""
    institution = _operator_institution(pk)
    if institution.is_suspended:
        messages.info(request, f"{institution.name} is already suspended.")
        return redirect("tenants:operator_institution_detail", pk=pk)
    form = SuspendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if institution_suspend(
            institution=institution, actor=request.user, reason=form.cleaned_data["reason"]
        ):
            messages.success(request, f"{institution.name} is suspended: nobody can sign in there.")
        else:
            messages.info(request, f"{institution.name} was already suspended.")
        return redirect("tenants:operator_institution_detail", pk=pk)
    return render(
        request,
        "tenants/operator_institution_suspend.html",
        {"subject": institution, "form": form},
    )


@operator_required
@require_POST
def operator_institution_reactivate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    institution = _operator_institution(pk)
    if institution_reactivate(institution=institution, actor=request.user):
        messages.success(request, f"{institution.name} is active again: people can sign in.")
    else:
        messages.info(request, f"{institution.name} was already active.")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("tenants:operator_institution_detail", pk=pk)


def institution_logo(request: HttpRequest) -> FileResponse:
    """The current institution's logo, streamed from private storage."""
    institution: Institution | None = getattr(request, "tenant", None)
    if institution is None or not institution.logo:
        raise Http404
    content_type, _encoding = mimetypes.guess_type(institution.logo.name or "")
    return FileResponse(
        institution.logo.open("rb"), content_type=content_type or "application/octet-stream"
    )


def _settings_page(
    request: AuthenticatedRequest,
    *,
    form: InstitutionProfileForm | None = None,
    seal_form: SealCertificateUploadForm | None = None,
) -> HttpResponse:
    """The settings page: the profile form and the document seal, either one maybe with the
    errors of the form just sent."""
    return render(
        request,
        "tenants/institution_settings.html",
        {
            "form": form or InstitutionProfileForm(instance=request.tenant),
            "seal_form": seal_form or SealCertificateUploadForm(),
            "certificate": certificate_in_use(),
        },
    )


@permission_required("tenants.manage_institution")
def institution_settings(request: AuthenticatedRequest) -> HttpResponse:
    institution = request.tenant
    form = InstitutionProfileForm(request.POST or None, request.FILES or None, instance=institution)
    if request.method == "POST" and form.is_valid():
        try:
            institution_profile_update(
                institution=institution, actor=request.user, changes=form.cleaned_data
            )
        except OSError as error:  # the logo could not be stored; nothing was saved
            logger.error("Could not store the logo of %s: %r", institution.schema_name, error)
            form.add_error("logo", STORAGE_FAILED_MESSAGE)
        else:
            messages.success(request, "Institution settings saved.")
            return redirect("institution_settings")
    return _settings_page(request, form=form)


@sensitive_post_parameters("password")
@permission_required("tenants.manage_institution")
@require_POST
def institution_seal_upload(request: AuthenticatedRequest) -> HttpResponse:
    """The super admin's own certificate replaces the seal; the file's password is kept out of
    error reports."""
    seal_form = SealCertificateUploadForm(request.POST, request.FILES)
    if seal_form.is_valid():
        try:
            certificate = certificate_import_pkcs12(
                data=seal_form.cleaned_data["file"],
                password=seal_form.cleaned_data["password"],
                actor=request.user,
            )
        except ValidationError as error:
            seal_form.add_error(None, error)
        else:
            messages.success(
                request,
                f"Agreements completed from now on are sealed with “{certificate.subject_name}”.",
            )
            return redirect(reverse("institution_settings") + "#document-seal")
    return _settings_page(request, seal_form=seal_form)
