"""The distance search, the preference schema and clearance, on the real database."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from academics.models import AcademicYear
from placements.models import Appetite, ProgrammeVettingRequirement, VettingType
from placements.preferences import details_validate
from placements.selectors.clearance import learners_cleared, vetting_missing
from placements.selectors.distance import Point, bounding_box, organisations_near
from tests.factories import ProgrammeFactory
from tests.placements.factories import (
    DURBAN,
    JOHANNESBURG,
    PRETORIA,
    OrganisationFactory,
    academic_year,
    preference,
)

pytestmark = pytest.mark.django_db

CENTRE = Point(*JOHANNESBURG)


def test_nearest_first_with_the_distance(institution):
    far = OrganisationFactory(name="Durban High", latitude=DURBAN[0], longitude=DURBAN[1])
    near = OrganisationFactory(name="Pretoria Primary", latitude=PRETORIA[0], longitude=PRETORIA[1])
    here = OrganisationFactory(name="Joburg College")
    OrganisationFactory(name="No coordinates", latitude=None, longitude=None)

    found = list(organisations_near(CENTRE, 600))

    assert found == [here, near, far]
    assert found[0].distance_km == pytest.approx(0, abs=0.01)
    assert found[1].distance_km == pytest.approx(54, abs=3)
    assert found[2].distance_km == pytest.approx(490, abs=15)
    assert list(organisations_near(CENTRE, 100)) == [here, near]


def test_subject_phase_and_appetite_filter_on_the_years_preference(institution):
    year = academic_year("2027")
    other_year = academic_year("2028")
    maths = OrganisationFactory(name="Maths school")
    preference(maths, year, places={("MATH", "secondary"): 2})
    physics = OrganisationFactory(
        name="Physics school", latitude=PRETORIA[0], longitude=PRETORIA[1]
    )
    preference(physics, year, appetite=Appetite.UNSURE, places={("PHYS", "secondary"): 1})
    uninterested = OrganisationFactory(name="Not this year")
    preference(uninterested, year, appetite=Appetite.NOT_INTERESTED)
    next_year_only = OrganisationFactory(name="Next year")
    preference(next_year_only, other_year, places={("MATH", "secondary"): 5})

    def names(**filters) -> list[str]:
        return [o.name for o in organisations_near(CENTRE, 100, academic_year=year, **filters)]

    from tests.placements.factories import subject

    assert names(subject=subject("MATH")) == ["Maths school"]
    # A broader subject finds places offered in the subjects under it.
    assert names(subject=subject("SCI")) == ["Physics school"]
    assert names(appetites=[Appetite.UNSURE]) == ["Physics school"]
    assert names(phase="primary") == []
    everyone = list(organisations_near(CENTRE, 100, academic_year=year))
    assert {o.name: o.appetite for o in everyone}["Next year"] is None


def test_a_box_across_the_antimeridian_or_a_pole_keeps_every_point():
    fiji = bounding_box(Point(-17.7, 179.9), 100)
    assert fiji.min_longitude is not None
    assert fiji.max_longitude is not None
    assert fiji.min_longitude > fiji.max_longitude  # wraps: both sides are kept
    assert bounding_box(Point(89.5, 0), 100).min_longitude is None


def test_filters_without_a_year_are_refused(institution):
    with pytest.raises(ValueError, match="needs an academic year"):
        organisations_near(CENTRE, 10, appetites=[Appetite.INTERESTED])


def _year() -> AcademicYear:
    return AcademicYear(starts_on=datetime.date(2027, 1, 1), ends_on=datetime.date(2027, 12, 31))


def _validate(raw, appetite=Appetite.INTERESTED):
    year = _year()
    return details_validate(
        raw,
        appetite=appetite,
        subject_phases={"MATH": "secondary", "ENG": "secondary"},
        year_starts_on=year.starts_on,
        year_ends_on=year.ends_on,
    )


def test_the_preference_schema_stores_only_its_structure():
    stored = _validate(
        {
            "places": [{"subject": " math ", "phase": "secondary", "places": 3}],
            "windows": [{"starts_on": "2027-02-01", "ends_on": "2027-03-31"}],
            "notes": "  Mornings only ",
        }
    )
    assert stored == {
        "places": [{"subject": "MATH", "phase": "secondary", "places": 3}],
        "windows": [{"starts_on": "2027-02-01", "ends_on": "2027-03-31"}],
        "notes": "Mornings only",
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"places": [{"subject": "MATH", "phase": "secondary", "places": 0}]}, "greater than"),
        ({"places": [{"subject": "MATH", "phase": "tertiary", "places": 1}]}, "phase"),
        ({"colour": "blue"}, "Extra inputs"),
        ({"places": [{"subject": "BIO", "phase": "secondary", "places": 1}]}, "BIO"),
        (
            {"places": [{"subject": "MATH", "phase": "primary", "places": 1}]},
            "MATH is a secondary subject, not primary",
        ),
        (
            {
                "places": [
                    {"subject": "MATH", "phase": "secondary", "places": 1},
                    {"subject": "MATH", "phase": "secondary", "places": 2},
                ]
            },
            "listed twice",
        ),
        ({"windows": [{"starts_on": "2027-03-01", "ends_on": "2027-02-01"}]}, "end before"),
        ({"windows": [{"starts_on": "2026-12-01", "ends_on": "2027-02-01"}]}, "academic year"),
        ("not an object", "valid dictionary"),
    ],
)
def test_the_preference_schema_refuses_what_it_does_not_describe(raw, message):
    with pytest.raises(ValidationError) as refused:
        _validate(raw)
    assert message in " ".join(refused.value.messages)


def test_an_organisation_that_is_not_interested_offers_nothing():
    with pytest.raises(ValidationError, match="not interested"):
        _validate(
            {"places": [{"subject": "MATH", "phase": "secondary", "places": 1}]},
            appetite=Appetite.NOT_INTERESTED,
        )


def test_cleared_means_every_required_type_cleared_and_unexpired(institution, admin):
    from learners.models import Learner
    from placements.models import VettingRecord, VettingStatus

    programme = ProgrammeFactory()
    police = VettingType.objects.get(code="police_clearance")
    identity = VettingType.objects.get(code="identity")
    for vetting_type in (police, identity):
        ProgrammeVettingRequirement.objects.create(programme=programme, vetting_type=vetting_type)
    cleared = Learner.objects.create(first_name="Cleared")
    expired = Learner.objects.create(first_name="Expired")
    today = datetime.date(2027, 3, 1)
    for learner, expires_on in ((cleared, datetime.date(2027, 6, 1)), (expired, today)):
        VettingRecord.objects.create(
            learner=learner, vetting_type=identity, status=VettingStatus.CLEARED
        )
        VettingRecord.objects.create(
            learner=learner,
            vetting_type=police,
            status=VettingStatus.CLEARED,
            expires_on=expires_on,
        )

    assert vetting_missing(cleared, programme, on=today) == []
    assert vetting_missing(expired, programme, on=today + datetime.timedelta(days=1)) == [police]
    assert learners_cleared([cleared.pk, expired.pk], programme, on=datetime.date(2027, 3, 2)) == {
        cleared.pk
    }
