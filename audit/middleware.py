from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ipware import get_client_ip

from audit.context import RequestContext, activate, deactivate, new_correlation_id

USER_AGENT_MAX = 500


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
            # django-ipware counts the proxies listed in the header; the nearest one is not.
            client, _ = get_client_ip(
                request, proxy_count=self.proxies - 1, proxy_order="left-most",
                request_header_order=["HTTP_X_FORWARDED_FOR"], strict=False,
            )  # fmt: skip
            if client is not None:
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)


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
        request.correlation_id = context.correlation_id
        token = activate(context)
        try:
            response = self.get_response(request)
        finally:
            deactivate(token)
        response["X-Request-ID"] = context.correlation_id
        return response
