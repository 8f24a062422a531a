"""Finding organisations near a point (seed 003's distance search) without database extensions:
the embedded PostgreSQL has no PostGIS, so the search narrows to a bounding box on the indexed
latitude and longitude, then keeps and orders by the great-circle (haversine) distance computed
in SQL. The box is a little larger than the circle, never smaller, so nothing in the radius is
missed; the distance decides."""

import math
from dataclasses import dataclass

from django.db.models import (
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import CombinedExpression, Expression
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt

from academics.models import AcademicYear
from placements.models import Organisation, PlacementPreference, PlacementSubject
from placements.preferences import subject_filter

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
MAX_RADIUS_KM = 2000


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Box:
    min_latitude: float
    max_latitude: float
    # None when the box reaches a pole (every longitude); min > max when it crosses 180°.
    min_longitude: float | None
    max_longitude: float | None

    def q(self, prefix: str = "") -> Q:
        within = Q(
            **{
                f"{prefix}latitude__gte": self.min_latitude,
                f"{prefix}latitude__lte": self.max_latitude,
            }
        )
        if self.min_longitude is None or self.max_longitude is None:
            return within & Q(**{f"{prefix}longitude__isnull": False})
        if self.min_longitude <= self.max_longitude:
            return within & Q(
                **{
                    f"{prefix}longitude__gte": self.min_longitude,
                    f"{prefix}longitude__lte": self.max_longitude,
                }
            )
        return within & (
            Q(**{f"{prefix}longitude__gte": self.min_longitude})
            | Q(**{f"{prefix}longitude__lte": self.max_longitude})
        )


def bounding_box(centre: Point, radius_km: float) -> Box:
    """The latitude and longitude ranges that hold every point within `radius_km` of `centre`."""
    spread = radius_km / KM_PER_DEGREE
    min_latitude, max_latitude = centre.latitude - spread, centre.latitude + spread
    if min_latitude <= -90 or max_latitude >= 90:
        return Box(max(min_latitude, -90.0), min(max_latitude, 90.0), None, None)
    # At the latitude nearest a pole the box reaches, a degree of longitude is shortest.
    widest = max(abs(min_latitude), abs(max_latitude))
    lon_spread = spread / math.cos(math.radians(widest))
    if lon_spread >= 180:
        return Box(min_latitude, max_latitude, None, None)
    west = (centre.longitude - lon_spread + 540) % 360 - 180
    east = (centre.longitude + lon_spread + 540) % 360 - 180
    return Box(min_latitude, max_latitude, west, east)


def distance_km(centre: Point, prefix: str = "") -> Expression:
    """The great-circle distance in km from `centre` to a row's latitude and longitude."""
    latitude = Radians(F(f"{prefix}latitude"))
    longitude = Radians(F(f"{prefix}longitude"))
    centre_latitude = Value(math.radians(centre.latitude), output_field=FloatField())
    centre_longitude = Value(math.radians(centre.longitude), output_field=FloatField())
    half_chord = Power(Sin((latitude - centre_latitude) / 2), 2) + Cos(latitude) * Value(
        math.cos(math.radians(centre.latitude)), output_field=FloatField()
    ) * Power(Sin((longitude - centre_longitude) / 2), 2)
    # Rounding can take the haversine a hair over 1 for antipodal points.
    expression: CombinedExpression = Value(2 * EARTH_RADIUS_KM, output_field=FloatField()) * ASin(
        Sqrt(Least(half_chord, Value(1.0, output_field=FloatField())))
    )
    expression.output_field = FloatField()
    return expression


def subject_codes_within(subject: PlacementSubject) -> list[str]:
    """A subject's code and those of every subject under it (searching Sciences finds places
    offered in Physical sciences)."""
    codes, frontier = [subject.code], [subject.pk]
    while frontier:
        children = list(
            PlacementSubject.objects.filter(parent__in=frontier).values_list("pk", "code")
        )
        frontier = [pk for pk, code in children if code not in codes]
        codes += [code for _, code in children if code not in codes]
    return codes


def organisations_near(
    centre: Point,
    radius_km: float,
    *,
    academic_year: AcademicYear | None = None,
    subject: PlacementSubject | None = None,
    phase: str | None = None,
    appetites: list[str] | None = None,
    queryset: QuerySet[Organisation] | None = None,
) -> QuerySet[Organisation]:
    """Active organisations within `radius_km` of `centre`, nearest first, each annotated with
    `distance_km` and, given an academic year, its `appetite` that year ("" when it has not
    answered). Subject, phase and appetites filter on that year's preference (they need the
    year); a subject includes the subjects under it."""
    if (subject or phase or appetites) and academic_year is None:
        raise ValueError("Filtering by subject, phase or appetite needs an academic year.")
    radius_km = min(float(radius_km), MAX_RADIUS_KM)
    organisations = (queryset if queryset is not None else Organisation.objects.all()).filter(
        bounding_box(centre, radius_km).q(), is_active=True
    )
    if academic_year is not None:
        preferences = PlacementPreference.objects.filter(
            organisation=OuterRef("pk"), academic_year=academic_year
        )
        organisations = organisations.annotate(
            appetite=Subquery(preferences.values("appetite")[:1])
        )
        wanted = preferences
        if appetites:
            wanted = wanted.filter(appetite__in=appetites)
        if subject is not None or phase:
            offers = Q()
            codes = subject_codes_within(subject) if subject is not None else [None]
            for code in codes:
                offers |= Q(placement_details__contains=subject_filter(subject=code, phase=phase))
            wanted = wanted.filter(offers)
        if wanted is not preferences:
            organisations = organisations.filter(Exists(wanted))
    return (
        organisations.annotate(distance_km=distance_km(centre))
        .filter(distance_km__lte=radius_km)
        .order_by("distance_km", "pk")
    )
