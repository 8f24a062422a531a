import logging

from celery import shared_task
from django.core.exceptions import ValidationError

from accounts.models import User
from tenants.services import institution_provision, schema_pool_refill

logger = logging.getLogger(__name__)


@shared_task(name="tenants.provision_institution")
def provision_institution(
    *, name: str, code: str, admin_email: str, admin_name: str, operator_id: int | None
) -> int | None:
    """Provisioning started from the operator's page: never inside the request."""
    operator = User.objects.filter(pk=operator_id).first() if operator_id else None
    try:
        institution = institution_provision(
            name=name, code=code, admin_email=admin_email, admin_name=admin_name, actor=operator
        )
    except ValidationError as error:
        # The code was free when the form was checked, but taken before the task ran.
        logger.warning("Institution %s was not provisioned: %s", code, "; ".join(error.messages))
        return None
    return institution.pk


@shared_task(name="tenants.refill_schema_pool")
def refill_schema_pool() -> int:
    """Keep ready schemas waiting, so the next provisioning only renames one."""
    return schema_pool_refill()
