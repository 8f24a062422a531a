"""Coordinates looked up from an address, for organisations and for learners' homes (both
`Located`). A changed address flags what was looked up before (STALE) or marks the record as
waiting (PENDING), and queues a lookup after the change commits; the lookup's answer is written
here. Never guessed: an address the geocoder does not find leaves no coordinates, not even
those of an older address; coordinates entered by hand are replaced only when someone asks for
a lookup.

The lookup itself (HTTP) runs in placements.tasks.geocoding, outside any transaction; what it
found is written by `located_lookup_record`, which checks again under a lock that the record
still waits for that address."""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from learners.models import Learner
from placements.geocoding import Coordinates, GeocodeFailed, address_hash
from placements.models import GeocodeStatus, LearnerLocation, Located, Organisation

MANAGE_ORGANISATIONS = "placements.manage_organisations"
# Who may see, look up or enter a learner's home coordinates: only those who place learners
# (and so search near their homes). Managing host organisations gives no sight of learners.
LOCATE_LEARNERS = ("placements.manage_placements",)
# Records a lookup is waiting for: the task and the sweep take only these.
WAITING = (GeocodeStatus.PENDING, GeocodeStatus.STALE)
# Coordinates that belong to the address they were got for: a new address makes them stale.
FROM_AN_ADDRESS = (GeocodeStatus.FOUND, GeocodeStatus.IMPORTED, *WAITING)
NO_GEOCODER = "No geocoder is configured: enter the coordinates by hand."


def geocoder_configured() -> bool:
    return bool(settings.GEOCODER_URL)


def learner_address(learner: Learner) -> str:
    """The learner's home address as a geocoder reads it ("" when there is none)."""
    parts = [
        learner.address_line1,
        learner.address_line2,
        learner.city,
        learner.province,
        learner.postal_code,
    ]
    lines = [part.strip() for part in parts if part.strip()]
    return ", ".join([*lines, learner.country] if lines and learner.country else lines)


def organisation_address(organisation: Organisation) -> str:
    address = getattr(organisation, "address", None)
    return address.one_line if address is not None else ""


def located_address(located: Located) -> str:
    """The address `located`'s coordinates are looked up from."""
    if isinstance(located, LearnerLocation):
        return learner_address(located.learner)
    assert isinstance(located, Organisation)
    return organisation_address(located)


def located_address_changed(located: Located) -> list[str]:
    """Call with `located` locked, in the transaction that changed its address: coordinates got
    from the old address are flagged STALE (kept, so that people still see roughly where, until
    the lookup answers), a record without coordinates waits (PENDING) when a geocoder is
    configured, and the lookup is queued on commit. Entered coordinates stay as they are. The
    fields changed, for the caller's save."""
    if located.geocode_status == GeocodeStatus.ENTERED:
        return []
    fields = ["latitude", "longitude", "geocode_status", "geocode_error"]
    before = [getattr(located, name) for name in fields]
    if not located_address(located):
        # No address left: nothing to look up, and nothing may stand for the old one.
        if located.geocode_status in FROM_AN_ADDRESS:
            located.latitude = located.longitude = None
        if not located.has_coordinates:
            located.geocode_status = GeocodeStatus.NONE
    elif located.has_coordinates and located.geocode_status in FROM_AN_ADDRESS:
        located.geocode_status = GeocodeStatus.STALE
    elif not located.has_coordinates:
        located.geocode_status = (
            GeocodeStatus.PENDING if geocoder_configured() else GeocodeStatus.NONE
        )
    located.geocode_error = ""
    if geocoder_configured() and located.geocode_status in WAITING:
        _lookup_queue(located)
    return [name for name, old in zip(fields, before, strict=True) if getattr(located, name) != old]


def located_lookup_ask(located: Located) -> list[str]:
    """Call with `located` locked: look its address up again, whatever its coordinates are
    (entered ones included: someone asked). Refused without a geocoder or an address."""
    if not geocoder_configured():
        raise ValidationError(NO_GEOCODER, code="no_geocoder")
    if not located_address(located):
        raise ValidationError(
            "There is no address to look up: add the address first.", code="no_address"
        )
    located.geocode_status = (
        GeocodeStatus.STALE if located.has_coordinates else GeocodeStatus.PENDING
    )
    located.geocode_error = ""
    _lookup_queue(located)
    return ["geocode_status", "geocode_error"]


def located_coordinates_enter(
    located: Located, latitude: float | None, longitude: float | None
) -> list[str]:
    """Call with `located` locked: coordinates given by hand (ENTERED), or none (both None)."""
    if (latitude is None) != (longitude is None):
        raise ValidationError("Give both the latitude and the longitude, or neither.")
    located.latitude, located.longitude = latitude, longitude
    located.geocode_status = GeocodeStatus.ENTERED if latitude is not None else GeocodeStatus.NONE
    located.geocoded_at = None
    located.geocode_error = ""
    located.geocoded_address_hash = ""
    located.full_clean(
        exclude=[
            f.name for f in type(located)._meta.fields if f.name not in ("latitude", "longitude")
        ],
        validate_constraints=False,
    )
    return [
        "latitude",
        "longitude",
        "geocode_status",
        "geocoded_at",
        "geocode_error",
        "geocoded_address_hash",
    ]


