"""Stipend pages: the rates, a learner's bank details, and the monthly runs (preparing,
recalculating, approving, the bank file, marking paid, cancelling). Finance (and admins) read
them, who holds finance.manage_finance changes them (admins see no buttons, and anyone else gets
the audited 404). Every write goes through finance.services.stipends or partners.services.bank."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from academics.currencies import money_text
from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_check, permission_required
from finance.access import MANAGE_FINANCE, VIEW_FINANCE
from finance.forms.stipends import (
    BankDetailsForm,
    CancelForm,
    LineFilterForm,
    MarkPaidForm,
    RateFilterForm,
    RunFilterForm,
    StipendRateForm,
    StipendRunForm,
)
from finance.models import StipendPayer, StipendRun, StipendRunStatus
from finance.selectors.stipends import (
    learner_bank,
    stipend_bank_changed_since_export,
    stipend_lines_unbanked,
    stipend_rate_list,
    stipend_run_for,
    stipend_run_lines,
    stipend_run_list,
    stipend_run_totals,
)
from finance.services.stipends import (
    stipend_bank_file_make,
    stipend_rate_add,
    stipend_run_approve,
    stipend_run_cancel,
    stipend_run_mark_paid,
    stipend_run_prepare,
    stipend_run_recalculate,
)
from learners.models import Learner
from partners.access import MANAGE_PARTNERS
from partners.services.bank import bank_change_request


def _run(pk: int) -> StipendRun:
    try:
        return stipend_run_for(pk=pk)
    except StipendRun.DoesNotExist as missing:
        raise Http404 from missing


def _form_refusal(form: forms.Form, error: ValidationError) -> None:
    """The service's refusal on the form: beside the field it names, above the form else."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- Rates -----------------------------------------------------------------------------------


@permission_required(VIEW_FINANCE)
def stipend_rates(request: AuthenticatedRequest) -> HttpResponse:
    filters = RateFilterForm(request.GET or None)
    return render(
        request,
        "finance/stipends/rates.html",
        {
            "filters": filters,
            "page": list_page(request, stipend_rate_list(**filters.selector_filters())),
            "may_manage": request.user.may(MANAGE_FINANCE),
        },
    )


