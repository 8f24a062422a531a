"""Rate limits that outlive the cache. django-ratelimit keeps its counts in the cache (Redis)
and raises when it cannot reach it, which would turn every limited page into a 500. Here a
check that cannot be made fails open (the request goes on) unless the caller says guessing is
the threat; either way it is logged and counted, per group, in `rate_limit_failures`."""

import logging
import threading
from collections import Counter

from django.http import HttpRequest
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
