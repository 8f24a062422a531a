"""Vetting's pages: the records across learners, one learner's standing and records, one record
with its evidence and decisions, the vetting types and what each programme requires (people
with placements.manage_vetting; anyone else gets the audited 404), and a learner's own
read-only view in the portal. Every write goes through placements.services.vetting."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from academics.models import Programme
from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from accounts.refusals import refusal_show
from enrolments.scanning import upload_scan_status
from enrolments.uploads import (
    StorageFailed,
    UploadGuard,
    checked_upload_store,
    max_size_bytes,
    stored_file_response,
)
from learners.models import Learner
from learners.selectors import learner_of_user
from placements.forms.vetting import (
    EvidenceUploadForm,
    ProgrammeVettingForm,
    VettingClearForm,
    VettingOpenForm,
    VettingReasonForm,
    VettingRecordFilterForm,
    VettingStartForm,
    VettingTypeForm,
)
from placements.models import VettingEvidence, VettingRecord, VettingStatus, VettingType
from placements.selectors.vetting import (
    learner_programmes,
    learner_records,
    learner_vetting_standing,
    programmes_with_requirements,
    vetting_record_for_staff,
    vetting_record_list,
    vetting_types_overview,
)
from placements.services.vetting import (
    MANAGE_VETTING,
    clearance_expiry_default,
    evidence_document_type,
    evidence_is_reviewable,
    programme_vetting_requirements_set,
    vetting_evidence_add,
    vetting_record_clear,
    vetting_record_fail,
    vetting_record_open,
    vetting_record_start,
    vetting_record_withdraw,
    vetting_type_active_set,
    vetting_type_create,
    vetting_type_update,
)


def _record(pk: int) -> VettingRecord:
    try:
        return vetting_record_for_staff(pk=pk)
    except VettingRecord.DoesNotExist as missing:
        raise Http404 from missing


@permission_required(MANAGE_VETTING)
def vetting_list(request: AuthenticatedRequest) -> HttpResponse:
    filters = VettingRecordFilterForm(request.GET or None)
    records = vetting_record_list(**filters.selector_filters())
    return render(
        request,
        "placements/vetting/list.html",
        {"filters": filters, "page": list_page(request, records)},
    )


@permission_required(MANAGE_VETTING)
@never_cache
def learner_vetting(request: AuthenticatedRequest, learner_pk: int) -> HttpResponse:
    """A learner's standing against each programme's requirements, their records, and opening a
    new record (POST)."""
    learner = get_object_or_404(Learner, pk=learner_pk)
    form = VettingOpenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            record = vetting_record_open(
                actor=request.user,
                learner=learner,
                vetting_type=form.cleaned_data["vetting_type"],
                reference=form.cleaned_data["reference"],
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"A {record.vetting_type.name.lower()} check is opened.")
            return redirect(record)
    records = learner_records(learner)
    return render(
        request,
        "placements/vetting/learner.html",
        {
            "learner": learner,
            "records": records,
            "programmes": learner_vetting_standing(learner, records, learner_programmes(learner)),
            "form": form,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _detail_page(
    request: AuthenticatedRequest,
    record: VettingRecord,
    *,
    upload_form: EvidenceUploadForm | None = None,
    upload_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    evidence = list(record.evidence.all())
    return render(
        request,
        "placements/vetting/detail.html",
        {
            "record": record,
            "evidence": [(item, evidence_is_reviewable(item)) for item in evidence],
            "reviewable": any(evidence_is_reviewable(item) for item in evidence),
            "is_open": record.status in (VettingStatus.PENDING, VettingStatus.IN_PROGRESS),
            "start_form": VettingStartForm(),
            "upload_form": upload_form or EvidenceUploadForm(),
            "upload_errors": upload_errors or [],
        },
        status=status,
    )


@permission_required(MANAGE_VETTING)
def vetting_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _record(pk))


@permission_required(MANAGE_VETTING)
@require_POST
def vetting_start(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    record = _record(pk)
    form = VettingStartForm(request.POST)
    reference = form.cleaned_data["reference"] if form.is_valid() else ""
    try:
        vetting_record_start(actor=request.user, record=record, reference=reference)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The check is marked as in progress.")
    return redirect(record)


def _decision_page(
    request: AuthenticatedRequest, record: VettingRecord, form: Form, **context: Any
) -> HttpResponse:
    return render(
        request,
        "placements/vetting/decision.html",
        {"record": record, "form": form, **context},
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_VETTING)
@never_cache
def vetting_clear(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Clear the check, after a confirmation: the expiry date (offered from the type's usual
    validity) and notes."""
    record = _record(pk)
    vetting_type = record.vetting_type
    form = VettingClearForm(
        request.POST if request.method == "POST" else None,
        vetting_type=vetting_type,
        initial={
            "expires_on": clearance_expiry_default(vetting_type, timezone.localdate()),
            "reference": record.reference,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            vetting_record_clear(
                actor=request.user,
                record=record,
                expires_on=form.cleaned_data.get("expires_on"),
                reason=form.cleaned_data["reason"],
                reference=form.cleaned_data["reference"],
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"{record.learner.full_name}'s {vetting_type} is cleared.")
            return redirect(record)
    reviewable = any(evidence_is_reviewable(item) for item in record.evidence.all())
    return _decision_page(
        request,
        record,
        form,
        decision="clear",
        heading=f"Clear {record.learner.full_name}'s {vetting_type.name.lower()} check",
        intro="The learner counts as cleared of this type"
        + (" until the expiry date." if vetting_type.expires else ".")
        + " The reviewer and the time are recorded with your notes.",
        submit="Clear the check",
        blocked=""
        if reviewable
        else "Upload the evidence first: a clearance is given on "
        "evidence that can be reviewed (scanned clean, when a virus scanner is in use).",
    )


@permission_required(MANAGE_VETTING)
@never_cache
def vetting_fail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    record = _record(pk)
    form = VettingReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            vetting_record_fail(
                actor=request.user, record=record, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, "The check is recorded as failed.")
            return redirect(record)
    return _decision_page(
        request,
        record,
        form,
        decision="fail",
        heading=f"Fail {record.learner.full_name}'s {record.vetting_type.name.lower()} check",
        intro="The learner is not cleared of this type until a new check is opened and cleared.",
        submit="Fail the check",
    )


@permission_required(MANAGE_VETTING)
@never_cache
def vetting_withdraw(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    record = _record(pk)
    form = VettingReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            vetting_record_withdraw(
                actor=request.user, record=record, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, "The clearance is withdrawn.")
            return redirect(record)
    return _decision_page(
        request,
        record,
        form,
        decision="withdraw",
        heading=f"Withdraw {record.learner.full_name}'s {record.vetting_type.name.lower()} check",
        intro="The clearance expires now. Placements that need it can no longer be confirmed.",
        submit="Withdraw the clearance",
    )


@csrf_exempt
@permission_required(MANAGE_VETTING)
def vetting_evidence_upload(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Upload one evidence file. As for students' documents, the size limit is enforced while
    the body streams in and names are recorded as sent, which needs our upload handler
    installed before anything reads the body; CSRF is checked after that."""
    record = _record(pk)
    guard = UploadGuard.install(
        request, max_size_bytes(evidence_document_type(record.vetting_type))
    )
    return _evidence_upload(request, record, guard)


@csrf_protect
def _evidence_upload(
    request: AuthenticatedRequest, record: VettingRecord, guard: UploadGuard
) -> HttpResponse:
    if request.method != "POST":
        return redirect(record)
    try:
        evidence = checked_upload_store(
            form=EvidenceUploadForm(request.POST, request.FILES),
            guard=guard,
            document_type=evidence_document_type(record.vetting_type),
            store=lambda checked: vetting_evidence_add(
                actor=request.user, record=record, checked=checked, scan_status=upload_scan_status()
            ),
            what=f"vetting evidence of record {record.pk}",
        )
    except ValidationError as error:
        status = 503 if isinstance(error, StorageFailed) else 400
        return _detail_page(
            request, _record(record.pk), upload_errors=error.messages, status=status
        )
    messages.success(request, f"{evidence.original_name} is uploaded.")
    return redirect(record)


@permission_required(MANAGE_VETTING)
def vetting_evidence_file(
    request: AuthenticatedRequest, pk: int, evidence_pk: int
) -> HttpResponseBase:
    """An evidence file, streamed or through a short-lived signed URL, never a public one; a
    quarantined file is gone, so it is not found."""
    evidence = get_object_or_404(VettingEvidence, record_id=pk, pk=evidence_pk)
    if not evidence_is_reviewable(evidence):
        raise Http404("This file is not available.")
    return stored_file_response(
        file=evidence.file,
        filename=evidence.original_name,
        content_type=evidence.content_type,
        as_attachment=True,
    )


@permission_required(MANAGE_VETTING)
@never_cache
def vetting_types(request: AuthenticatedRequest) -> HttpResponse:
    """The vetting types with what uses them, adding one (POST), and each programme's
    requirements."""
    form = VettingTypeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            vetting_type = vetting_type_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"{vetting_type.name} is added.")
            return redirect("placements:vetting_types")
    return render(
        request,
        "placements/vetting/types.html",
        {
            "types": vetting_types_overview(),
            "form": form,
            "page": list_page(request, programmes_with_requirements()),
        },
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_VETTING)
@never_cache
def vetting_type_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    vetting_type = get_object_or_404(VettingType, pk=pk)
    form = VettingTypeForm(
        request.POST if request.method == "POST" else None,
        editing=True,
        initial={
            "name": vetting_type.name,
            "description": vetting_type.description,
            "expires": vetting_type.expires,
            "validity_days": vetting_type.validity_days,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            vetting_type_update(actor=request.user, vetting_type=vetting_type, **form.cleaned_data)
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"{vetting_type.name} is saved.")
            return redirect("placements:vetting_types")
    return render(
        request,
        "placements/vetting/type_edit.html",
        {"vetting_type": vetting_type, "form": form},
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_VETTING)
@require_POST
def vetting_type_active(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Deactivate a type, or bring it back (a reversible change: no confirmation)."""
    vetting_type = get_object_or_404(VettingType, pk=pk)
    is_active = request.POST.get("is_active") == "1"
    try:
        vetting_type_active_set(actor=request.user, vetting_type=vetting_type, is_active=is_active)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"{vetting_type.name} is {'in use again' if is_active else 'no longer in use'}.",
        )
    return redirect("placements:vetting_types")


@permission_required(MANAGE_VETTING)
@never_cache
def programme_vetting(request: AuthenticatedRequest, programme_pk: int) -> HttpResponse:
    programme = get_object_or_404(Programme, pk=programme_pk)
    required = list(programme.vetting_requirements.values_list("vetting_type_id", flat=True))
    form = ProgrammeVettingForm(
        request.POST if request.method == "POST" else None, required=required
    )
    if request.method == "POST" and form.is_valid():
        try:
            programme_vetting_requirements_set(
                actor=request.user,
                programme=programme,
                vetting_types=list(form.cleaned_data["vetting_types"]),
            )
        except ValidationError as error:
            refusal_show(form, error)
        else:
            messages.success(request, f"What {programme.name} requires is saved.")
            return redirect("placements:vetting_types")
    return render(
        request,
        "placements/vetting/programme.html",
        {"programme": programme, "form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
def my_vetting(request: AuthenticatedRequest) -> HttpResponse:
    """A learner's own vetting, read-only: what their programmes require and their records."""
    learner = learner_of_user(request.user)
    if learner is None:
        raise Http404("There is no learner record for this account.")
    records = learner_records(learner)
    return render(
        request,
        "placements/vetting/my_vetting.html",
        {
            "records": records,
            "programmes": learner_vetting_standing(learner, records, learner_programmes(learner)),
        },
    )