@permission_required(MANAGE_FINANCE)
@never_cache
def stipend_rate_add_view(request: AuthenticatedRequest) -> HttpResponse:
    """Add a rate; `?programme=<pk>` or `?learner=<pk>` starts from that subject (to replace
    or end its rate)."""
    initial: dict[str, object] = {"starts_on": timezone.localdate().replace(day=1)}
    for subject in ("programme", "learner"):
        if request.GET.get(subject, "").isdigit():
            initial.update(subject=subject, **{subject: int(request.GET[subject])})
    form = StipendRateForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            rate = stipend_rate_add(actor=request.user, **form.service_arguments())
        except ValidationError as error:
            _form_refusal(form, error)
        else:
            messages.success(
                request,
                f"{rate.programme or rate.learner} gets "
                f"{money_text(rate.monthly_amount, rate.currency)} a month from "
                f"{rate.starts_on:%B %Y}.",
            )
            return redirect("finance:stipend_rates")
    return render(
        request,
        "finance/stipends/rate_form.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


# --- A learner's bank details ------------------------------------------------------------------


@sensitive_post_parameters("account_number", "branch_code", "holder")
@permission_required(VIEW_FINANCE)
@never_cache
def learner_bank_view(request: AuthenticatedRequest, learner_pk: int) -> HttpResponse:
    """A learner's bank details; new ones are asked for by who manages both finance and
    partners' bank details (partners.services.bank checks the latter)."""
    may_manage = request.user.may(MANAGE_FINANCE) and request.user.may(MANAGE_PARTNERS)
    if request.method == "POST":
        permission_check(
            actor=request.user,
            action="view:finance.views.stipends.learner_bank_change",
            permission=MANAGE_FINANCE,
            allowed=may_manage,
        )
    learner = Learner.objects.filter(pk=learner_pk).first()
    if learner is None:
        raise Http404
    form = BankDetailsForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            bank_change_request(actor=request.user, learner=learner, details=form.details())
        except ValidationError as error:
            _form_refusal(form, error)
        else:
            messages.success(
                request,
                f"{learner.full_name}'s new bank details wait for a second finance user to "
                "confirm them; until then stipends use the details in force.",
            )
            return redirect("finance:learner_bank", learner_pk=learner.pk)
    return render(
        request,
        "finance/stipends/learner_bank.html",
        {
            "learner": learner,
            "bank": learner_bank(learner),
            "form": form if may_manage else None,
            "may_manage": may_manage,
        },
        status=400 if form.is_bound else 200,
    )


# --- Runs ------------------------------------------------------------------------------------


@permission_required(VIEW_FINANCE)
def stipend_runs(request: AuthenticatedRequest) -> HttpResponse:
    filters = RunFilterForm(request.GET or None)
    return render(
        request,
        "finance/stipends/runs.html",
        {
            "filters": filters,
            "page": list_page(request, stipend_run_list(**filters.selector_filters())),
            "may_manage": request.user.may(MANAGE_FINANCE),
        },
    )


@permission_required(MANAGE_FINANCE)
@never_cache
def stipend_run_create(request: AuthenticatedRequest) -> HttpResponse:
    form = StipendRunForm(
        request.POST if request.method == "POST" else None,
        initial={"month": timezone.localdate().replace(day=1)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            run = stipend_run_prepare(actor=request.user, month=form.cleaned_data["month"])
        except ValidationError as error:
            _form_refusal(form, error)
        else:
            lines = run.lines.count()
            messages.success(
                request,
                f"The run for {run.month:%B %Y} is prepared: {lines} learner{pluralize(lines)}, "
                f"{money_text(run.total, run.currency)}. Another finance user approves it.",
            )
            return redirect(run)
    return render(
        request,
        "finance/stipends/run_form.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


@permission_required(VIEW_FINANCE)
def stipend_run(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    filters = LineFilterForm(request.GET or None)
    may_manage = request.user.may(MANAGE_FINANCE)
    return render(
        request,
        "finance/stipends/run.html",
        {
            "run": run,
            "filters": filters,
            "page": list_page(request, stipend_run_lines(run, **filters.selector_filters())),
            "totals": stipend_run_totals(run),
            "may_manage": may_manage,
            "prepared_by_you": run.prepared_by_id == request.user.pk,
            "bank_changed": stipend_bank_changed_since_export(run),
            "Status": StipendRunStatus,
            "INSTITUTION": StipendPayer.INSTITUTION,
        },
    )


@permission_required(MANAGE_FINANCE)
@require_POST
def stipend_run_recalculate_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    try:
        run = stipend_run_recalculate(actor=request.user, run=run)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            f"Recalculated: {money_text(run.total, run.currency)}. Another finance user "
            "approves it.",
        )
    return redirect(run)


@permission_required(MANAGE_FINANCE)
@never_cache
def stipend_run_approve_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    if request.method == "POST":
        try:
            stipend_run_approve(actor=request.user, run=run)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                f"The run for {run.month:%B %Y} is approved: download the bank file for the bank.",
            )
        return redirect(run)
    return render(
        request,
        "finance/stipends/approve.html",
        {
            "run": run,
            "totals": stipend_run_totals(run),
            "prepared_by_you": run.prepared_by_id == request.user.pk,
        },
    )


@permission_required(MANAGE_FINANCE)
@require_POST
def stipend_run_bank_file(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    try:
        bank_file = stipend_bank_file_make(actor=request.user, run=run)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(run)
    response = HttpResponse(bank_file.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{bank_file.filename}"'
    response["Cache-Control"] = "no-store"
    return response


@permission_required(MANAGE_FINANCE)
@never_cache
def stipend_run_mark_paid_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    unbanked = stipend_lines_unbanked(run).count()
    form = MarkPaidForm(
        request.POST if request.method == "POST" else None,
        initial={"paid_on": timezone.localdate()},
        unbanked=unbanked,
    )
    if request.method == "POST" and form.is_valid():
        try:
            stipend_run_mark_paid(actor=request.user, run=run, **form.service_arguments())
        except ValidationError as error:
            _form_refusal(form, error)
        else:
            left_out = form.cleaned_data.get("leave_out_unbanked") and unbanked
            messages.success(
                request,
                f"The run for {run.month:%B %Y} is paid: each payment is recorded."
                + (
                    f" {unbanked} learner{pluralize(unbanked)} without bank details "
                    f"{pluralize(unbanked, 'is,are')} not paid this month."
                    if left_out
                    else ""
                ),
            )
            return redirect(run)
    return render(
        request,
        "finance/stipends/mark_paid.html",
        {
            "run": run,
            "form": form,
            "totals": stipend_run_totals(run),
            "bank_changed": stipend_bank_changed_since_export(run),
            "unbanked": unbanked,
        },
        status=400 if form.is_bound else 200,
    )


@permission_required(MANAGE_FINANCE)
@never_cache
def stipend_run_cancel_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = _run(pk)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            stipend_run_cancel(actor=request.user, run=run, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            _form_refusal(form, error)
        else:
            messages.success(
                request,
                f"The run for {run.month:%B %Y} is cancelled: the month can be prepared again.",
            )
            return redirect(run)
    return render(
        request,
        "finance/stipends/cancel.html",
        {"run": run, "form": form},
        status=400 if form.is_bound else 200,
    )
