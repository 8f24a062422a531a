from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


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
