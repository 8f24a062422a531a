"""Host organisations and what is known of them: the organisation itself (linked to its Sponsor
when it also funds cohorts, never a copy of it), its address, details, contacts and
coordinates, and whether it still hosts learners. Every change checks
`placements.manage_organisations`, runs in one transaction and writes its audit event; a
changed address flags or looks up the coordinates (placements.services.geocoding)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.template.defaultfilters import pluralize

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from placements.models import (
    ADDRESS_FIELDS,
    OPEN_PLACEMENT_STATUSES,
    Organisation,
    OrganisationAddress,
    OrganisationContact,
    OrganisationDetail,
    Placement,
)
from placements.selectors.organisations import organisation_open_placements
from placements.services.geocoding import (
    MANAGE_ORGANISATIONS,
    located_address_changed,
    located_coordinates_enter,
    located_lookup_ask,
    organisation_address,
)
from sponsors.models import Sponsor

ORGANISATION_FIELDS = (
    "name",
    "urn",
    "ukprn",
    "code",
    "email_address",
    "phone",
    "school",
    "provider",
    "employer",
    "sponsor",
)
DETAIL_FIELDS = ("phase", "pupil_count", "employee_count", "sector", "website")
CONTACT_FIELDS = ("first_name", "last_name", "email_address", "phone", "role")
TEXT_FIELDS = frozenset(
    {
        "name",
        "urn",
        "ukprn",
        "code",
        "email_address",
        "phone",
        *ADDRESS_FIELDS,
        "sector",
        "website",
        *CONTACT_FIELDS,
    }
)


def _check(actor: User | None, action: str) -> None:
    permission_check(actor=actor, permission=MANAGE_ORGANISATIONS, action=f"placements.{action}")


def _tidy(values: dict[str, Any]) -> dict[str, Any]:
    """Text without surrounding spaces, codes as given otherwise; the country in capitals."""
    tidy = {
        name: value.strip() if name in TEXT_FIELDS and isinstance(value, str) else value
        for name, value in values.items()
    }
    if tidy.get("country"):
        tidy["country"] = tidy["country"].upper()
    return tidy


def _apply(obj: Model, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Set `values` on `obj`; the (old, new) of each field that changed."""
    changes = {}
    for name, value in values.items():
        old = getattr(obj, name)
        if old != value:
            changes[name] = (old, value)
            setattr(obj, name, value)
    return changes


def _validated(obj: Model, changed: list[str]) -> None:
    """The model's own rules for the changed fields, then its unique constraints (a URN or code
    another organisation has), each message under its field."""
    obj.full_clean(
        exclude=[f.name for f in obj._meta.fields if f.name not in changed],
        validate_unique=False,
        validate_constraints=False,
    )
    try:
        obj.validate_constraints()
    except ValidationError as error:
        raise _named(error) from None


def _named(error: ValidationError) -> ValidationError:
    """A unique constraint's refusal in words, under its field: which value another
    organisation has."""
    messages = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    named: dict[str, list[str]] = {}
    for name, texts in messages.items():
        for text in texts:
            if "organisation_urn_unique" in text:
                named.setdefault("urn", []).append("Another organisation has this URN.")
            elif "organisation_code_unique_ci" in text:
                named.setdefault("code", []).append("Another organisation has this code.")
            else:
                named.setdefault(name, []).append(text)
    return ValidationError(named)


