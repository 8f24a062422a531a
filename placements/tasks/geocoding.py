"""Looking addresses up for coordinates (placements.services.geocoding queues these when an
address changes or someone asks). The geocoder is asked outside any transaction; the answer
is written by the service, which checks again that the record still waits for that address.
A geocoder that cannot be reached leaves the record waiting: the sweep asks again."""

import logging

from celery import shared_task
from django_tenants.utils import get_public_schema_name, schema_context

from placements.geocoding import Coordinates, GeocodeFailed, configured_geocoder
from placements.models import LearnerLocation, Organisation
from placements.services.geocoding import (
    WAITING,
    located_address,
    located_lookup_record,
    located_with_address,
)
from tenants.db import tenant_connection
from tenants.selectors import schema_names_for_background_work

logger = logging.getLogger(__name__)

# Lookups the sweep queues per institution each time: a public geocoder answers about one a
# second, and the sweep runs every ten minutes.
SWEEP_BATCH = 300


def _lookup(model: type[Organisation] | type[LearnerLocation], pk: int) -> str:
    located = located_with_address(model).filter(pk=pk, geocode_status__in=WAITING).first()
    if located is None:
        return "not waiting"
    geocoder = configured_geocoder()
    if geocoder is None:
        return "no geocoder"
    address = located_address(located)
    found: Coordinates | None = None
    failure: GeocodeFailed | None = None
    try:
        if not address:
            raise GeocodeFailed("There is no address to look up.")
        found = geocoder.lookup(address)
    except GeocodeFailed as error:
        if error.retry:
            logger.warning("Lookup of %s %s failed, will retry: %s", model.__name__, pk, error)
        failure = error
    return located_lookup_record(model=model, pk=pk, address=address, found=found, failure=failure)


@shared_task(name="placements.geocode_organisation")
def geocode_organisation(organisation_id: int) -> str:
    """Look up an organisation's address. Idempotent: one that no longer waits is left alone."""
    return _lookup(Organisation, organisation_id)


@shared_task(name="placements.geocode_learner_location")
def geocode_learner_location(location_id: int) -> str:
    """Look up a learner's home address. Idempotent, as geocode_organisation."""
    return _lookup(LearnerLocation, location_id)


@shared_task(name="placements.geocode_sweep")
def geocode_sweep() -> int:
    """Queue a lookup again for this institution's records that still wait (the geocoder was
    down, or a task was lost), oldest changes first. Does nothing without a geocoder."""
    if tenant_connection.schema_name == get_public_schema_name() or configured_geocoder() is None:
        return 0
    organisations = list(
        Organisation.objects.filter(geocode_status__in=WAITING)
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    locations = list(
        LearnerLocation.objects.filter(geocode_status__in=WAITING)
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)[: SWEEP_BATCH - len(organisations)]
    )
    for pk in organisations:
        geocode_organisation.delay(pk)
    for pk in locations:
        geocode_learner_location.delay(pk)
    return len(organisations) + len(locations)


@shared_task(name="placements.geocode_sweep_all_institutions")
def geocode_sweep_all_institutions() -> None:
    """Beat entry point: one sweep per active institution."""
    if configured_geocoder() is None:
        return
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            geocode_sweep.delay()
