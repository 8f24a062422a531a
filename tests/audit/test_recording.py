"""audit_record: the entity it is about, the transaction it must run in, and the personal values
it never keeps."""

import json

import pytest
from django.apps import apps

from accounts.models import SystemRole
from audit.models import AuditEvent
from audit.services import CHANGED, audit_record, personal_fields
from cohorts.models import Cohort
from learners.models import Learner
from tests.factories import CohortFactory, UserFactory

pytestmark = pytest.mark.django_db

# What each model marks as personal. A marker taken away (or a new model with personal fields
# and none) shows up here.
PERSONAL = {
    "accounts.user": {"email", "full_name", "password"},
    "cohorts.cohort": {"sponsor_email"},
    "delivery.trainer": {
        "name",
        "email",
        "phone_number",
        "credentials",
        "accreditation_number",
        "accreditation_expires_on",
    },
    "delivery.session": {"cancellation_reason"},
    "delivery.assessment": {"void_reason"},
    "delivery.assessmentchange": {"reason"},
    "delivery.certificate": {"revocation_reason"},
    "enrolments.cohortenrollment": {"agreement_signature", "withdrawal_reason"},
    "enrolments.studentdocument": {"original_name"},
    "learners.learner": set(Learner.PERSONAL_FIELDS),
    "enrolments.supportingagreement": {"signature"},
    "signing.submitter": {
        "name",
        "email",
        "signed_name",
        "signature_text",
        "signature_image",
        "decline_reason",
        "ip_address",
        "user_agent",
    },
    "sponsors.sponsor": {"contact_name", "contact_email", "contact_phone"},
    "sponsors.sponsorlearnerlink": {"email"},
    "enrolments.agreementcountersigning": {"signed_name"},
    "tenants.institution": {"contact_email", "contact_phone"},
    "tenants.provisioningrequest": {"admin_email", "admin_name"},
    "placements.organisationcontact": {"first_name", "last_name", "email_address", "phone"},
    "placements.vettingevidence": {"original_name"},
    "workplace.practitionerregistration": {"registration_number"},
    "workplace.logbookreview": {"comment"},
    "workplace.logbookentry": {"tasks"},
    "workplace.logbookevidence": {"original_name"},
    "workplace.observationreport": {"report"},
    "workplace.portfoliosubmission": {"feedback"},
    "workplace.portfolioevidence": {"original_name"},
    "projects.milestoneevidence": {"original_name"},
    "workplace.moderationitem": {"reasons"},
    "partners.partner": {"contact_name", "email", "phone"},
    "finance.invoice": {
        "recipient_name",
        "recipient_email",
        "recipient_address",
        "recipient_tax_number",
    },
}


def test_the_event_takes_its_type_and_id_from_the_entity(institution):
    cohort = CohortFactory()
    admin = UserFactory(roles=[SystemRole.ADMIN])

    event = audit_record(actor=admin, action="cohort.looked_at", entity=cohort)

    assert (event.entity_type, event.entity_id) == ("cohorts.cohort", str(cohort.pk))


def test_a_reference_that_is_not_an_instance_is_named_explicitly(institution):
    event = audit_record(action="permission.denied", entity_type="permission", entity_id="x.y")
    assert (event.entity_type, event.entity_id) == ("permission", "x.y")


def test_an_entity_and_an_explicit_type_at_once_are_refused(institution):
    cohort = CohortFactory()
    with pytest.raises(TypeError, match="not both"):
        audit_record(action="a", entity=cohort, entity_type="cohorts.cohort")
    with pytest.raises(TypeError, match="not both"):
        audit_record(action="a", entity=cohort, entity_id=cohort.pk)
    with pytest.raises(TypeError, match="needs its `entity`"):
        audit_record(action="a")


def test_the_models_mark_their_personal_fields():
    marked = {
        model._meta.label_lower: set(personal_fields(model))
        for model in apps.get_models()
        if personal_fields(model)
    }
    assert marked == PERSONAL
    for label, names in PERSONAL.items():
        model_fields = {field.name for field in apps.get_model(label)._meta.get_fields()}
        assert names <= model_fields, f"{label} marks fields it does not have"


@pytest.mark.parametrize(
    ("label", "name"),
    sorted((label, name) for label, names in PERSONAL.items() for name in names),
)
def test_a_change_of_a_personal_field_leaves_no_value_in_the_event(institution, label, name):
    entity = apps.get_model(label)(pk=4242)

    event = audit_record(
        action="test.changed",
        entity=entity,
        old_values={name: "old-private-value", "state": "a"},
        new_values={name: "new-private-value", "state": "b"},
    )

    event = AuditEvent.objects.get(pk=event.pk)
    assert event.old_values == {"state": "a"}
    assert event.new_values == {name: CHANGED, "state": "b"}
    assert "private-value" not in json.dumps([event.old_values, event.new_values])


def test_a_personal_field_that_was_cleared_is_recorded_as_changed_too(institution):
    event = audit_record(
        action="test.cleared", entity=Cohort(pk=1), old_values={"sponsor_email": "a@example.org"}
    )
    assert (event.old_values, event.new_values) == ({}, {"sponsor_email": CHANGED})
