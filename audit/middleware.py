import ipaddress
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from audit.context import RequestContext, activate, deactivate, new_correlation_id

USER_AGENT_MAX = 500


class CorrelatedRequest(HttpRequest):
    """A request as RequestContextMiddleware leaves it: its correlation id, which error pages
    and the base template show as the support reference."""

    correlation_id: str


class ClientAddressMiddleware:
    """Behind TRUSTED_PROXIES reverse proxies (a TLS terminator, a load balancer), REMOTE_ADDR
    is the nearest proxy's address. Replace it by the client's, as the proxies recorded it in
    X-Forwarded-For, counted from the right: what the client wrote there itself is never
    believed. Audit records, signing trails, rate limits and sign-in lockouts all read
    REMOTE_ADDR. With no proxies configured (the default) nothing changes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.proxies = settings.TRUSTED_PROXIES

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.proxies:
            client = self._forwarded_client(request.META.get("HTTP_X_FORWARDED_FOR", ""))
            if client is not None:
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)

    def _forwarded_client(self, header: str) -> str | None:
        """The address the outermost of our proxies was reached from: the first of the entries
        our proxies appended (the last TRUSTED_PROXIES), if they are all plain IP addresses.
        Parsed strictly on purpose: a lenient parser (django-ipware's, which honours quotes)
        lets a client hide the entry our proxy appended and have its own believed."""
        appended = [entry.strip() for entry in header.split(",")][-self.proxies :]
        if not header or len(appended) < self.proxies:
            return None
        try:
            return str([ipaddress.ip_address(entry) for entry in appended][0])
        except ValueError:
            return None


class RequestContextMiddleware:
    """Give every request a correlation id (echoed as `X-Request-ID`) and record its client."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context = RequestContext(
            correlation_id=new_correlation_id(request.headers.get("X-Request-ID")),
            ip_address=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_MAX],
        )
        cast(CorrelatedRequest, request).correlation_id = context.correlation_id
        token = activate(context)
        try:
            response = self.get_response(request)
        finally:
            deactivate(token)
        response["X-Request-ID"] = context.correlation_id
        return response
