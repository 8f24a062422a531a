"""Brute-force protection with django-axes: what it counts on, and what the sign-in and
lock-out pages tell a person about the lock."""

from datetime import timedelta

from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import normalise_email
from tenants.zones import moment_text


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The e-mail that brute-force counting keys on, normalised so that changing its case
    does not reset the count."""
    source = credentials if credentials else request.POST
    return normalise_email(source.get(settings.AXES_USERNAME_FORM_FIELD) or "")


def duration_text(delta: timedelta) -> str:
    """In words, e.g. "15 minutes", "1 hour" or "1 hour and 30 minutes"; whole minutes, at
    least one."""
    minutes = max(1, round(delta.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " and ".join(parts)


def lockout_length(request: HttpRequest) -> str:
    """How long a lock lasts (AXES_COOLOFF_TIME), in words; empty if it lasts until someone
    lifts it."""
    cool_off = get_cool_off(request)
    return duration_text(cool_off) if cool_off else ""


def lockout_warning(request: HttpRequest) -> str:
    """After a failed sign-in that leaves one attempt before the lock: the warning the sign-in
    page gives. Empty after any other request (axes counts the failures of this address from
    this network while it authenticates)."""
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None or getattr(request, "axes_locked_out", False):
        return ""
    credentials = getattr(request, "axes_credentials", None)
    if get_failure_limit(request, credentials) - failures != 1:
        return ""
    length = lockout_length(request)
    if not length:
        return "One more failed attempt locks this account until an administrator unlocks it."
    return f"One more failed attempt locks this account for {length}."


def lockout_end(request: HttpRequest) -> str:
    """When a lock that starts now ends, in the institution's zone ("14:20 SAST"); empty for a
    lock without an end. Every attempt during a lock starts it again
    (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT), so a lock shown now starts now."""
    cool_off = get_cool_off(request)
    return moment_text(timezone.now() + cool_off, "H:i") if cool_off else ""
