"""When something happened, in the words the pages use: how long ago, or the moment in the
institution's time zone with its label (tenants.zones)."""

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from tenants.zones import (
    EXACT_MOMENT_FORMAT,
    MOMENT_FORMAT,
    institution_zone,
    moment_text,
    zone_description,
)

register = template.Library()


@register.filter
def ago(moment: datetime) -> str:
    """'3 hours ago', or 'just now' under a minute, where timesince would say '0 minutes'."""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"


@register.filter
def moment(value: datetime | None, date_format: str = MOMENT_FORMAT) -> str:
    """`value` in the institution's zone with the zone's label: "4 May 2027, 14:05 SAST"."""
    return moment_text(value, date_format)


@register.filter
def exact_moment(value: datetime | None) -> str:
    """To the second, as the audit certificate of a signed PDF gives it."""
    return moment_text(value, EXACT_MOMENT_FORMAT)


@register.simple_tag
def time_zone_note() -> str:
    """Which zone the page's times are in: "Africa/Johannesburg (SAST, UTC+02:00)"."""
    return zone_description(institution_zone())
