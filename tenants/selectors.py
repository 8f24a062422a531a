from django.db.models import Q, QuerySet
from django_tenants.utils import get_public_schema_name

from tenants.models import (
    Institution,
    InstitutionDirectoryEntry,
    ProvisioningRequest,
    ProvisioningRequestStatus,
)


def institution_list_for_operator(*, search: str = "", status: str = "") -> QuerySet[Institution]:
    institutions = Institution.objects.institutions().prefetch_related("domains")
    if search:
        institutions = institutions.filter(Q(name__icontains=search) | Q(code__icontains=search))
    if status:
        institutions = institutions.filter(status=status)
    return institutions.order_by("name")


def schema_names_for_background_work(*, include_public: bool = True) -> list[str]:
    """Schemas that periodic tasks visit: every active institution, and the platform's own
    unless `include_public` is false."""
    active = Institution.objects.institutions().filter(status=Institution.Status.ACTIVE)
    institutions = list(active.values_list("schema_name", flat=True))
    return [get_public_schema_name(), *institutions] if include_public else institutions


def institutions_for_email_hash(email_hash: str) -> QuerySet[Institution]:
    return Institution.objects.filter(
        pk__in=InstitutionDirectoryEntry.objects.filter(email_hash=email_hash).values(
            "institution_id"
        ),
        status=Institution.Status.ACTIVE,
    ).prefetch_related("domains")


def provisioning_requests_for_operator() -> QuerySet[ProvisioningRequest]:
    """Requests the operator's dashboard shows: waiting, being created, or failed and not yet
    dismissed, oldest first."""
    return (
        ProvisioningRequest.objects.filter(
            status__in=[
                ProvisioningRequestStatus.QUEUED,
                ProvisioningRequestStatus.RUNNING,
                ProvisioningRequestStatus.FAILED,
            ]
        )
        .select_related("requested_by")
        .order_by("created_at", "pk")
    )
