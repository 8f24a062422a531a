import json
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.http import AuthenticatedRequest
from accounts.lists import LOG_PAGE_SIZE, list_page
from accounts.permissions import permission_required
from integrations.forms import ConnectorConfigForm, SyncJobFilterForm
from integrations.models import ConnectorConfig, SyncJob, SyncJobStatus
from integrations.redrive import sync_jobs_redrive
from integrations.selectors import (
    sync_job_detail,
    sync_job_list,
    sync_job_status_counts,
    sync_throughput,
)
from integrations.services import (
    SYNC_MANAGER_PERMISSIONS,
    connector_class,
    connector_config_save,
    sync_job_cancel,
    sync_job_retry,
)


def sync_pages(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The sync pages are for people with every one of SYNC_MANAGER_PERMISSIONS (others get
    the audited 404); permission_required alone asks for any one of its codes."""
    for permission in SYNC_MANAGER_PERMISSIONS:
        view = permission_required(permission)(view)
    return view


def _labelled(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    return [(status, label, counts[status]) for status, label in SyncJobStatus.choices]


@sync_pages
def job_list(request: AuthenticatedRequest) -> HttpResponse:
    filters = SyncJobFilterForm(request.GET or None)
    jobs = sync_job_list(**filters.selector_filters())
    page = list_page(request, jobs, per_page=LOG_PAGE_SIZE)
    # Filters that do not parse show every job, with their errors: a re-drive offered then
    # would cover nothing (jobs_redrive refuses them), so none is.
    offer_redrive = not filters.is_bound or filters.is_valid()
    return render(
        request,
        "integrations/job_list.html",
        {
            "page": page,
            "filters": filters,
            "counts": _labelled(sync_job_status_counts()),
            "dead_letters": (
                jobs.filter(status=SyncJobStatus.DEAD_LETTER).count() if offer_redrive else 0
            ),
            "redrive_url": _with_filters(reverse("integrations:jobs_redrive"), page.query),
            "throughput": sync_throughput(),
            "configured": ConnectorConfig.objects.filter(pk=1, is_active=True).exists(),
        },
    )


def _with_filters(url: str, query: str) -> str:
    return f"{url}?{query}" if query else url


@sync_pages
def jobs_redrive(request: AuthenticatedRequest) -> HttpResponse:
    """Send the dead letters of the jobs list (as filtered) again, after a confirmation. Filters
    that do not parse cover nothing (never every job)."""
    filters = SyncJobFilterForm(request.POST if request.method == "POST" else request.GET)
    valid = filters.is_valid()
    jobs = sync_job_list(**filters.selector_filters()) if valid else SyncJob.objects.none()
    back = _with_filters(
        reverse("integrations:job_list"),
        urlencode([(name, value) for name, _, value, _ in filters.chosen()]),
    )
    if request.method == "POST" and valid:
        queued = sync_jobs_redrive(actor=request.user, jobs=jobs)
        if queued:
            messages.success(
                request,
                f"{queued} dead-letter job{'s are' if queued != 1 else ' is'} queued again, "
                "each with a fresh set of attempts.",
            )
        else:
            messages.info(request, "No dead-letter job matched: nothing was queued.")
        return redirect(back)
    return render(
        request,
        "integrations/jobs_redrive.html",
        {
            "filters": filters,
            "dead_letters": jobs.filter(status=SyncJobStatus.DEAD_LETTER).count(),
            "back": back,
        },
    )


def _json(value: dict) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) if value else ""


def _job(job_id: int) -> SyncJob:
    try:
        return sync_job_detail(job_id=job_id)
    except SyncJob.DoesNotExist as error:
        raise Http404 from error


@sync_pages
def job_detail(request: AuthenticatedRequest, job_id: int) -> HttpResponse:
    job = _job(job_id)
    config = ConnectorConfig.objects.filter(pk=1).first()
    connector = (
        connector_class(config.connector)(base_url=config.base_url, credentials={})
        if config
        else None
    )
    redact = connector.redact if connector else None
    return render(
        request,
        "integrations/job_detail.html",
        {
            "job": job,
            "attempts": job.attempt_log.all(),
            "payload": _json(redact(job.payload) if redact else {}),
            "response": _json(redact(job.response) if redact else {}),
        },
    )


def _act(request: AuthenticatedRequest, job_id: int, service, done: str) -> HttpResponse:
    job = _job(job_id)
    try:
        service(job=job, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("integrations:job_detail", job_id=job.pk)


@require_POST
@sync_pages
def job_retry(request: AuthenticatedRequest, job_id: int) -> HttpResponse:
    return _act(request, job_id, sync_job_retry, "The job is queued again.")


@require_POST
@sync_pages
def job_cancel(request: AuthenticatedRequest, job_id: int) -> HttpResponse:
    return _act(request, job_id, sync_job_cancel, "The job is cancelled: it will not be sent.")


@permission_required("integrations.configure_gateway")
def connector_settings(request: AuthenticatedRequest) -> HttpResponse:
    config = ConnectorConfig.objects.filter(pk=1).first()
    initial = (
        {
            "connector": config.connector,
            "base_url": config.base_url,
            "max_attempts": config.max_attempts,
            "timeout_seconds": config.timeout_seconds,
            "is_active": config.is_active,
        }
        if config
        else None
    )
    form = ConnectorConfigForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            connector_config_save(
                actor=request.user,
                connector=data["connector"],
                base_url=data["base_url"],
                credentials={name: data[name] for name in ("api_key", "encryption_key", "iv")},
                is_active=data["is_active"],
                max_attempts=data["max_attempts"],
                timeout_seconds=data["timeout_seconds"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The connector is saved.")
            return redirect("integrations:job_list")
    return render(request, "integrations/connector_settings.html", {"form": form, "config": config})
