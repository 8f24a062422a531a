"""The institution's time zone: which zones it may choose, which one is in force, and moments
written in it with the zone's label ("14:05 SAST"), so that nobody reads a time as another
zone's. Pages get it from InstitutionTimeZoneMiddleware, tasks from config.celery; e-mails and
signed PDFs ask for it here, whatever zone happens to be active."""

import functools
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateformat import format as date_format

if TYPE_CHECKING:
    from tenants.models import Institution

DEFAULT_TIME_ZONE = "Africa/Johannesburg"
# The tz database's areas; its other names (Factory, posixrules, US/Eastern ...) are links kept
# for old systems, and would only make the list longer and less clear.
AREAS = (
    "Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe",
    "Indian", "Pacific",
)  # fmt: skip
# Date formats (Django's `date` filter letters) that the pages, e-mails and PDFs use.
MOMENT_FORMAT = "j F Y, H:i"
EXACT_MOMENT_FORMAT = "Y-m-d H:i:s"  # the audit certificate's and the verify page's


@functools.cache
def time_zone_names() -> frozenset[str]:
    """Every zone an institution may choose: the tz database's places, and UTC."""
    return frozenset(
        name for name in zoneinfo.available_timezones() if name.partition("/")[0] in AREAS
    ) | {"UTC"}


def time_zone_validate(name: str) -> None:
    """The institution's field accepts only a zone of the settings page's list."""
    if name not in time_zone_names():
        raise ValidationError(
            "“%(name)s” is not a time zone; choose one from the list, e.g. Africa/Johannesburg.",
            params={"name": name},
        )


def time_zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The zones grouped by area, for a select, each with its offset from UTC today:
    ("Africa", [("Africa/Johannesburg", "Africa/Johannesburg (UTC+02:00)"), ...]), then UTC."""
    now = timezone.now()
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(time_zone_names() - {"UTC"}):
        label = f"{name.replace('_', ' ')} ({_offset(now, zoneinfo.ZoneInfo(name))})"
        groups.setdefault(name.partition("/")[0], []).append((name, label))
    return [*groups.items(), ("Coordinated Universal Time", [("UTC", "UTC")])]


def _offset(moment: datetime, zone: zoneinfo.ZoneInfo) -> str:
    """How far the zone is from UTC at `moment`, e.g. "UTC+02:00"."""
    offset = date_format(moment.astimezone(zone), "O")  # +0200
    return f"UTC{offset[:3]}:{offset[3:]}"


def zone_named(name: str | None) -> zoneinfo.ZoneInfo:
    """The zone called `name`, or the platform's (settings.TIME_ZONE) for no name or one that
    this machine's tz database does not know."""
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def institution_zone(institution: "Institution | None" = None) -> zoneinfo.ZoneInfo:
    """The time zone of `institution`, by default the one the database connection is in. A
    schema entered by name alone (schema_context) has a stand-in tenant without the field: the
    institution is then read from its row. The platform's own schema uses settings.TIME_ZONE."""
    from django_tenants.utils import get_public_schema_name

    from tenants.db import tenant_connection
    from tenants.models import Institution

    tenant = institution if institution is not None else tenant_connection.tenant
    schema_name = getattr(tenant, "schema_name", get_public_schema_name())
    if schema_name == get_public_schema_name():
        return zone_named(None)
    name = getattr(tenant, "time_zone", None)
    if name is None:
        name = (
            Institution.objects.filter(schema_name=schema_name)
            .values_list("time_zone", flat=True)
            .first()
        )
    return zone_named(name)


@contextmanager
def institution_time(institution: "Institution | None" = None) -> Iterator[zoneinfo.ZoneInfo]:
    """Make the institution's zone the current one (Django's `date` filter, localtime) within
    the block."""
    zone = institution_zone(institution)
    with timezone.override(zone):
        yield zone


def zone_label(moment: datetime, zone: zoneinfo.ZoneInfo) -> str:
    """The zone's abbreviation at `moment` ("SAST", "CEST"), or its offset from UTC where the
    tz database has no letters for it ("UTC+04")."""
    abbreviation = moment.astimezone(zone).tzname() or ""
    if abbreviation[:1] in {"+", "-"}:
        return f"UTC{abbreviation}"
    return abbreviation


def zone_description(zone: zoneinfo.ZoneInfo, moment: datetime | None = None) -> str:
    """The zone's name with its label and offset at `moment` (by default now), e.g.
    "Africa/Johannesburg (SAST, UTC+02:00)", for a note that says which zone times are in."""
    moment = moment or timezone.now()
    offset = _offset(moment, zone)
    if (moment.astimezone(zone).tzname() or "+")[:1] in {"+", "-"}:
        return f"{zone.key} ({offset})"  # no letters: the label would repeat the offset
    return f"{zone.key} ({zone_label(moment, zone)}, {offset})"


def moment_text(
    moment: datetime | None,
    date_format_string: str = MOMENT_FORMAT,
    *,
    zone: zoneinfo.ZoneInfo | None = None,
) -> str:
    """`moment` in the institution's zone (or `zone`) with the zone's label, e.g.
    "4 May 2027, 14:05 SAST"; empty for no moment. The format is the `date` filter's."""
    if moment is None:
        return ""
    zone = zone or institution_zone()
    local = moment.astimezone(zone)
    return f"{date_format(local, date_format_string)} {zone_label(moment, zone)}"
