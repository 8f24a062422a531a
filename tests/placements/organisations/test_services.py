"""Organisations' services on the real database: each change, each refusal and its audit."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import SystemRole
from audit.models import AuditEvent
from learners.models import Learner
from placements.models import (
    GeocodeStatus,
    Organisation,
    OrganisationContact,
    Placement,
    PlacementStatus,
)
from placements.services.organisations import (
    organisation_address_set,
    organisation_contact_add,
    organisation_contact_remove,
    organisation_contact_update,
    organisation_coordinates_enter,
    organisation_create,
    organisation_deactivate,
    organisation_detail_set,
    organisation_reactivate,
    organisation_update,
)
from sponsors.models import Sponsor
from tests.factories import UserFactory
from tests.placements.factories import (
    ContactFactory,
    OrganisationFactory,
    academic_year,
    subject,
)

pytestmark = pytest.mark.django_db

ADDRESS = {"address_1": "12 Vilakazi Street", "town": "Soweto", "postcode": "1804"}


def _sponsor(name: str = "Acme Mining") -> Sponsor:
    return Sponsor.objects.create(
        company_name=name, contact_name="Lerato Dube", contact_email="lerato@acme.example"
    )


def test_an_organisation_is_created_with_its_address_detail_and_entered_coordinates(admin):
    organisation = organisation_create(
        actor=admin,
        fields={"name": "  Soweto Secondary ", "urn": "100234", "school": True},
        address=ADDRESS,
        detail={"phase": "secondary", "pupil_count": 900},
        latitude=-26.24,
        longitude=27.91,
    )

    organisation.refresh_from_db()
    assert organisation.name == "Soweto Secondary"
    assert organisation.address.country == "ZA"
    assert organisation.detail.pupil_count == 900
    assert organisation.geocode_status == GeocodeStatus.ENTERED
    assert (organisation.latitude, organisation.longitude) == (-26.24, 27.91)
    assert organisation.created_by == admin
    actions = set(
        AuditEvent.objects.filter(entity_id=organisation.pk).values_list("action", flat=True)
    )
    assert {
        "organisation.created",
        "organisation.address_changed",
        "organisation.detail_changed",
    } <= actions


def test_without_a_geocoder_an_address_leaves_no_coordinates(admin, settings):
    settings.GEOCODER_URL = ""
    organisation = organisation_create(
        actor=admin, fields={"name": "Orlando Primary", "school": True}, address=ADDRESS
    )
    organisation.refresh_from_db()
    assert not organisation.has_coordinates
    assert organisation.geocode_status == GeocodeStatus.NONE


def test_an_organisation_must_say_what_it_is(admin):
    with pytest.raises(ValidationError, match="school, a training provider or an employer"):
        organisation_create(actor=admin, fields={"name": "Nothing at all"})
    organisation = OrganisationFactory()
    with pytest.raises(ValidationError, match="school, a training provider"):
        organisation_update(actor=admin, organisation=organisation, fields={"school": False})


def test_a_urn_or_code_another_organisation_has_is_refused_under_its_field(admin):
    OrganisationFactory(urn="100234", code="EMIS-7")
    with pytest.raises(ValidationError) as refused:
        organisation_create(actor=admin, fields={"name": "Copy", "urn": "100234", "school": True})
    assert refused.value.message_dict == {"urn": ["Another organisation has this URN."]}
    other = OrganisationFactory()
    with pytest.raises(ValidationError) as refused:
        organisation_update(actor=admin, organisation=other, fields={"code": "emis-7"})
    assert refused.value.message_dict == {"code": ["Another organisation has this code."]}
    assert Organisation.objects.filter(name="Copy").count() == 0


def test_a_sponsor_is_linked_never_copied_and_not_linked_twice(admin):
    sponsor = _sponsor()
    first = OrganisationFactory(name="Acme Mine School")
    assert organisation_update(actor=admin, organisation=first, fields={"sponsor": sponsor}) == [
        "sponsor"
    ]
    assert Sponsor.objects.count() == 1
    second = OrganisationFactory(name="Acme Training")

    with pytest.raises(ValidationError) as refused:
        organisation_update(actor=admin, organisation=second, fields={"sponsor": sponsor})

    assert "already linked to Acme Mine School" in refused.value.message_dict["sponsor"][0]
    second.refresh_from_db()
    assert second.sponsor is None
    event = AuditEvent.objects.get(action="organisation.changed", entity_id=first.pk)
    assert event.new_values == {"sponsor": sponsor.pk}


def test_changes_are_audited_with_old_and_new_values(admin):
    organisation = OrganisationFactory(name="Old name", phone="011 1")
    changed = organisation_update(
        actor=admin, organisation=organisation, fields={"name": "New name", "phone": "011 1"}
    )
    assert changed == ["name"]
    event = AuditEvent.objects.get(action="organisation.changed", entity_id=organisation.pk)
    assert (event.old_values, event.new_values) == ({"name": "Old name"}, {"name": "New name"})
    assert organisation_update(actor=admin, organisation=organisation, fields={}) == []


def test_someone_without_the_permission_is_refused_and_it_is_audited(institution):
    clerk = UserFactory(roles=[SystemRole.TRAINER])
    with pytest.raises(PermissionDenied):
        organisation_create(actor=clerk, fields={"name": "Nope", "school": True})
    organisation = OrganisationFactory()
    with pytest.raises(PermissionDenied):
        organisation_deactivate(actor=clerk, organisation=organisation)
    assert AuditEvent.objects.filter(action="permission.denied", actor=clerk).count() == 2
    assert Organisation.objects.filter(name="Nope").count() == 0


def test_deactivate_and_reactivate(admin):
    organisation = OrganisationFactory()
    organisation_deactivate(actor=admin, organisation=organisation)
    organisation.refresh_from_db()
    assert not organisation.is_active
    organisation_reactivate(actor=admin, organisation=organisation)
    organisation.refresh_from_db()
    assert organisation.is_active
    assert list(
        AuditEvent.objects.filter(entity_id=organisation.pk)
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["organisation.deactivated", "organisation.reactivated"]


def test_details_are_checked_by_the_models_rules(admin):
    organisation = OrganisationFactory()
    with pytest.raises(ValidationError) as refused:
        organisation_detail_set(
            actor=admin, organisation=organisation, detail={"website": "not a site"}
        )
    assert "website" in refused.value.message_dict


def test_entered_coordinates_are_checked_and_can_be_cleared(admin):
    organisation = OrganisationFactory(latitude=None, longitude=None, geocode_status="")
    with pytest.raises(ValidationError) as refused:
        organisation_coordinates_enter(
            actor=admin, organisation=organisation, latitude=95.0, longitude=28.0
        )
    assert "latitude" in refused.value.message_dict
    with pytest.raises(ValidationError, match="both the latitude and the longitude"):
        organisation_coordinates_enter(
            actor=admin, organisation=organisation, latitude=-26.0, longitude=None
        )
    organisation_coordinates_enter(
        actor=admin, organisation=organisation, latitude=-26.0, longitude=28.0
    )
    organisation.refresh_from_db()
    assert organisation.geocode_status == GeocodeStatus.ENTERED
    organisation_coordinates_enter(
        actor=admin, organisation=organisation, latitude=None, longitude=None
    )
    organisation.refresh_from_db()
    assert not organisation.has_coordinates
    assert organisation.geocode_status == GeocodeStatus.NONE


def test_contacts_are_added_changed_and_audited_without_their_personal_values(admin):
    organisation = OrganisationFactory()
    contact = organisation_contact_add(
        actor=admin,
        organisation=organisation,
        fields={
            "first_name": "Thandi",
            "last_name": "Nkosi",
            "email_address": "t@school.example",
            "role": "Placement lead",
        },  # fmt: skip
    )
    assert organisation_contact_update(
        actor=admin, contact=contact, fields={"first_name": "Thandiwe", "role": "Placement lead"}
    ) == ["first_name"]
    added = AuditEvent.objects.get(action="organisation_contact.added", entity_id=contact.pk)
    assert "Thandi" not in str(added.new_values)
    assert "t@school.example" not in str(added.new_values)
    assert added.new_values["role"] == "Placement lead"
    changed = AuditEvent.objects.get(action="organisation_contact.changed", entity_id=contact.pk)
    assert "Thandiwe" not in str(changed.new_values)

    with pytest.raises(ValidationError) as refused:
        organisation_contact_add(
            actor=admin, organisation=organisation, fields={"email_address": "not-an-address"}
        )
    assert set(refused.value.message_dict) == {"first_name", "email_address"}


def _placement(contact: OrganisationContact, status_path: list[str]) -> Placement:
    year = academic_year("2027")
    learner = Learner.objects.create(first_name="Sipho", last_name="Mokoena")
    placement = Placement.objects.create(
        learner=learner,
        organisation=contact.organisation,
        academic_year=year,
        subject=subject("MATH"),
        starts_on=datetime.date(2027, 2, 1),
        ends_on=datetime.date(2027, 6, 30),
        supervisor=contact,
    )
    for transition in status_path:
        getattr(placement, transition)()
    if status_path:
        placement.end_reason = "Learner left" if "cancel" in status_path else ""
        placement.save()
    return placement


def test_a_contact_supervising_an_open_placement_cannot_be_removed(admin):
    contact = ContactFactory(first_name="Thandi", last_name="Nkosi")
    placement = _placement(contact, [])
    assert placement.status == PlacementStatus.PROPOSED

    with pytest.raises(ValidationError) as refused:
        organisation_contact_remove(actor=admin, contact=contact)

    assert refused.value.messages == [
        "Thandi Nkosi supervises the open placement of Sipho Mokoena: give the placement another "
        "supervisor, or end it, before removing them."
    ]
    assert OrganisationContact.objects.filter(pk=contact.pk).exists()


def test_a_contact_whose_placements_ended_is_removed(admin):
    contact = ContactFactory()
    placement = _placement(contact, ["cancel"])
    organisation_contact_remove(actor=admin, contact=contact)
    assert not OrganisationContact.objects.filter(pk=contact.pk).exists()
    placement.refresh_from_db()
    assert placement.supervisor is None
    assert AuditEvent.objects.filter(
        action="organisation_contact.removed", entity_id=contact.pk
    ).exists()


def test_an_unchanged_address_is_not_saved_again(admin):
    organisation = OrganisationFactory()
    assert organisation_address_set(actor=admin, organisation=organisation, address=ADDRESS)
    assert not organisation_address_set(actor=admin, organisation=organisation, address=ADDRESS)
    assert (
        AuditEvent.objects.filter(
            action="organisation.address_changed", entity_id=organisation.pk
        ).count()
        == 1
    )


@pytest.mark.parametrize("status_path", [[], ["confirm"], ["confirm", "start"]])
def test_an_organisation_with_open_placements_is_not_deactivated(admin, status_path):
    contact = ContactFactory(organisation__name="Hillview High")
    _placement(contact, status_path)
    _placement(contact, ["cancel"])  # ended: does not count
    organisation = contact.organisation

    with pytest.raises(ValidationError) as refused:
        organisation_deactivate(actor=admin, organisation=organisation)

    assert refused.value.messages == [
        "Hillview High has 1 open placement (proposed, confirmed or active): cancel, end or "
        "complete them before deactivating it."
    ]
    organisation.refresh_from_db()
    assert organisation.is_active
    assert not AuditEvent.objects.filter(action="organisation.deactivated").exists()


def test_an_organisation_whose_placements_all_ended_is_deactivated(admin):
    contact = ContactFactory()
    _placement(contact, ["cancel"])
    _placement(contact, ["confirm", "start", "complete"])
    organisation_deactivate(actor=admin, organisation=contact.organisation)
    contact.organisation.refresh_from_db()
    assert not contact.organisation.is_active
