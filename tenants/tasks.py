"""Background work of the platform's own schema: provisioning the institutions operators ask
for, and the pool of ready schemas."""

from celery import shared_task
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.models import ProvisioningRequest
from tenants.provisioning import provisioning_request_run, provisioning_requests_sweep
from tenants.services import schema_pool_refill


@shared_task(name="tenants.provisioning_request_run")
def provisioning_request_run_task(provisioning_request_id: int) -> str:
    """Provisioning started from the operator's page: never inside the request. Idempotent: a
    redelivered task finds the request taken, done or failed and does nothing."""
    with schema_context(get_public_schema_name()):
        provisioning_request = ProvisioningRequest.objects.filter(
            pk=provisioning_request_id
        ).first()
        if provisioning_request is None:
            return "missing"
        return provisioning_request_run(provisioning_request=provisioning_request).status


@shared_task(name="tenants.provisioning_requests_sweep")
def provisioning_requests_sweep_task() -> int:
    """Beat entry point: provisioning requests live in the public schema only."""
    with schema_context(get_public_schema_name()):
        return provisioning_requests_sweep()


@shared_task(name="tenants.refill_schema_pool")
def refill_schema_pool() -> int:
    """Keep ready schemas waiting, so the next provisioning only renames one."""
    return schema_pool_refill()
