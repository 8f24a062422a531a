from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.context import RequestContext, activate, deactivate, new_correlation_id

USER_AGENT_MAX = 500


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
