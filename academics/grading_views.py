"""The grading scale pages (who manages the catalogue): the scales with their bands, a scale's
form, making one the default, deleting one, and which scale each programme is graded on."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from academics.grading import (
    BUILT_IN,
    MANAGE,
    Band,
    grading_scale_create,
    grading_scale_delete,
    grading_scale_list,
    grading_scale_make_default,
    grading_scale_update,
    programme_grading_scale_set,
    programmes_with_scales,
)
from academics.grading_forms import BandFormSet, GradingScaleForm, ProgrammeScaleForm, bands_initial
from academics.models import GradingScale, Programme
from accounts.http import AuthenticatedRequest
from accounts.permissions import permission_required


@permission_required(MANAGE)
def grading_scales(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "academics/grading/scale_list.html",
        {
            "scales": grading_scale_list(),
            "built_in": BUILT_IN,
            "programmes": programmes_with_scales(),
        },
    )


def _scale_form(request: AuthenticatedRequest, scale: GradingScale | None) -> HttpResponse:
    if request.method == "POST":
        form = GradingScaleForm(request.POST)
        bands = BandFormSet(request.POST, prefix="bands")
        if form.is_valid() and bands.is_valid():
            chosen: list[Band] = [b.band for b in bands.forms if b.band is not None]
            try:
                if scale is None:
                    scale = grading_scale_create(
                        actor=request.user, bands=chosen, **form.cleaned_data
                    )
                    messages.success(request, f"{scale.name} created.")
                else:
                    grading_scale_update(
                        scale=scale, actor=request.user, bands=chosen, **form.cleaned_data
                    )
                    messages.success(request, f"{scale.name} saved.")
                return redirect("academics:grading_scales")
            except ValidationError as refused:
                if hasattr(refused, "error_dict"):
                    form.add_error(None, refused)
                else:
                    form.add_error(None, refused.messages)
    else:
        form = GradingScaleForm(
            initial={"name": scale.name, "pass_mark": scale.pass_mark} if scale else None
        )
        bands = BandFormSet(prefix="bands", initial=bands_initial(scale, BUILT_IN.bands))
    return render(
        request,
        "academics/grading/scale_form.html",
        {"form": form, "bands": bands, "scale": scale},
        status=400 if request.method == "POST" else 200,
    )


@permission_required(MANAGE)
def grading_scale_new(request: AuthenticatedRequest) -> HttpResponse:
    return _scale_form(request, None)


@permission_required(MANAGE)
def grading_scale_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _scale_form(request, get_object_or_404(GradingScale, pk=pk))


@permission_required(MANAGE)
@require_POST
def grading_scale_default(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        scale = grading_scale_make_default(
            scale=get_object_or_404(GradingScale, pk=pk), actor=request.user
        )
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(request, f"Programmes without a scale of their own are graded on {scale}.")
    return redirect("academics:grading_scales")


@permission_required(MANAGE)
@require_POST
def grading_scale_remove(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    scale = get_object_or_404(GradingScale, pk=pk)
    try:
        grading_scale_delete(scale=scale, actor=request.user)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(request, f"{scale.name} deleted.")
    return redirect("academics:grading_scales")


@permission_required(MANAGE)
@require_POST
def programme_grading_scale(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    programme = get_object_or_404(Programme, pk=pk)
    form = ProgrammeScaleForm(request.POST)
    if form.is_valid():
        scale = form.cleaned_data["grading_scale"]
        try:
            programme_grading_scale_set(programme=programme, actor=request.user, scale=scale)
        except ValidationError as refused:
            messages.error(request, " ".join(refused.messages))
        else:
            messages.success(
                request, f"{programme.code} is graded on {scale or 'the default scale'}."
            )
    else:
        messages.error(request, "Choose one of the scales.")
    return redirect("academics:grading_scales")
