"""Rate limits that outlive the cache. django-ratelimit keeps its counts in the cache (Redis)
and raises when it cannot reach it, which would turn every limited page into a 500. Here a
check that cannot be made fails open (the request goes on) unless the caller says guessing is
the threat; either way it is logged and counted, per group, in `rate_limit_failures`."""

import logging
import threading
from collections import Counter
from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_failures: Counter[str] = Counter()
_failures_lock = threading.Lock()


class RateLimitUnavailable(Exception):
    """The counts of a limit that fails closed cannot be read or written now."""


def rate_limit_failures() -> dict[str, int]:
    """Checks this process could not make since it started, per group: for a health page, a
    metrics exporter or a log line."""
    with _failures_lock:
        return dict(_failures)


def rate_limit_usage(
    request: HttpRequest,
    *,
    group: str,
    key,
    rate: str,
    increment: bool = False,
    fail_closed: bool = False,
) -> dict | None:
    """django-ratelimit's usage (count, limit, should_limit), or None when the counts cannot be
    reached and the limit fails open. A limit that fails closed raises RateLimitUnavailable
    instead: the caller answers 503."""
    try:
        return get_usage(request, group=group, key=key, rate=rate, increment=increment)
    except (RedisError, OSError) as error:
        with _failures_lock:
            _failures[group] += 1
            failures = _failures[group]
        logger.warning(
            "Rate limit %s not checked (%s): failing %s (%s failed checks since start)",
            group,
            type(error).__name__,
            "closed" if fail_closed else "open",
            failures,
        )
        if fail_closed:
            raise RateLimitUnavailable(group) from error
        return None


def rate_limited(request: HttpRequest, *, group: str, key, rate: str) -> bool:
    """Count this request and say whether it is over the limit; failing open."""
    usage = rate_limit_usage(request, group=group, key=key, rate=rate, increment=True)
    return usage is not None and bool(usage["should_limit"])


def public_upload(
    *,
    group: str,
    rate: str,
    max_bytes: int,
    too_large: str,
    refused: Callable[[HttpRequest, str, int], HttpResponse],
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """For a public page that takes uploads: a POST from an address over `rate`, or declaring
    a body over `max_bytes`, is answered by `refused(request, reason, status)` before anything
    of its body is read (Django reads no more than Content-Length says). The CSRF check, which
    parses the whole body, runs only after, so the view is exempt from the middleware's and
    protected here instead."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        protected = csrf_protect(view)

        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST":
                if rate_limited(request, group=group, key="ip", rate=rate):
                    return refused(
                        request, "Too many checks from your address; try again later.", 429
                    )
                try:
                    declared = int(request.META.get("CONTENT_LENGTH") or 0)
                except ValueError:
                    declared = max_bytes + 1
                if declared > max_bytes:
                    return refused(request, too_large, 413)
            return protected(request, *args, **kwargs)

        return csrf_exempt(guarded)

    return decorator
