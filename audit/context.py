"""Who is acting, from where, under which correlation id: set once per request or task and read
by the audit service and the log filter, so callers never pass them by hand."""

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@dataclass(frozen=True)
class RequestContext:
    correlation_id: str
    ip_address: str | None = None
    user_agent: str = ""


_current: ContextVar[RequestContext | None] = ContextVar("cohortly_request_context", default=None)


def new_correlation_id(candidate: str | None = None) -> str:
    """Keep a caller's id when it is safe to log and echo, else make a new one."""
    if candidate and _SAFE_ID.match(candidate):
        return candidate
    return uuid.uuid4().hex


def current_context() -> RequestContext:
    context = _current.get()
    if context is None:
        context = RequestContext(correlation_id=new_correlation_id())
        _current.set(context)
    return context


def activate(context: RequestContext):
    """Make `context` current; returns the token that `deactivate` needs."""
    return _current.set(context)


def deactivate(token) -> None:
    _current.reset(token)