def located_coordinates_import(located: Located, coordinates: Coordinates) -> list[str]:
    """Coordinates from a register's extract, for the address given with them (IMPORTED)."""
    located.latitude, located.longitude = coordinates.latitude, coordinates.longitude
    located.geocode_status = GeocodeStatus.IMPORTED
    located.geocoded_at = timezone.now()
    located.geocode_error = ""
    located.geocoded_address_hash = address_hash(located_address(located))
    return [
        "latitude",
        "longitude",
        "geocode_status",
        "geocoded_at",
        "geocode_error",
        "geocoded_address_hash",
    ]


def located_with_address(
    model: type[Organisation] | type[LearnerLocation],
) -> QuerySet[Any]:
    """`model`'s rows with what their address is read from."""
    if model is LearnerLocation:
        return LearnerLocation.objects.select_related("learner")
    return Organisation.objects.select_related("address")


def _lookup_queue(located: Located) -> None:
    from placements.tasks.geocoding import geocode_learner_location, geocode_organisation

    if isinstance(located, LearnerLocation):
        geocode_learner_location.delay_on_commit(located.pk)
    else:
        geocode_organisation.delay_on_commit(located.pk)


def _audited(located: Located) -> dict[str, object]:
    """What a lookup's event records: a learner's home is personal, so only how it stands."""
    values: dict[str, object] = {"geocode_status": located.geocode_status}
    if isinstance(located, Organisation):
        values |= {"latitude": located.latitude, "longitude": located.longitude}
    return values


def located_lookup_record(
    *,
    model: type[Organisation] | type[LearnerLocation],
    pk: int,
    address: str,
    found: Coordinates | None = None,
    failure: GeocodeFailed | None = None,
) -> str:
    """Write what the geocoder answered for `address`: FOUND with the coordinates, or FAILED
    with the reason and no coordinates; a failure worth retrying (the geocoder down) leaves the
    record waiting for the sweep, with the reason shown. Nothing is written if the record no
    longer waits, or its address changed since the lookup began (that change queued its own).
    Returns the status written, or why nothing was."""
    with transaction.atomic(durable=True):
        located = located_with_address(model).select_for_update(of=("self",)).filter(pk=pk).first()
        if located is None or located.geocode_status not in WAITING:
            return "not waiting"
        if located_address(located) != address:
            return "address changed"
        if failure is not None and failure.retry:
            located.geocode_error = f"{failure.reason} It is tried again every few minutes."
            located.save(update_fields=["geocode_error"])
            return "retry"
        if failure is not None:
            located.latitude = located.longitude = None
            located.geocode_status = GeocodeStatus.FAILED
            located.geocode_error = failure.reason
            located.geocoded_address_hash = address_hash(address)
        else:
            assert found is not None
            located.latitude, located.longitude = found.latitude, found.longitude
            located.geocode_status = GeocodeStatus.FOUND
            located.geocode_error = ""
            located.geocoded_address_hash = address_hash(address)
        located.geocoded_at = timezone.now()
        located.save(
            update_fields=[
                "latitude",
                "longitude",
                "geocode_status",
                "geocode_error",
                "geocoded_address_hash",
                "geocoded_at",
            ]
        )
        audit_record(
            actor=None,
            action=f"{model._meta.model_name}.geocoded",
            entity=located,
            new_values=_audited(located),
        )
        return str(located.geocode_status)


def _learner_location_locked(learner: Learner) -> LearnerLocation:
    LearnerLocation.objects.get_or_create(learner=learner)
    return (
        LearnerLocation.objects.select_for_update(of=("self",))
        .select_related("learner")
        .get(learner=learner)
    )


def learner_location_lookup(*, actor: User | None, learner: Learner) -> LearnerLocation:
    """Look the learner's home address up (queued; the page shows it waiting)."""
    permission_check(
        actor=actor, permission=LOCATE_LEARNERS, action="placements.learner_location_lookup"
    )
    with transaction.atomic(durable=True):
        location = _learner_location_locked(learner)
        changed = located_lookup_ask(location)
        location.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="learner_location.lookup_asked",
            entity=location,
            new_values=_audited(location),
        )
    return location


def learner_location_enter(
    *, actor: User | None, learner: Learner, latitude: float | None, longitude: float | None
) -> LearnerLocation:
    """Coordinates of the learner's home entered by hand (or cleared, with both None)."""
    permission_check(
        actor=actor, permission=LOCATE_LEARNERS, action="placements.learner_location_enter"
    )
    with transaction.atomic(durable=True):
        location = _learner_location_locked(learner)
        changed = located_coordinates_enter(location, latitude, longitude)
        location.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="learner_location.entered",
            entity=location,
            new_values=_audited(location),
        )
    return location
