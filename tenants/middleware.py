from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import set_urlconf
from django.utils import timezone
from django_tenants.middleware.main import TenantMainMiddleware

from tenants.db import tenant_connection
from tenants.zones import institution_zone


class SuspendedInstitutionMiddleware:
    """A suspended institution shows only a notice: no page, no sign-in, no session use."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        institution = getattr(request, "tenant", None)
        if (
            institution is not None
            and getattr(institution, "is_suspended", False)
            and not request.path.startswith(settings.STATIC_URL)
        ):
            return render(request, "tenants/suspended.html", status=503)
        return self.get_response(request)


class InstitutionRoutingMiddleware(TenantMainMiddleware):
    """django-tenants' host routing, with unknown hosts answered by the platform's 404 page."""

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> None:
        tenant_connection.set_schema_to_public()
        request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
        set_urlconf(request.urlconf)
        raise self.TENANT_NOT_FOUND_EXCEPTION(f"No institution answers at {hostname}")


class InstitutionTimeZoneMiddleware:
    """Pages give times in the zone of the institution whose site it is (the platform's own
    site in settings.TIME_ZONE). Placed right after the institution routing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with timezone.override(institution_zone(getattr(request, "tenant", None))):
            return self.get_response(request)
