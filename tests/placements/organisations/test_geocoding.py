"""Looking addresses up through the fake geocoder on loopback (tests.placements.fake_geocoder):
found, not found, the geocoder failing (the sweep asks again), an address changed, entered
coordinates kept; and the same for a learner's home."""

import time

import pytest
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from learners.models import Learner
from placements.geocoding import GeocodeFailed, HttpGeocoder, address_hash
from placements.models import GeocodeStatus, LearnerLocation, Organisation
from placements.selectors.distance import Point
from placements.selectors.locations import ADDRESS_CHANGED, learner_point
from placements.services.geocoding import (
    learner_location_enter,
    learner_location_lookup,
)
from placements.services.organisations import (
    organisation_address_set,
    organisation_coordinates_enter,
    organisation_create,
    organisation_lookup_ask,
)
from placements.tasks.geocoding import (
    geocode_sweep,
    geocode_sweep_all_institutions,
)
from tests.placements.factories import OrganisationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager")]

SOWETO = {"address_1": "12 Vilakazi Street", "town": "Soweto", "postcode": "1804"}
SOWETO_LINE = "12 Vilakazi Street, Soweto, 1804, ZA"
DURBAN = {"address_1": "1 Florida Road", "town": "Durban", "postcode": "4001"}
DURBAN_LINE = "1 Florida Road, Durban, 4001, ZA"


def _create(admin, capture, **fields) -> Organisation:
    with capture(execute=True):
        organisation = organisation_create(
            actor=admin,
            fields={"name": "Soweto Secondary", "school": True, **fields},
            address=SOWETO,
        )
    organisation.refresh_from_db()
    return organisation


def test_an_address_the_geocoder_knows_gets_its_coordinates(
    admin, geocoder, django_capture_on_commit_callbacks
):
    geocoder.add(SOWETO_LINE, -26.2385, 27.9085)

    organisation = _create(admin, django_capture_on_commit_callbacks)

    assert geocoder.asked == [SOWETO_LINE]
    assert organisation.geocode_status == GeocodeStatus.FOUND
    assert (organisation.latitude, organisation.longitude) == (-26.2385, 27.9085)
    assert organisation.geocoded_at is not None
    assert organisation.geocoded_address_hash == address_hash(SOWETO_LINE)
    event = AuditEvent.objects.get(action="organisation.geocoded", entity_id=organisation.pk)
    assert event.new_values["geocode_status"] == "found"


def test_an_address_not_found_fails_with_no_coordinates(
    admin, geocoder, django_capture_on_commit_callbacks
):
    organisation = _create(admin, django_capture_on_commit_callbacks)

    assert organisation.geocode_status == GeocodeStatus.FAILED
    assert not organisation.has_coordinates
    assert organisation.geocode_error == "The geocoder did not find this address."
    assert organisation.coordinates_flagged


def test_a_geocoder_error_leaves_it_waiting_and_the_sweep_asks_again(
    admin, geocoder, django_capture_on_commit_callbacks
):
    geocoder.add(SOWETO_LINE, -26.2385, 27.9085)
    geocoder.mode = "error"

    organisation = _create(admin, django_capture_on_commit_callbacks)

    assert organisation.geocode_status == GeocodeStatus.PENDING
    assert "The geocoder answered 500." in organisation.geocode_error
    assert not organisation.has_coordinates

    geocoder.mode = "answer"
    assert geocode_sweep.apply().get() == 1
    organisation.refresh_from_db()
    assert organisation.geocode_status == GeocodeStatus.FOUND
    assert organisation.geocode_error == ""
    assert geocode_sweep.apply().get() == 0  # nothing waits any more


def test_a_geocoder_that_hangs_is_given_up_on_and_tried_again(
    admin, geocoder, django_capture_on_commit_callbacks
):
    geocoder.mode = "hang"
    organisation = _create(admin, django_capture_on_commit_callbacks)
    assert organisation.geocode_status == GeocodeStatus.PENDING
    assert "could not be reached" in organisation.geocode_error


def test_a_huge_answer_is_refused_without_being_read_whole(geocoder):
    geocoder.add(SOWETO_LINE, -26.2385, 27.9085)
    geocoder.mode = "huge"
    with pytest.raises(GeocodeFailed) as failed:
        HttpGeocoder(geocoder.url, timeout=1.0).lookup(SOWETO_LINE)
    assert failed.value.reason == "The geocoder's answer was too large to read."
    assert failed.value.retry


