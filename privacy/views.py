"""Data protection pages for the super admin: the retention settings, and the jobs with their
record, a dry run of each and a real run after confirming what the dry run found."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from privacy.forms import DataProtectionSettingsForm, JobStartForm
from privacy.models import JobKind
from privacy.selectors import (
    data_protection_settings_current,
    job_run_latest_dry_run,
    job_runs_list,
)
from privacy.services.jobs import JOBS, job_run
from privacy.services.settings import MANAGE_DATA_PROTECTION, data_protection_settings_update


@permission_required(MANAGE_DATA_PROTECTION)
@never_cache
def settings(request: AuthenticatedRequest) -> HttpResponse:
    current = data_protection_settings_current()
    form = DataProtectionSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            data_protection_settings_update(actor=request.user, **form.service_arguments())
        except ValidationError as error:
            for name, errors in getattr(error, "error_dict", {None: error.error_list}).items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, "The retention settings are saved.")
            return redirect("privacy:settings")
    return render(
        request,
        "privacy/settings.html",
        {"form": form, "saved": bool(current.updated_at)},
        status=400 if form.is_bound and form.errors else 200,
    )


@permission_required(MANAGE_DATA_PROTECTION)
@never_cache
def jobs(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "privacy/jobs.html",
        {
            "jobs": [(kind, JobKind(kind).label) for kind in JOBS],
            "page": list_page(request, job_runs_list()),
        },
    )


@permission_required(MANAGE_DATA_PROTECTION)
@never_cache
def job_run_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(job_runs_list(), pk=pk)
    return render(
        request,
        "privacy/job_run.html",
        {"run": run, "page": list_page(request, run.items), "may_run": run.kind in JOBS},
    )


@permission_required(MANAGE_DATA_PROTECTION)
@never_cache
def job_confirm(request: AuthenticatedRequest, kind: str) -> HttpResponse:
    """Before a real run: what the latest dry run found, and the button that runs the job."""
    if kind not in JOBS:
        raise Http404
    dry_run = job_run_latest_dry_run(kind=kind)
    return render(
        request,
        "privacy/job_confirm.html",
        {
            "kind": kind,
            "label": JobKind(kind).label,
            "dry_run": dry_run,
            "page": list_page(request, dry_run.items if dry_run else []),
        },
    )


@require_POST
@permission_required(MANAGE_DATA_PROTECTION)
def job_start(request: AuthenticatedRequest) -> HttpResponse:
    form = JobStartForm(request.POST)
    if not form.is_valid():
        raise Http404
    run = job_run(
        actor=request.user, kind=form.cleaned_data["kind"], dry_run=form.cleaned_data["dry_run"]
    )
    if run.error_message:
        messages.error(request, f"{run} failed and changed nothing: {run.error_message}")
    elif run.dry_run:
        messages.info(request, f"Dry run: {run.item_count} item(s) would change. Nothing changed.")
    else:
        messages.success(request, f"Done: {run.item_count} item(s) changed.")
    return redirect("privacy:job_run", run.pk)
