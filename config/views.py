"""Error pages, shared by the platform site and every institution's site."""

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader


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
    """For load balancers and container health checks: the stack answers, nothing more."""
    return HttpResponse("ok", content_type="text/plain")
