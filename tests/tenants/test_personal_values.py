"""An institution's contact address and phone are often its founder's own: profile changes
record that they changed, not their values."""

import json

import pytest

from accounts.models import SystemRole
from audit.models import AuditEvent
from tenants.services import institution_profile_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_changed_contact_is_recorded_as_changed_and_the_name_as_it_is(institution):
    owner = UserFactory(roles=[SystemRole.SUPER_ADMIN])

    institution_profile_update(
        institution=institution,
        actor=owner,
        changes={
            "name": "Alpha College of Mining",
            "contact_email": "private.founder@alpha.example",
            "contact_phone": "0825556666",
        },
    )

    event = AuditEvent.objects.get(action="institution.profile_updated")
    assert event.new_values["name"] == "Alpha College of Mining"
    assert event.new_values["contact_email"] == event.new_values["contact_phone"] == "(changed)"
    assert set(event.old_values) == {"name"}
    values = json.dumps([event.old_values, event.new_values])
    assert "private.founder" not in values
    assert "0825556666" not in values
