from celery import shared_task
from django_tenants.utils import get_public_schema_name, schema_context

from privacy.models import AccessRequest
from tenants.db import tenant_connection
from tenants.selectors import schema_names_for_background_work


@shared_task(name="privacy.access_request_fulfil")
def access_request_fulfil_task(access_request_id: int) -> str:
    """Prepare an access request's ZIP in its institution's schema; returns its status.
    Idempotent: only a pending request is worked on."""
    from privacy.access.services import access_request_fulfil

    access_request = AccessRequest.objects.filter(pk=access_request_id).first()
    if access_request is None:
        return "missing"
    return access_request_fulfil(access_request=access_request).status


@shared_task(name="privacy.access_requests_expire")
def access_requests_expire_task() -> int:
    """Delete this institution's expired access-request ZIPs; returns how many. Idempotent."""
    from privacy.access.services import access_requests_expire

    if tenant_connection.schema_name == get_public_schema_name():
        return 0
    return access_requests_expire()


@shared_task(name="privacy.access_requests_expire_all_institutions")
def access_requests_expire_all_institutions() -> None:
    """Beat entry point: one run per active institution, skipping suspended ones and the
    platform's own schema."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            access_requests_expire_task.delay()
