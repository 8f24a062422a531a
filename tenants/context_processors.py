from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name

from tenants.db import tenant_connection


def institution(request: HttpRequest) -> dict:
    """The institution whose site this is (None on the platform's own site), for branding."""
    tenant = getattr(request, "tenant", None)
    is_public = tenant is None or tenant.schema_name == get_public_schema_name()
    return {
        "institution": None if is_public else tenant,
        "on_platform_site": tenant_connection.schema_name == get_public_schema_name(),
    }
