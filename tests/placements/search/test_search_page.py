"""The distance search page: a learner's home or a point, filters, order, distances, free
places, and refusals of a bad centre or radius."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import SystemRole
from placements.models import Appetite, LearnerLocation, Placement, PlacementStatus
from placements.services.placements import Proposal, placements_propose
from tests.delivery.runs_support import enrol
from tests.factories import CohortFactory, UserFactory
from tests.placements.factories import (
    CAPE_TOWN,
    DURBAN,
    JOHANNESBURG,
    PRETORIA,
    OrganisationFactory,
    academic_year,
    preference,
    subject,
)
from tests.placements.search.support import cohort_needing_police_clearance, learner_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def year(institution):
    return academic_year("2027")


def _search(client, **query):
    return client.get("/placements/search/", query)


def test_near_a_learner_by_subject_nearest_first_with_distance_and_free_places(
    admin, admin_client, year
):
    learner = learner_in(admin, cohort_needing_police_clearance(), "Thabo Mokoena", JOHANNESBURG)
    here = OrganisationFactory(name="Joburg High")
    preference(here, year, places={("MATH", "secondary"): 3})
    pretoria = OrganisationFactory(
        name="Pretoria High", latitude=PRETORIA[0], longitude=PRETORIA[1]
    )
    preference(pretoria, year, appetite=Appetite.UNSURE, places={("MATH", "secondary"): 1})
    no_maths = OrganisationFactory(name="Art School")
    preference(no_maths, year, places={("ARTS", "secondary"): 4})
    durban = OrganisationFactory(name="Durban High", latitude=DURBAN[0], longitude=DURBAN[1])
    preference(durban, year, places={("MATH", "secondary"): 2})

    response = _search(
        admin_client,
        learner_name="Mokoena",
        radius_km=100,
        academic_year=year.pk,
        subject=subject("MATH").pk,
    )

    assert response.status_code == 200
    organisations = list(response.context["page"].object_list)
    assert [o.name for o in organisations] == ["Joburg High", "Pretoria High"]
    assert [o.places_free for o in organisations] == [3, 1]
    text = response.content.decode()
    assert "Thabo Mokoena&#x27;s home" in text
    assert f"{organisations[1].distance_km:.1f} km" in text
    assert 50 < organisations[1].distance_km < 60
    create_url = reverse("placements:placement_create")
    assert f"{create_url}?learner={learner.pk}&amp;organisation={here.pk}" in text


def test_a_point_with_appetite_and_phase_filters(admin_client, year):
    keen = OrganisationFactory(name="Keen Primary")
    preference(keen, year, places={("FP", "primary"): 2})
    unsure = OrganisationFactory(name="Unsure Primary")
    preference(unsure, year, appetite=Appetite.UNSURE, places={("FP", "primary"): 2})
    secondary = OrganisationFactory(name="Keen Secondary")
    preference(secondary, year, places={("ENG", "secondary"): 2})
    OrganisationFactory(name="Cape School", latitude=CAPE_TOWN[0], longitude=CAPE_TOWN[1])

    response = _search(
        admin_client,
        latitude=JOHANNESBURG[0],
        longitude=JOHANNESBURG[1],
        appetite=[Appetite.INTERESTED],
        phase="primary",
    )

    assert [o.name for o in response.context["page"].object_list] == ["Keen Primary"]
    everyone = _search(admin_client, latitude=JOHANNESBURG[0], longitude=JOHANNESBURG[1])
    names = {o.name for o in everyone.context["page"].object_list}
    # The default radius (25 km) leaves Cape Town out; without filters every answer is kept.
    assert names == {"Keen Primary", "Unsure Primary", "Keen Secondary"}


def test_results_are_paginated(admin_client, year):
    for number in range(30):
        OrganisationFactory(name=f"School {number:02d}", latitude=JOHANNESBURG[0] + number / 1000)
    query = {"latitude": JOHANNESBURG[0], "longitude": JOHANNESBURG[1]}

    first = _search(admin_client, **query)
    second = _search(admin_client, **query, page=2)

    assert len(first.context["page"].object_list) == 25
    assert [o.name for o in second.context["page"].object_list] == [
        f"School {n}" for n in range(25, 30)
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"latitude": "100", "longitude": "28"}, "less than or equal to 90"),
        ({"latitude": "north", "longitude": "28"}, "Enter the latitude as a number"),
        ({"latitude": "-26"}, "enter both a latitude and a longitude"),
        ({}, "Choose a learner, or enter both"),
        ({"latitude": "-26", "longitude": "28", "radius_km": "600"}, "at most 500 km"),
        ({"latitude": "-26", "longitude": "28", "radius_km": "0"}, "at least 1 km"),
        ({"learner_name": "Nobody Here"}, "name contains “Nobody Here”"),
    ],
)
def test_a_bad_centre_or_radius_is_refused_with_a_message(admin_client, year, query, message):
    response = _search(admin_client, **query, phase="")

    assert response.status_code == 400
    assert response.context["page"] is None
    assert message in response.content.decode()


def test_a_learner_without_usable_coordinates_is_named_not_guessed(admin, admin_client, year):
    cohort = cohort_needing_police_clearance()
    nowhere = learner_in(admin, cohort, "Ayesha Nowhere")
    stale = learner_in(admin, cohort, "Pieter Stale", JOHANNESBURG, geocode_status="stale")
    OrganisationFactory(name="Joburg High")

    missing = _search(admin_client, learner=nowhere.pk)
    flagged = _search(admin_client, learner=stale.pk)

    assert "Cannot search around Ayesha Nowhere&#x27;s home. The learner has no home address" in (
        missing.content.decode()
    )
    assert "The learner&#x27;s address changed since it was looked up" in flagged.content.decode()
    assert missing.context["page"] is None
    assert flagged.context["page"] is None
    assert reverse("placements:learner_location", args=[stale.pk]) in flagged.content.decode()
    assert LearnerLocation.objects.get(learner=stale).latitude == JOHANNESBURG[0]


def test_several_learners_of_a_name_are_offered_to_choose(admin, admin_client, year):
    cohort = cohort_needing_police_clearance()
    learner_in(admin, cohort, "Sipho Dlamini", JOHANNESBURG)
    learner_in(admin, cohort, "Sipho Nkosi", PRETORIA)

    response = _search(admin_client, learner_name="Sipho")

    assert response.status_code == 400
    assert [c.full_name for c in response.context["form"].candidates] == [
        "Sipho Dlamini",
        "Sipho Nkosi",
    ]
    assert "Several learners match" in response.content.decode()


def test_the_search_needs_the_permission(client_of, year):
    response = client_of(UserFactory(roles=[SystemRole.ORGANISATION_MEMBER])).get(
        "/placements/search/", {"latitude": "-26"}
    )

    assert response.status_code == 404


def test_a_learner_chosen_from_the_list_is_kept_until_the_name_changes(admin, admin_client, year):
    cohort = cohort_needing_police_clearance()
    learner_in(admin, cohort, "Sipho Dlamini", JOHANNESBURG)
    nkosi = learner_in(admin, cohort, "Sipho Nkosi", PRETORIA)
    learner_in(admin, cohort, "Thandi Mokoena", DURBAN)

    chosen = _search(admin_client, learner_name="Sipho", learner=nkosi.pk)
    changed = _search(admin_client, learner_name="Mokoena", learner=nkosi.pk)

    assert chosen.context["centre_label"] == "Sipho Nkosi's home"
    assert changed.context["centre_label"] == "Thandi Mokoena's home"


def _reads(client, **query) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = _search(client, **query)
    assert response.status_code == 200
    # The tenant connection sets its search path before a query: count the reads alone.
    return sum(not q["sql"].startswith("SET search_path") for q in captured.captured_queries)


def test_the_results_page_reads_as_much_for_twenty_organisations_as_for_two(admin_client, year):
    query = {
        "latitude": JOHANNESBURG[0],
        "longitude": JOHANNESBURG[1],
        "subject": subject("MATH").pk,
        "academic_year": year.pk,
    }
    for _ in range(2):
        preference(OrganisationFactory(), year, places={("MATH", "secondary"): 1})
    few = _reads(admin_client, **query)
    for _ in range(18):
        preference(OrganisationFactory(), year, places={("MATH", "secondary"): 1})

    assert _reads(admin_client, **query) == few


def _propose_query(url: str) -> dict[str, str]:
    path, _, query = url.partition("?")
    assert path == reverse("placements:placement_create")
    return dict(pair.split("=") for pair in query.split("&"))


def test_a_broad_subject_shows_and_proposes_the_subjects_under_it_that_are_offered(
    admin, admin_client, year
):
    cohort = cohort_needing_police_clearance()
    learner = learner_in(admin, cohort, "Thabo Mokoena", JOHANNESBURG)
    both = OrganisationFactory(name="Science High")
    preference(both, year, places={("PHYS", "secondary"): 2, ("LIFESCI", "secondary"): 1})
    physics = OrganisationFactory(name="Physics Academy")
    preference(physics, year, places={("PHYS", "secondary"): 1, ("MATH", "secondary"): 4})

    response = _search(
        admin_client, learner=learner.pk, academic_year=year.pk, subject=subject("SCI").pk
    )

    organisations = {o.name: o for o in response.context["page"].object_list}
    assert set(organisations) == {"Science High", "Physics Academy"}
    science = organisations["Science High"]
    assert [(o.subject.code, o.places_free) for o in science.offers] == [
        ("LIFESCI", 1),
        ("PHYS", 2),
    ]
    assert science.places_free == 3
    assert [(o.subject.code, o.places_free) for o in organisations["Physics Academy"].offers] == [
        ("PHYS", 1)
    ]
    # Each link proposes the subject offered (places are counted per subject), in the
    # learner's only cohort.
    assert _propose_query(science.offers[1].propose_url) == {
        "learner": str(learner.pk),
        "organisation": str(both.pk),
        "subject": str(subject("PHYS").pk),
        "academic_year": str(year.pk),
        "cohort": str(cohort.pk),
    }
    text = response.content.decode()
    assert "Physical sciences: 2 free" in text
    assert "Life sciences: 1 free" in text


def test_a_taken_place_is_counted_in_the_subject_under_the_broad_one(admin, admin_client, year):
    cohort = cohort_needing_police_clearance()
    placed = learner_in(admin, cohort, "Lerato Placed", JOHANNESBURG)
    school = OrganisationFactory(name="Science High")
    preference(school, year, places={("PHYS", "secondary"): 2})
    taken = placements_propose(
        actor=admin,
        proposals=[
            Proposal(
                learner=placed,
                organisation=school,
                academic_year=year,
                subject=subject("PHYS"),
                starts_on=year.starts_on,
                ends_on=year.ends_on,
                cohort=cohort,
            )
        ],
    )[0]
    Placement.objects.filter(pk=taken.pk).update(status=PlacementStatus.CONFIRMED)

    response = _search(
        admin_client,
        latitude=JOHANNESBURG[0],
        longitude=JOHANNESBURG[1],
        academic_year=year.pk,
        subject=subject("SCI").pk,
    )

    (found,) = response.context["page"].object_list
    assert [(o.subject.code, o.places_free) for o in found.offers] == [("PHYS", 1)]
    # Around a point there is no learner to propose for.
    assert found.offers[0].propose_url is None


def test_the_cohort_is_left_to_choose_when_the_learner_has_two_open_enrolments(
    admin, admin_client, year
):
    learner = learner_in(admin, cohort_needing_police_clearance(), "Thabo Mokoena", JOHANNESBURG)
    again = enrol(admin, CohortFactory(active=True), full_name="Thabo Mokoena", email=learner.email)
    assert again.learner == learner
    preference(OrganisationFactory(), year, places={("MATH", "secondary"): 1})

    response = _search(
        admin_client, learner=learner.pk, academic_year=year.pk, subject=subject("MATH").pk
    )

    (found,) = response.context["page"].object_list
    assert "cohort" not in _propose_query(found.offers[0].propose_url)