def test_an_answer_dripped_out_slowly_is_given_up_on_at_the_deadline(
    admin, geocoder, django_capture_on_commit_callbacks
):
    geocoder.add(SOWETO_LINE, -26.2385, 27.9085)
    geocoder.mode = "drip"
    started = time.monotonic()
    organisation = _create(admin, django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 1.8  # the whole answer takes over two seconds
    assert organisation.geocode_status == GeocodeStatus.PENDING
    assert organisation.geocode_error.startswith("The geocoder took too long to answer.")
    assert not organisation.has_coordinates


def test_the_beat_sweep_runs_in_each_institution(
    admin, geocoder, django_capture_on_commit_callbacks
):
    geocoder.mode = "error"
    organisation = _create(admin, django_capture_on_commit_callbacks)
    geocoder.mode = "answer"
    geocoder.add(SOWETO_LINE, -26.2385, 27.9085)
    geocode_sweep_all_institutions.apply()
    organisation.refresh_from_db()
    assert organisation.geocode_status == GeocodeStatus.FOUND


def test_a_changed_address_makes_looked_up_coordinates_stale_until_looked_up(
    admin, geocoder, django_capture_on_commit_callbacks
):
    geocoder.add(SOWETO_LINE, -26.2385, 27.9085)
    organisation = _create(admin, django_capture_on_commit_callbacks)
    geocoder.mode = "error"

    with django_capture_on_commit_callbacks(execute=True):
        organisation_address_set(actor=admin, organisation=organisation, address=DURBAN)

    organisation.refresh_from_db()
    assert organisation.geocode_status == GeocodeStatus.STALE
    # Kept, flagged: the old address's coordinates, until the new one is looked up.
    assert organisation.latitude == -26.2385
    assert organisation.coordinates_flagged

    geocoder.mode = "answer"
    geocoder.add(DURBAN_LINE, -29.84, 31.03)
    geocode_sweep.apply()
    organisation.refresh_from_db()
    assert organisation.geocode_status == GeocodeStatus.FOUND
    assert (organisation.latitude, organisation.longitude) == (-29.84, 31.03)


def test_a_new_address_not_found_clears_the_old_addresses_coordinates(
    admin, geocoder, django_capture_on_commit_callbacks
):
    geocoder.add(SOWETO_LINE, -26.2385, 27.9085)
    organisation = _create(admin, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        organisation_address_set(actor=admin, organisation=organisation, address=DURBAN)
    organisation.refresh_from_db()
    assert organisation.geocode_status == GeocodeStatus.FAILED
    assert not organisation.has_coordinates


def test_without_a_geocoder_a_changed_address_only_flags_the_coordinates(admin, settings):
    settings.GEOCODER_URL = ""
    organisation = OrganisationFactory(geocode_status=GeocodeStatus.FOUND)
    organisation_address_set(actor=admin, organisation=organisation, address=DURBAN)
    organisation.refresh_from_db()
    assert organisation.geocode_status == GeocodeStatus.STALE
    with pytest.raises(ValidationError, match="No geocoder is configured"):
        organisation_lookup_ask(actor=admin, organisation=organisation)


def test_entered_coordinates_stay_until_a_lookup_is_asked_for(
    admin, geocoder, django_capture_on_commit_callbacks
):
    geocoder.add(DURBAN_LINE, -29.84, 31.03)
    organisation = OrganisationFactory(latitude=-26.0, longitude=28.0)
    organisation_coordinates_enter(
        actor=admin, organisation=organisation, latitude=-26.0, longitude=28.0
    )
    with django_capture_on_commit_callbacks(execute=True):
        organisation_address_set(actor=admin, organisation=organisation, address=DURBAN)
    organisation.refresh_from_db()
    assert organisation.geocode_status == GeocodeStatus.ENTERED
    assert geocoder.asked == []

    with django_capture_on_commit_callbacks(execute=True):
        organisation_lookup_ask(actor=admin, organisation=organisation)

    organisation.refresh_from_db()
    assert organisation.geocode_status == GeocodeStatus.FOUND
    assert (organisation.latitude, organisation.longitude) == (-29.84, 31.03)


def test_coordinates_entered_while_a_lookup_runs_are_not_overwritten(
    admin, geocoder, django_capture_on_commit_callbacks
):
    geocoder.add(DURBAN_LINE, -29.84, 31.03)
    organisation = OrganisationFactory()
    organisation_address_set(actor=admin, organisation=organisation, address=DURBAN)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        organisation_lookup_ask(actor=admin, organisation=organisation)
    organisation_coordinates_enter(
        actor=admin, organisation=organisation, latitude=-29.0, longitude=31.0
    )
    for callback in queued:
        callback()
    organisation.refresh_from_db()
    assert organisation.geocode_status == GeocodeStatus.ENTERED
    assert organisation.latitude == -29.0


def _learner(**address) -> Learner:
    return Learner.objects.create(
        first_name="Sipho",
        last_name="Mokoena",
        address_line1="5 Ngwenya Street",
        city="Soweto",
        postal_code="1804",
        **address,
    )


LEARNER_LINE = "5 Ngwenya Street, Soweto, 1804, ZA"


def test_a_learners_home_is_looked_up_and_gives_the_search_its_point(
    admin, geocoder, django_capture_on_commit_callbacks
):
    learner = _learner()
    assert learner_point(learner) == (
        None,
        "The learner's address has not been looked up: look it up, or enter the coordinates.",
    )
    geocoder.add(LEARNER_LINE, -26.25, 27.89)

    with django_capture_on_commit_callbacks(execute=True):
        learner_location_lookup(actor=admin, learner=learner)

    location = LearnerLocation.objects.get(learner=learner)
    assert location.geocode_status == GeocodeStatus.FOUND
    assert learner_point(learner) == (Point(-26.25, 27.89), "Looked up from the address")
    event = AuditEvent.objects.get(action="learnerlocation.geocoded", entity_id=location.pk)
    assert "latitude" not in event.new_values  # a home is personal

    learner.city = "Durban"
    learner.save()
    assert learner_point(learner) == (None, ADDRESS_CHANGED)


def test_a_learners_home_not_found_or_without_an_address(
    admin, geocoder, django_capture_on_commit_callbacks
):
    learner = _learner()
    with django_capture_on_commit_callbacks(execute=True):
        learner_location_lookup(actor=admin, learner=learner)
    point, why = learner_point(learner)
    assert point is None
    assert why.startswith("The learner's address could not be found")

    homeless = Learner.objects.create(first_name="No", last_name="Address", country="ZA")
    assert learner_point(homeless)[1].startswith("The learner has no home address")
    with pytest.raises(ValidationError, match="no address to look up"):
        learner_location_lookup(actor=admin, learner=homeless)


def test_a_learners_coordinates_entered_by_hand(admin):
    learner = _learner()
    learner_location_enter(actor=admin, learner=learner, latitude=-26.2, longitude=27.9)
    assert learner_point(learner) == (Point(-26.2, 27.9), "Entered by hand")
