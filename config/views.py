"""Error pages, shared by the platform site and every institution's site."""

from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader

from config.health import readiness


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Refusals look exactly like missing pages, so they confirm nothing (DESIGN: input)."""
    return page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Rendered without context processors: the database may be what failed."""
    body = loader.get_template("500.html").render(
        {"request_id": getattr(request, "correlation_id", "")}
    )
    return HttpResponseServerError(body)


def health(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. No database, no cache: restarting a web process does not
    cure a database outage. Served by config.middleware.ProbeMiddleware, as is `ready`."""
    return HttpResponse("ok", content_type="text/plain")


def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database, Redis and file storage all work, else 503 with each
    check's result, so that a load balancer stops sending requests this process cannot serve."""
    results = readiness()
    return JsonResponse(
        {name: "ok" if passed else "failed" for name, passed in results.items()},
        status=200 if all(results.values()) else 503,
    )
