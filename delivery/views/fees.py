"""Finance's pages: programme fees, the runs with their learners' fees and subsidies, one
learner's fee, and the programme's fee applied to a whole run (after a confirmation)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache

from academics.models import Programme
from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from delivery.forms.fees import FeeForm
from delivery.models import CourseEnrollmentStatus, CourseRun
from delivery.selectors.fees import (
    fee_enrolments,
    fee_programmes,
    fee_run,
    fee_runs,
)
from delivery.selectors.gateway import enrolments_with_standing
from delivery.services.fees import (
    MANAGE_FEES,
    course_enrollment_fee_set,
    course_run_programme_fee_apply,
    programme_fee_set,
)
from integrations.selectors import sync_reporting


def _run(request: AuthenticatedRequest, pk: int) -> CourseRun:
    try:
        return fee_run(user=request.user, pk=pk)
    except CourseRun.DoesNotExist as missing:
        raise Http404 from missing


@permission_required(MANAGE_FEES)
def fees_home(request: AuthenticatedRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    return render(
        request,
        "delivery/fees_home.html",
        {
            "programmes": fee_programmes(),
            "page": list_page(request, fee_runs(user=request.user, search=q)),
            "q": q,
        },
    )


def _fee_form_page(
    request: AuthenticatedRequest, form: FeeForm, *, heading: str, intro: str, back: str
) -> HttpResponse:
    return render(
        request,
        "delivery/fees_form.html",
        {"form": form, "heading": heading, "intro": intro, "back": back},
        status=400 if form.is_bound else 200,
    )


def _refusal_show(form: FeeForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


@permission_required(MANAGE_FEES)
@never_cache
def programme_fee_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    programme = get_object_or_404(Programme, pk=pk)
    form = FeeForm.for_record(request.POST if request.method == "POST" else None, programme)
    if request.method == "POST" and form.is_valid():
        try:
            programme_fee_set(actor=request.user, programme=programme, fee=form.fee())
        except ValidationError as error:
            _refusal_show(form, error)
        else:
            messages.success(request, f"The fee of {programme} is saved.")
            return redirect("delivery:fees")
    return _fee_form_page(
        request,
        form,
        heading=f"Fee of {programme}",
        intro="Learners enrolled in the programme's course runs from now on start with this fee "
        "and subsidy. Learners already in a run keep theirs: apply the fee to a run from its "
        "fees page.",
        back=reverse("delivery:fees"),
    )


@permission_required(MANAGE_FEES)
def run_fees(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    page = list_page(request, fee_enrolments(run))
    reporting = sync_reporting()
    if reporting:
        page.object_list = enrolments_with_standing(page.object_list)
    return render(
        request,
        "delivery/fees_run.html",
        {"run": run, "programme": run.course.programme, "page": page, "reporting": reporting},
    )


@permission_required(MANAGE_FEES)
@never_cache
def enrolment_fee_edit(request: AuthenticatedRequest, pk: int, enrolment_pk: int) -> HttpResponse:
    run = _run(request, pk)
    enrolment = (
        fee_enrolments(run)
        .exclude(status=CourseEnrollmentStatus.DROPPED)
        .filter(pk=enrolment_pk)
        .first()
    )
    if enrolment is None:
        raise Http404
    enrolment.course_run = run
    form = FeeForm.for_record(request.POST if request.method == "POST" else None, enrolment)
    who = enrolment.enrollment.learner.full_name
    if request.method == "POST" and form.is_valid():
        try:
            course_enrollment_fee_set(actor=request.user, enrolment=enrolment, fee=form.fee())
        except ValidationError as error:
            _refusal_show(form, error)
        else:
            messages.success(request, f"{who}'s fee in {run.course_ref} is saved.")
            return redirect("delivery:fee_run", pk=run.pk)
    return _fee_form_page(
        request,
        form,
        heading=f"{who}'s fee in {run.course_ref}",
        intro="The training gateway is sent the changed fee with the learner's enrolment.",
        back=reverse("delivery:fee_run", args=[run.pk]),
    )


@permission_required(MANAGE_FEES)
@never_cache
def run_programme_fee_apply(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Give every learner in the run the programme's fee, after a confirmation."""
    run = _run(request, pk)
    if request.method == "POST":
        try:
            changed = course_run_programme_fee_apply(actor=request.user, run=run)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if changed:
                messages.success(
                    request,
                    f"The programme's fee is applied to {changed} learner"
                    f"{'s' if changed != 1 else ''}; the gateway is sent each change.",
                )
            else:
                messages.info(request, "Every learner in the run already has the programme's fee.")
        return redirect("delivery:fee_run", pk=run.pk)
    return render(
        request,
        "delivery/fees_apply.html",
        {"run": run, "programme": run.course.programme},
    )
