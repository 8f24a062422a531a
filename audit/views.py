import csv
from collections.abc import Iterator

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.http import AuthenticatedRequest
from accounts.lists import LOG_PAGE_SIZE, list_page
from accounts.permissions import permission_required
from audit.forms import AuditFilterForm
from audit.selectors import audit_event_list

CSV_COLUMNS = [
    "id",
    "created_at",
    "actor_email",
    "action",
    "entity_type",
    "entity_id",
    "old_values",
    "new_values",
    "ip_address",
    "user_agent",
    "correlation_id",
    "hash",
]


@permission_required("audit.view_audit_trail")
def audit_list(request: AuthenticatedRequest) -> HttpResponse:
    filters = AuditFilterForm(request.GET or None)
    events = audit_event_list(**filters.selector_filters())
    return render(
        request,
        "audit/audit_list.html",
        {"page": list_page(request, events, per_page=LOG_PAGE_SIZE), "filters": filters},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@permission_required("audit.view_audit_trail")
def audit_export_csv(request: AuthenticatedRequest) -> StreamingHttpResponse:
    """The filtered trail as CSV, streamed so that a long trail never sits in memory."""
    events = audit_event_list(**AuditFilterForm(request.GET or None).selector_filters())
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow([getattr(event, column) for column in CSV_COLUMNS])

    filename = f"audit-{timezone.localdate():%Y%m%d}.csv"
    return StreamingHttpResponse(
        rows(),
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
