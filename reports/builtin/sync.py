"""Sync status: the training gateway's jobs by the kind of record they carry and where they
stand (integrations.models.SyncJob), in one GROUP BY query."""

from collections.abc import Iterable, Mapping
from typing import Any, cast

from django.db.models import Count, Min, Q

from integrations.models import SyncJob, SyncJobStatus, SyncJobType
from reports.builtin.common import date_parameter, label_of
from reports.registry import Column, Report, Rows, register

# Jobs that still have to reach the gateway.
_WAITING = (SyncJobStatus.QUEUED, SyncJobStatus.RUNNING)


def sync_status_rows(params: Mapping[str, Any]) -> Rows:
    jobs = SyncJob.objects.all()
    if params.get("created_from") is not None:
        jobs = jobs.filter(created_at__date__gte=params["created_from"])
    if params.get("created_to") is not None:
        jobs = jobs.filter(created_at__date__lte=params["created_to"])
    per_status = {status.value: Count("pk", filter=Q(status=status)) for status in SyncJobStatus}
    grouped = (
        jobs.values("job_type")
        .annotate(
            total=Count("pk"),
            oldest_waiting=Min("created_at", filter=Q(status__in=_WAITING)),
            **per_status,
        )
        .order_by("job_type")
    )
    for row in cast(Iterable[dict[str, Any]], grouped):
        yield {
            "record_type": label_of(SyncJobType, row["job_type"]),
            **{status.value: row[status.value] for status in SyncJobStatus},
            "total": row["total"],
            "oldest_waiting": row["oldest_waiting"],
        }


SYNC_STATUS = register(
    Report(
        key="sync_status",
        title="Sync status",
        description="The training gateway's jobs per kind of record (course runs, enrolments, "
        "attendance, assessments) by status, and since when the oldest still waiting has "
        "waited.",
        permission="integrations.manage_sync",
        area="Integrations",
        parameters=(
            date_parameter("created_from", "Queued from", "Jobs queued on or after this day."),
            date_parameter("created_to", "Queued until", "Jobs queued on or before this day."),
        ),
        columns=(
            Column("record_type", "Record"),
            *(Column(status.value, str(status.label), "int") for status in SyncJobStatus),
            Column("total", "Total", "int"),
            Column("oldest_waiting", "Oldest waiting since", "datetime"),
        ),
        rows=sync_status_rows,
    )
)
