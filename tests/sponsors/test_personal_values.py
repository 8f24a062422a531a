"""The sponsor's contact is a person: the trail records that their details changed, not what
they are; the company's own details are kept."""

import json

import pytest

from audit.models import AuditEvent
from cohorts.services import cohort_create
from sponsors.services import cohort_sponsor_set, sponsor_create, sponsor_update

pytestmark = pytest.mark.django_db

CONTACT = {
    "contact_name": "Private Person",
    "contact_email": "private.person@ubuntu.example",
    "contact_phone": "0821112222",
}


def _values(event: AuditEvent) -> str:
    return json.dumps([event.old_values, event.new_values])


def test_a_new_sponsor_keeps_the_company_and_hides_the_contact(admin):
    sponsor = sponsor_create(actor=admin, company_name="Ubuntu Mining", **CONTACT)

    event = AuditEvent.objects.get(action="sponsor.created", entity_id=str(sponsor.pk))
    assert event.new_values["company_name"] == "Ubuntu Mining"
    assert {name: event.new_values[name] for name in CONTACT} == dict.fromkeys(CONTACT, "(changed)")
    for value in CONTACT.values():
        assert value not in _values(event)


def test_a_changed_contact_is_recorded_as_changed_without_either_value(admin):
    sponsor = sponsor_create(actor=admin, company_name="Ubuntu Mining", **CONTACT)
    new_contact = {
        "contact_name": "Next Person",
        "contact_email": "next.person@ubuntu.example",
        "contact_phone": "0823334444",
    }

    sponsor_update(sponsor=sponsor, actor=admin, company_name="Ubuntu Mining", **new_contact)

    event = AuditEvent.objects.get(action="sponsor.updated")
    assert event.old_values == {}
    assert event.new_values == dict.fromkeys(new_contact, "(changed)")
    for value in [*CONTACT.values(), *new_contact.values()]:
        assert value not in _values(event)


def test_a_cohorts_sponsor_address_comes_from_the_sponsor_and_is_never_recorded(admin):
    sponsor = sponsor_create(actor=admin, company_name="Ubuntu Mining", **CONTACT)
    cohort = cohort_create(
        actor=admin,
        name="Learnership",
        program_type="learnership",
        student_count=5,
        start_date="2027-02-01",
        end_date="2027-11-30",
    )

    cohort_sponsor_set(cohort=cohort, sponsor=sponsor, actor=admin)
    sponsor_update(
        sponsor=sponsor, actor=admin, company_name="Ubuntu Mining",
        **{**CONTACT, "contact_email": "next.person@ubuntu.example"},
    )  # fmt: skip

    cohort.refresh_from_db()
    assert cohort.sponsor_email == "next.person@ubuntu.example"
    events = AuditEvent.objects.filter(entity_type="cohorts.cohort", entity_id=str(cohort.pk))
    assert {event.action for event in events} == {"cohort.created", "cohort.sponsor_set"}
    assert "ubuntu.example" not in "".join(_values(event) for event in events)
