"""Calendar feeds: the .ics address a calendar application subscribes to (no sign-in: the
unguessable token is the key), and the buttons that make, regenerate and revoke it."""

import datetime

import icalendar
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts.http import AuthenticatedRequest, SiteRequest
from delivery.models import CalendarFeedOwner, Session, SessionStatus
from delivery.selectors.sessions import calendar_feed_for_token, feed_sessions
from delivery.services.feeds import calendar_feed_issue, calendar_feed_revoke
from tenants.sites import institution_url
from tenants.zones import institution_zone

# Where each kind of feed is managed.
FEED_PAGES: dict[str, str] = {
    CalendarFeedOwner.TRAINER: "delivery:home",
    CalendarFeedOwner.LEARNER: "delivery:my_schedule",
}


def _owner(value: str) -> str:
    if value not in CalendarFeedOwner.values:
        raise Http404
    return value


@login_required
@require_POST
@never_cache
def feed_issue(request: AuthenticatedRequest, owner: str) -> HttpResponse:
    """Make a new feed (ending the earlier one) and show its address, this once."""
    owner = _owner(owner)
    token = calendar_feed_issue(actor=request.user, owner=owner)
    address = institution_url(request.tenant, reverse("delivery:feed", args=[token]))
    return render(
        request,
        "delivery/schedule/feed_issued.html",
        {
            "address": address,
            "webcal": "webcal://" + address.split("://", 1)[1],
            "back": reverse(FEED_PAGES[owner]),
        },
    )


@login_required
@require_POST
def feed_revoke(request: AuthenticatedRequest, owner: str) -> HttpResponse:
    owner = _owner(owner)
    try:
        calendar_feed_revoke(actor=request.user, owner=owner)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Calendar feed revoked: its address no longer works.")
    return redirect(FEED_PAGES[owner])


@require_GET
def feed(request: SiteRequest, token: str) -> HttpResponse:
    """The sessions of the feed's owner, as iCalendar (RFC 5545)."""
    found = calendar_feed_for_token(token)
    if found is None:
        raise Http404
    zone = institution_zone(request.tenant)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Cohortly//Sessions//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{request.tenant.name}: my sessions")
    calendar.add("x-wr-timezone", zone.key)
    host = request.get_host().split(":")[0]
    for session in feed_sessions(found):
        calendar.add_component(_event(session, zone, host))
    calendar.add_missing_timezones()
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="sessions.ics"'
    response["Cache-Control"] = "private, no-cache"
    return response


def _event(session: Session, zone: datetime.tzinfo, host: str) -> icalendar.Event:
    run = session.course_run
    event = icalendar.Event()
    event.add("uid", f"session-{session.pk}@{host}")
    event.add("dtstamp", session.updated_at)
    event.add("last-modified", session.updated_at)
    event.add("dtstart", datetime.datetime.combine(session.session_date, session.start_time, zone))
    event.add("dtend", datetime.datetime.combine(session.session_date, session.end_time, zone))
    event.add("summary", f"{run.course_ref} {run.title}")
    if session.venue:
        event.add("location", session.venue)
    description = [f"Cohort: {run.cohort}"]
    if session.trainer:
        description.append(f"Trainer: {session.trainer}")
    if session.status == SessionStatus.CANCELLED:
        description.append(f"Cancelled: {session.cancellation_reason}")
    event.add("description", "\n".join(description))
    event.add("status", "CANCELLED" if session.status == SessionStatus.CANCELLED else "CONFIRMED")
    return event
