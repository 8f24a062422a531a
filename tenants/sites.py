"""The web addresses of the platform and of each institution's site. Kept apart from
tenants.services, which provisions institutions with the apps above it, so that any app may
build a link without importing provisioning."""

from django.conf import settings

from tenants.db import tenant_connection
from tenants.models import Institution


def institution_domain(code: str) -> str:
    return f"{code}.{settings.PLATFORM_DOMAIN}"


def site_url(host: str, path: str = "/") -> str:
    port = f":{settings.PLATFORM_PORT}" if settings.PLATFORM_PORT else ""
    return f"{settings.PLATFORM_SCHEME}://{host}{port}{path}"


def institution_url(institution: Institution, path: str = "/") -> str:
    return site_url(institution_domain(institution.code), path)


def current_institution_url(path: str = "/") -> str:
    """`path` on the site of the institution whose schema is in use (in a request, a task or
    a command acting for it)."""
    return institution_url(tenant_connection.tenant, path)