def _audit_values(changes: dict[str, tuple[Any, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    def plain(value: Any) -> Any:
        return value.pk if isinstance(value, Model) else value

    return (
        {name: plain(old) for name, (old, _new) in changes.items()},
        {name: plain(new) for name, (_old, new) in changes.items()},
    )


def _sponsor_check(sponsor: Sponsor | None, organisation: Organisation | None) -> None:
    if sponsor is None:
        return
    linked = Organisation.objects.filter(sponsor=sponsor)
    if organisation is not None:
        linked = linked.exclude(pk=organisation.pk)
    other = linked.first()
    if other is not None:
        raise ValidationError(
            {
                "sponsor": f"{sponsor} is already linked to {other.name}: an organisation and a "
                "sponsor are linked one to one. Unlink it there first."
            }
        )


def _kind_check(values: dict[str, Any]) -> None:
    if not (values.get("school") or values.get("provider") or values.get("employer")):
        raise ValidationError(
            "Say what the organisation is: a school, a training provider or an employer (or "
            "several)."
        )


def organisation_create(
    *,
    actor: User | None,
    fields: dict[str, Any],
    address: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Organisation:
    """A new organisation (`fields` as ORGANISATION_FIELDS), with its address and details if
    given. Coordinates given are ENTERED; without them the address is looked up when a
    geocoder is configured. A sponsor already linked to another organisation is refused."""
    _check(actor, "organisation_create")
    fields = _tidy({name: fields[name] for name in ORGANISATION_FIELDS if name in fields})
    _kind_check(fields)
    with transaction.atomic(durable=True):
        _sponsor_check(fields.get("sponsor"), None)
        organisation = Organisation(created_by=actor, **fields)
        _validated(organisation, list(fields))
        coordinates = []
        if latitude is not None or longitude is not None:
            coordinates = located_coordinates_enter(organisation, latitude, longitude)
        organisation.save()
        _, new = _audit_values({name: (None, getattr(organisation, name)) for name in fields})
        if coordinates:
            new |= {"latitude": latitude, "longitude": longitude, "geocode_status": "entered"}
        audit_record(
            actor=actor, action="organisation.created", entity=organisation, new_values=new
        )
        if address is not None:
            _address_save(actor, organisation, address)
        if detail is not None:
            _detail_save(actor, organisation, detail)
    return organisation


def _locked(organisation: Organisation) -> Organisation:
    return (
        Organisation.objects.select_for_update(of=("self",))
        .select_related("address", "sponsor")
        .get(pk=organisation.pk)
    )


def organisation_update(
    *, actor: User | None, organisation: Organisation, fields: dict[str, Any]
) -> list[str]:
    """Change the organisation's own fields (ORGANISATION_FIELDS given); the names changed."""
    _check(actor, "organisation_update")
    fields = _tidy({name: fields[name] for name in ORGANISATION_FIELDS if name in fields})
    with transaction.atomic(durable=True):
        organisation = _locked(organisation)
        _kind_check({kind: fields.get(kind, getattr(organisation, kind))
                     for kind in ("school", "provider", "employer")})  # fmt: skip
        _sponsor_check(fields.get("sponsor"), organisation)
        changes = _apply(organisation, fields)
        if not changes:
            return []
        _validated(organisation, list(changes))
        try:
            with transaction.atomic():
                organisation.save(update_fields=[*changes, "updated_at"])
        except IntegrityError:  # a sponsor linked elsewhere between the check and the save
            raise ValidationError(
                {"sponsor": "That sponsor was just linked to another organisation."}
            ) from None
        old, new = _audit_values(changes)
        audit_record(
            actor=actor,
            action="organisation.changed",
            entity=organisation,
            old_values=old,
            new_values=new,
        )
    return list(changes)


def _address_save(
    actor: User | None,
    organisation: Organisation,
    values: dict[str, Any],
    *,
    relocate: bool = True,
) -> bool:
    """Save the address; a changed one flags or looks up the coordinates unless `relocate` is
    off (the caller gives coordinates for the new address itself)."""
    values = _tidy({name: values.get(name, "") for name in ADDRESS_FIELDS})
    values["country"] = values["country"] or "ZA"
    address = OrganisationAddress.objects.filter(organisation=organisation).first()
    created = address is None
    address = address or OrganisationAddress(organisation=organisation)
    before = organisation_address(organisation) if not created else ""
    changes = _apply(address, values)
    if not changes and not created:
        return False
    address.full_clean(exclude=["organisation"])
    address.save()
    organisation.address = address
    old, new = _audit_values(changes)
    audit_record(
        actor=actor,
        action="organisation.address_changed",
        entity=organisation,
        old_values=old,
        new_values=new,
    )
    if relocate and organisation_address(organisation) != before:
        changed = located_address_changed(organisation)
        if changed:
            organisation.save(update_fields=[*changed, "updated_at"])
    return True


def organisation_address_set(
    *, actor: User | None, organisation: Organisation, address: dict[str, Any]
) -> bool:
    """Set the postal address (ADDRESS_FIELDS; country "ZA" unless given). A changed address
    makes looked-up coordinates stale and is looked up again when a geocoder is configured;
    entered coordinates stay. Whether anything changed."""
    _check(actor, "organisation_address_set")
    with transaction.atomic(durable=True):
        return _address_save(actor, _locked(organisation), address)


def _detail_save(actor: User | None, organisation: Organisation, values: dict[str, Any]) -> bool:
    values = _tidy({name: values[name] for name in DETAIL_FIELDS if name in values})
    detail, created = OrganisationDetail.objects.get_or_create(organisation=organisation)
    changes = _apply(detail, values)
    if not changes:
        return created
    detail.full_clean(exclude=["organisation"])
    detail.save()
    old, new = _audit_values(changes)
    audit_record(
        actor=actor,
        action="organisation.detail_changed",
        entity=organisation,
        old_values=old,
        new_values=new,
    )
    return True


def organisation_detail_set(
    *, actor: User | None, organisation: Organisation, detail: dict[str, Any]
) -> bool:
    """Set the further details (DETAIL_FIELDS given): phase, size, sector, website."""
    _check(actor, "organisation_detail_set")
    with transaction.atomic(durable=True):
        return _detail_save(actor, _locked(organisation), detail)


def organisation_coordinates_enter(
    *,
    actor: User | None,
    organisation: Organisation,
    latitude: float | None,
    longitude: float | None,
) -> Organisation:
    """Coordinates entered by hand (ENTERED: no lookup replaces them unless asked), or none."""
    _check(actor, "organisation_coordinates_enter")
    with transaction.atomic(durable=True):
        organisation = _locked(organisation)
        changed = located_coordinates_enter(organisation, latitude, longitude)
        organisation.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="organisation.coordinates_entered",
            entity=organisation,
            new_values={"latitude": latitude, "longitude": longitude},
        )
    return organisation


def organisation_lookup_ask(*, actor: User | None, organisation: Organisation) -> Organisation:
    """Look the address up again (the "Look up from the address" button), replacing entered
    coordinates once it is found."""
    _check(actor, "organisation_lookup_ask")
    with transaction.atomic(durable=True):
        organisation = _locked(organisation)
        changed = located_lookup_ask(organisation)
        organisation.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="organisation.lookup_asked",
            entity=organisation,
            new_values={"geocode_status": organisation.geocode_status},
        )
    return organisation


def _active_set(actor: User | None, organisation: Organisation, active: bool) -> Organisation:
    _check(actor, "organisation_reactivate" if active else "organisation_deactivate")
    with transaction.atomic(durable=True):
        organisation = _locked(organisation)
        if organisation.is_active == active:
            return organisation
        if not active:
            open_placements = organisation_open_placements(organisation)
            if open_placements:
                raise ValidationError(
                    f"{organisation} has {open_placements} open "
                    f"placement{pluralize(open_placements)} (proposed, confirmed or active): "
                    "cancel, end or complete them before deactivating it.",
                    code="open_placements",
                )
        organisation.is_active = active
        organisation.save(update_fields=["is_active", "updated_at"])
        audit_record(
            actor=actor,
            action="organisation.reactivated" if active else "organisation.deactivated",
            entity=organisation,
            new_values={"is_active": active},
        )
    return organisation


def organisation_deactivate(*, actor: User | None, organisation: Organisation) -> Organisation:
    """It no longer hosts learners: searches leave it out and no placement can be proposed
    there. Refused while it has open placements (they would be left waiting on a host that is
    gone). Its past placements, contacts and history stay."""
    return _active_set(actor, organisation, False)


def organisation_reactivate(*, actor: User | None, organisation: Organisation) -> Organisation:
    return _active_set(actor, organisation, True)


def organisation_contact_add(
    *, actor: User | None, organisation: Organisation, fields: dict[str, Any]
) -> OrganisationContact:
    """A named person at the organisation (CONTACT_FIELDS). Names and details are personal:
    the audit event says which were given, never their values."""
    _check(actor, "organisation_contact_add")
    fields = _tidy({name: fields.get(name, "") for name in CONTACT_FIELDS})
    with transaction.atomic(durable=True):
        organisation = _locked(organisation)
        contact = OrganisationContact(organisation=organisation, **fields)
        contact.full_clean(exclude=["organisation"])
        contact.save()
        audit_record(
            actor=actor,
            action="organisation_contact.added",
            entity=contact,
            new_values={"organisation": organisation.pk, **fields},
        )
    return contact


def organisation_contact_update(
    *, actor: User | None, contact: OrganisationContact, fields: dict[str, Any]
) -> list[str]:
    _check(actor, "organisation_contact_update")
    fields = _tidy({name: fields[name] for name in CONTACT_FIELDS if name in fields})
    with transaction.atomic(durable=True):
        contact = OrganisationContact.objects.select_for_update().get(pk=contact.pk)
        changes = _apply(contact, fields)
        if not changes:
            return []
        contact.full_clean(exclude=["organisation"])
        contact.save(update_fields=list(changes))
        old, new = _audit_values(changes)
        audit_record(
            actor=actor,
            action="organisation_contact.changed",
            entity=contact,
            old_values=old,
            new_values=new,
        )
    return list(changes)


def organisation_contact_remove(*, actor: User | None, contact: OrganisationContact) -> None:
    """Remove a contact; refused while they supervise a placement that is proposed, confirmed
    or active (choose another supervisor first). Ended placements keep no link to them."""
    _check(actor, "organisation_contact_remove")
    with transaction.atomic(durable=True):
        contact = OrganisationContact.objects.select_for_update().get(pk=contact.pk)
        supervising = list(
            Placement.objects.filter(supervisor=contact, status__in=OPEN_PLACEMENT_STATUSES)
            .select_related("learner")
            .order_by("starts_on")[:4]
        )
        if supervising:
            names = ", ".join(placement.learner.full_name for placement in supervising[:3])
            more = " and others" if len(supervising) > 3 else ""
            raise ValidationError(
                f"{contact.full_name} supervises the open placement of {names}{more}: give "
                "the placement another supervisor, or end it, before removing them.",
                code="supervising",
            )
        audit_record(
            actor=actor,
            action="organisation_contact.removed",
            entity=contact,
            old_values={"organisation": contact.organisation_id, "role": contact.role},
        )
        contact.delete()


def organisations_import(
    *, actor: User | None, rows: list[tuple[int, dict[str, str]]]
) -> dict[str, int]:
    """Create and update the organisations of a checked file (placements.organisation_imports),
    all in one transaction: the rows are checked again against the organisations as they are
    now, and refused rows are left out (the preview listed them). Rows with coordinates are
    IMPORTED; an address without them is looked up when a geocoder is configured. Each
    organisation written has its own audit events, and the import one more with the counts."""
    from placements.organisation_imports import organisation_plan
    from placements.services.geocoding import geocoder_configured, located_coordinates_import

    _check(actor, "organisations_import")
    try:
        with transaction.atomic(durable=True):
            # One import at a time: the plan stays true while it is written.
            list(Organisation.objects.select_for_update().order_by("pk").values_list("pk"))
            plan = organisation_plan(rows, geocoding=geocoder_configured())
            for row in plan.rows:
                if row.errors:
                    continue
                if row.existing is None:
                    organisation = Organisation(created_by=actor, **row.fields)
                    organisation.save()
                    audit_record(
                        actor=actor,
                        action="organisation.created",
                        entity=organisation,
                        new_values={**row.fields, "imported": True},
                    )
                else:
                    organisation = _locked(row.existing)
                    changes = _apply(organisation, row.fields)
                    if changes:
                        organisation.save(update_fields=[*changes, "updated_at"])
                        old, new = _audit_values(changes)
                        audit_record(
                            actor=actor,
                            action="organisation.changed",
                            entity=organisation,
                            old_values=old,
                            new_values={**new, "imported": True},
                        )
                if row.address:
                    current = getattr(organisation, "address", None)
                    given = {
                        name: row.address.get(name, getattr(current, name, ""))
                        for name in ADDRESS_FIELDS
                    }
                    _address_save(actor, organisation, given, relocate=row.coordinates is None)
                if row.coordinates is not None:
                    changed = located_coordinates_import(organisation, row.coordinates)
                    organisation.save(update_fields=[*changed, "updated_at"])
                    audit_record(
                        actor=actor,
                        action="organisation.coordinates_imported",
                        entity=organisation,
                        new_values=_audit_values(
                            {n: (None, getattr(organisation, n)) for n in changed[:3]}
                        )[1],
                    )
            counts = {"created": plan.creates, "updated": plan.updates, "refused": plan.refused}
            audit_record(
                actor=actor,
                action="organisations.imported",
                entity_type="placements.organisation_import",
                entity_id="import",
                new_values={**counts, "rows": len(rows)},
            )
    except IntegrityError:
        raise ValidationError(
            "Another change to the organisations happened while importing: nothing was "
            "imported. Check the file again and confirm."
        ) from None
    return counts
