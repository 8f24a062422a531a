"""Where a learner lives, as the distance search needs it: a point, or a sentence saying why
there is none (and what to do), so that a page can link to the learner's location page
(placements:learner_location) instead of guessing."""

from learners.models import Learner
from placements.geocoding import address_hash
from placements.models import GeocodeStatus, LearnerLocation
from placements.selectors.distance import Point
from placements.services.geocoding import learner_address

NO_ADDRESS = "The learner has no home address: enter one, or enter the coordinates."
NOT_LOOKED_UP = (
    "The learner's address has not been looked up: look it up, or enter the coordinates."
)
ADDRESS_CHANGED = (
    "The learner's address changed since it was looked up: look it up again, or enter the "
    "coordinates."
)
WAITING = "The learner's address is being looked up: try again in a minute."


def learner_location(learner: Learner) -> LearnerLocation | None:
    return LearnerLocation.objects.filter(learner=learner).first()


def learner_point(
    learner: Learner, location: LearnerLocation | None = None
) -> tuple[Point | None, str]:
    """The point to search around and how it was got ("Entered by hand", "Looked up from the
    address"), or None and why not: no address, never looked up, being looked up, not found,
    or the address changed since the lookup (then the old coordinates are not used: they may
    be of a home the learner left). `location` saves the query when the caller has it."""
    location = location if location is not None else learner_location(learner)
    address = learner_address(learner)
    status = location.geocode_status if location is not None else GeocodeStatus.NONE
    if location is not None and location.latitude is not None and location.longitude is not None:
        point = Point(location.latitude, location.longitude)
        if status == GeocodeStatus.ENTERED:
            return point, str(GeocodeStatus.ENTERED.label)
        if status in (GeocodeStatus.FOUND, GeocodeStatus.IMPORTED):
            if location.geocoded_address_hash == address_hash(address):
                return point, str(GeocodeStatus(status).label)
            return None, ADDRESS_CHANGED
        if status == GeocodeStatus.STALE:
            return None, ADDRESS_CHANGED
    if status in (GeocodeStatus.PENDING, GeocodeStatus.STALE):
        return None, WAITING
    if status == GeocodeStatus.FAILED and location is not None:
        if location.geocoded_address_hash == address_hash(address):
            return None, (
                f"The learner's address could not be found ({location.geocode_error}): correct "
                "it, or enter the coordinates."
            )
        return None, ADDRESS_CHANGED
    return None, NO_ADDRESS if not address else NOT_LOOKED_UP
