"""A learner's access request: asked for from the learner's page, its status page (polled by
htmx while the ZIP is prepared) and the download."""

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.permissions import permission_required
from enrolments.uploads import stored_file_response
from learners.models import Learner
from learners.selectors import learner_for_staff
from privacy.access.selectors import access_request_for_page
from privacy.access.services import (
    EXPORT_PERMISSION,
    access_request_create,
    access_request_download,
)
from privacy.models import AccessRequest, AccessRequestStatus


def _access_request(pk: int) -> AccessRequest:
    try:
        return access_request_for_page(pk)
    except AccessRequest.DoesNotExist as missing:
        raise Http404 from missing


@permission_required(EXPORT_PERMISSION)
@require_POST
def access_request_create_view(request: AuthenticatedRequest, learner_pk: int) -> HttpResponse:
    try:
        learner = learner_for_staff(pk=learner_pk)
    except Learner.DoesNotExist as missing:
        raise Http404 from missing
    access_request = access_request_create(learner=learner, actor=request.user)
    messages.success(request, f"Preparing everything held about {learner}.")
    return redirect("access_requests:detail", pk=access_request.pk)


@permission_required(EXPORT_PERMISSION)
def access_request_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The request's status; htmx polls the status card while the ZIP is prepared."""
    access_request = _access_request(pk)
    context = {
        "access_request": access_request,
        "pending": access_request.status == AccessRequestStatus.PENDING,
    }
    if request.htmx:
        return render(request, "privacy/access/_status.html", context)
    return render(request, "privacy/access/detail.html", context)


@permission_required(EXPORT_PERMISSION)
def access_request_download_view(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    access_request = _access_request(pk)
    file = access_request_download(access_request=access_request, actor=request.user)
    return stored_file_response(
        file=file,
        filename=f"access-request-{access_request.pk}.zip",
        content_type="application/zip",
    )
