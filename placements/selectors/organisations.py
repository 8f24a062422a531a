"""What the organisation pages read: the list with its search and filters, one organisation
with everything its page shows, and the points of the list's map."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from placements.models import (
    COORDINATE_FLAGS,
    OPEN_PLACEMENT_STATUSES,
    GeocodeStatus,
    Organisation,
    OrganisationContact,
    Placement,
)

KINDS = ("school", "provider", "employer")
# South Africa's bounding box, for the map: what falls outside is left off it.
MAP_SOUTH, MAP_NORTH, MAP_WEST, MAP_EAST = -35.0, -22.0, 16.0, 33.0
MAP_WIDTH, MAP_HEIGHT = 600, 460
MAP_MAX_POINTS = 2000
# Cities named on the map, for bearings.
MAP_CITIES = (
    ("Johannesburg", -26.2041, 28.0473),
    ("Polokwane", -23.9045, 29.4689),
    ("Bloemfontein", -29.0852, 26.1596),
    ("Durban", -29.8587, 31.0218),
    ("Gqeberha", -33.9608, 25.6022),
    ("Cape Town", -33.9249, 18.4241),
)


def _map_xy(latitude: float, longitude: float) -> tuple[float, float]:
    return (
        round((longitude - MAP_WEST) / (MAP_EAST - MAP_WEST) * MAP_WIDTH, 1),
        round((MAP_NORTH - latitude) / (MAP_NORTH - MAP_SOUTH) * MAP_HEIGHT, 1),
    )


def organisation_list(
    *,
    search: str = "",
    kind: str = "",
    active: str = "",
    coordinates: str = "",
) -> QuerySet[Organisation]:
    """Organisations by name, with their address, matching `search` (name, URN, code or town),
    of `kind` (school, provider, employer), `active` ("yes" or "no") and `coordinates`
    ("flagged": stale, failed or waiting for a lookup; "missing": none)."""
    organisations = Organisation.objects.select_related("address").order_by("name", "pk")
    search = search.strip()
    if search:
        organisations = organisations.filter(
            Q(name__icontains=search)
            | Q(urn__iexact=search)
            | Q(code__iexact=search)
            | Q(address__town__icontains=search)
            | Q(address__city__icontains=search)
        )
    if kind in KINDS:
        organisations = organisations.filter(**{kind: True})
    if active in ("yes", "no"):
        organisations = organisations.filter(is_active=active == "yes")
    if coordinates == "flagged":
        organisations = organisations.filter(geocode_status__in=COORDINATE_FLAGS)
    elif coordinates == "missing":
        organisations = organisations.filter(latitude__isnull=True)
    return organisations


def organisation_page(pk: int) -> Organisation:
    """One organisation with its address, details, sponsor and contacts, each contact with the
    number of open placements they supervise (removing such a contact is refused)."""
    contacts = OrganisationContact.objects.annotate(
        open_placements=Count(
            "supervised_placements",
            filter=Q(supervised_placements__status__in=OPEN_PLACEMENT_STATUSES),
        )
    ).order_by("last_name", "first_name", "pk")
    return (
        Organisation.objects.select_related("address", "detail", "sponsor", "created_by")
        .prefetch_related(Prefetch("contacts", queryset=contacts))
        .get(pk=pk)
    )


def organisation_open_placements(organisation: Organisation) -> int:
    """How many of its placements are open (proposed, confirmed or active): deactivating an
    organisation is refused while any are."""
    return Placement.objects.filter(
        organisation=organisation, status__in=OPEN_PLACEMENT_STATUSES
    ).count()


def contact_supervising(contact: OrganisationContact) -> list[Placement]:
    """The open placements a contact supervises, for the removal page."""
    return list(
        Placement.objects.filter(supervisor=contact, status__in=OPEN_PLACEMENT_STATUSES)
        .select_related("learner")
        .order_by("starts_on", "pk")
    )


@dataclass(frozen=True)
class MapPoint:
    x: float
    y: float
    flagged: bool


@dataclass(frozen=True)
class OrganisationMap:
    points: list[MapPoint]
    outside: int  # with coordinates, but not in South Africa's box
    missing: int  # without coordinates
    width: int = MAP_WIDTH
    height: int = MAP_HEIGHT

    @property
    def grid(self) -> list[tuple[float, float, float, float]]:
        """Lines every two degrees of latitude and longitude, for bearings."""
        verticals = [
            (x, 0.0, x, float(self.height))
            for lon in range(int(MAP_WEST) + 2, int(MAP_EAST), 2)
            for x in [round((lon - MAP_WEST) / (MAP_EAST - MAP_WEST) * self.width, 1)]
        ]
        horizontals = [
            (0.0, y, float(self.width), y)
            for lat in range(int(MAP_NORTH) - 2, int(MAP_SOUTH), -2)
            for y in [round((MAP_NORTH - lat) / (MAP_NORTH - MAP_SOUTH) * self.height, 1)]
        ]
        return verticals + horizontals

    @property
    def cities(self) -> list[tuple[str, float, float]]:
        return [(name, *_map_xy(latitude, longitude)) for name, latitude, longitude in MAP_CITIES]


def organisation_map(organisations: QuerySet[Organisation]) -> OrganisationMap:
    """The filtered organisations as points over South Africa's bounding box (an SVG drawn by
    the page, no map tiles): at most MAP_MAX_POINTS, with how many were left off and why."""
    rows = list(
        organisations.filter(latitude__isnull=False)
        .order_by()
        .values_list("latitude", "longitude", "geocode_status")[:MAP_MAX_POINTS]
    )
    missing = organisations.filter(latitude__isnull=True).count()
    points = []
    for latitude, longitude, status in rows:
        if latitude is None or longitude is None:
            continue
        if MAP_SOUTH <= latitude <= MAP_NORTH and MAP_WEST <= longitude <= MAP_EAST:
            x, y = _map_xy(latitude, longitude)
            points.append(MapPoint(x=x, y=y, flagged=status in COORDINATE_FLAGS))
    return OrganisationMap(points=points, outside=len(rows) - len(points), missing=missing)


def coordinate_flag_sentence(organisation: Organisation) -> str:
    """What a page says beside flagged coordinates."""
    status = organisation.geocode_status
    if status == GeocodeStatus.STALE:
        return (
            "The address changed since these coordinates were looked up: they may be of the old "
            "address."
        )
    if status == GeocodeStatus.PENDING:
        return "The address is being looked up."
    if status == GeocodeStatus.FAILED:
        return f"The address could not be looked up: {organisation.geocode_error}"
    return ""
