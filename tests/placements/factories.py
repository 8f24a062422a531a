"""Placements' test data: organisations at given coordinates, academic years, preferences
(stored through the schema, as the services store them), learners with a programme and vetting."""

import datetime
from typing import Any

import factory
from factory.django import DjangoModelFactory

from academics.models import AcademicYear
from placements.models import Appetite, PlacementSubject
from placements.preferences import details_validate

# Points in South Africa, for distance tests.
JOHANNESBURG = (-26.2041, 28.0473)
PRETORIA = (-25.7479, 28.2293)  # about 54 km from Johannesburg
DURBAN = (-29.8587, 31.0218)  # about 490 km from Johannesburg
CAPE_TOWN = (-33.9249, 18.4241)


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = "placements.Organisation"

    name = factory.Sequence(lambda n: f"Hillview School {n}")
    school = True
    latitude = JOHANNESBURG[0]
    longitude = JOHANNESBURG[1]
    geocode_status = "entered"


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = "placements.OrganisationContact"

    organisation = factory.SubFactory(OrganisationFactory)
    first_name = "Thandi"
    last_name = factory.Sequence(lambda n: f"Nkosi{n}")
    email_address = factory.Sequence(lambda n: f"lead{n}@school.example")
    role = "Placement lead"


def academic_year(name: str = "2027") -> AcademicYear:
    year = int(name[:4])
    found, _ = AcademicYear.objects.get_or_create(
        name=name,
        defaults={
            "starts_on": datetime.date(year, 1, 1),
            "ends_on": datetime.date(year, 12, 31),
        },
    )
    return found


def subject(code: str) -> PlacementSubject:
    """One of the default subjects every institution starts with (placements migration 0002)."""
    return PlacementSubject.objects.get(code=code)


def preference(
    organisation,
    year: AcademicYear,
    *,
    appetite: str = Appetite.INTERESTED,
    places: dict[tuple[str, str], int] | None = None,
    **details: Any,
):
    """A preference whose details went through the schema: `places` maps (subject code, phase)
    to a number of places."""
    from placements.models import PlacementPreference

    raw = {
        "places": [
            {"subject": code, "phase": phase, "places": count}
            for (code, phase), count in (places or {}).items()
        ],
        **details,
    }
    stored = details_validate(
        raw,
        appetite=appetite,
        subject_phases=dict(PlacementSubject.objects.values_list("code", "phase")),
        year_starts_on=year.starts_on,
        year_ends_on=year.ends_on,
    )
    return PlacementPreference.objects.create(
        organisation=organisation, academic_year=year, appetite=appetite, placement_details=stored
    )
