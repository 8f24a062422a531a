from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config import views


class ProbeMiddleware:
    """Answers the liveness and readiness probes before any host check or institution lookup:
    a load balancer asks by bare IP address or by any host name, and liveness must not depend
    on the database. Placed first in MIDDLEWARE."""

    probes = {"/healthz": views.health, "/readyz": views.ready}

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = self.probes.get(request.path_info)
        return probe(request) if probe else self.get_response(request)
