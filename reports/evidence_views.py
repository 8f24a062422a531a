"""Pages of the cohort evidence pack: the cohort's packs and the button that builds one, a
pack's progress (polled with htmx) and its download, for admins who reach the cohort; and the
public page that checks a manifest, and a file against it."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from enrolments.uploads import stored_file_response
from reports.evidence import selectors
from reports.evidence.manifest import manifest_check
from reports.evidence.services import (
    evidence_pack_download,
    evidence_pack_request,
    may_take_evidence,
)
from reports.models import EvidencePack, ExecutionStatus
from signing.selectors import certificates_for_verify
from tenants.ratelimits import public_upload

# As signing's verify page: checks per address, and no upload larger than any file we seal.
VERIFY_RATE = "30/h"
MAX_VERIFY_BYTES = 25 * 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024  # the form's other fields and the parts' headers
TOO_LARGE = "The files are larger than anything an evidence pack holds; check them one by one."


class EvidenceVerifyForm(forms.Form):
    manifest = forms.FileField(
        label="Manifest (manifest.pdf from the pack)",
        help_text="The sealed manifest at the top of the evidence pack's ZIP.",
    )
    document = forms.FileField(
        label="A file from the pack (optional)",
        required=False,
        help_text="Any file from the pack: we say whether the manifest lists it unchanged.",
    )


def _cohort_or_404(request: AuthenticatedRequest, pk: int):
    cohort = selectors.evidence_cohort_for(user=request.user, pk=pk)
    if cohort is None:
        raise Http404
    return cohort


def _pack_or_404(request: AuthenticatedRequest, pk: int) -> EvidencePack:
    pack = selectors.evidence_pack_for(user=request.user, pk=pk)
    if pack is None:
        raise Http404
    return pack


@permission_required("cohorts.manage_cohorts")
def cohort_packs(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = _cohort_or_404(request, pk)
    return render(
        request,
        "reports/evidence/cohort_packs.html",
        {
            "cohort": cohort,
            "page": list_page(request, selectors.evidence_packs_for_cohort(cohort)),
            "may_take": may_take_evidence(request.user),
        },
    )


@permission_required("cohorts.manage_cohorts")
@require_POST
def pack_build(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    cohort = _cohort_or_404(request, pk)
    try:
        pack = evidence_pack_request(cohort=cohort, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("evidence:cohort", pk=cohort.pk)
    messages.success(request, "The evidence pack is being built; this page shows its progress.")
    return redirect("evidence:pack", pk=pack.pk)


@permission_required("cohorts.manage_cohorts")
def pack_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The pack's status; while it is built, its htmx partial polls this page."""
    pack = _pack_or_404(request, pk)
    running = pack.status in (ExecutionStatus.PENDING, ExecutionStatus.PROCESSING)
    if request.htmx:
        if not running:
            return HttpResponseClientRefresh()
        return render(request, "reports/evidence/_pack_status.html", {"pack": pack})
    return render(
        request,
        "reports/evidence/pack_detail.html",
        {"pack": pack, "running": running, "may_take": may_take_evidence(request.user)},
    )


@permission_required("cohorts.manage_cohorts")
def pack_download(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    pack = _pack_or_404(request, pk)
    evidence_pack_download(pack=pack, actor=request.user)
    name = slugify(pack.cohort.name) or "cohort"
    return stored_file_response(
        file=pack.file,
        filename=f"{name}-evidence-pack-{pack.pk}.zip",
        content_type="application/zip",
    )


def _verify_refused(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(
        request,
        "reports/evidence/verify.html",
        {"form": EvidenceVerifyForm(), "result": {"ok": False, "reason": reason}},
        status=status,
    )


@public_upload(
    group="evidence.verify",
    rate=VERIFY_RATE,
    max_bytes=2 * MAX_VERIFY_BYTES + MULTIPART_OVERHEAD,
    too_large=TOO_LARGE,
    refused=_verify_refused,
)
def verify(request: HttpRequest) -> HttpResponse:
    """Anyone may check a manifest here: rate and size are limited before the body is read."""
    form = EvidenceVerifyForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        manifest = form.cleaned_data["manifest"]
        document = form.cleaned_data["document"]
        if manifest.size > MAX_VERIFY_BYTES or (document and document.size > MAX_VERIFY_BYTES):
            form.add_error(None, TOO_LARGE)
        else:
            result = manifest_check(
                manifest.read(),
                certificates=certificates_for_verify(),
                file_name=document.name if document else "",
                file_content=document.read() if document else None,
            )
    failed = result is not None and (not result.ok or result.file_listed is False)
    return render(
        request,
        "reports/evidence/verify.html",
        {"form": form, "result": result},
        status=422 if failed else 200,
    )
