"""A signer reached by link is named in the trail by their submitter id and role, never by
their address, name or words."""

import json

import pytest

from audit.models import AuditEvent
from signing.selectors import link_for_token
from signing.services.completion import submitter_decline, submitter_sign
from tests.signing.conftest import last_link_to

pytestmark = pytest.mark.django_db


def _trail() -> str:
    return json.dumps(
        list(
            AuditEvent.objects.filter(entity_type="signing.submission").values_list(
                "old_values", "new_values"
            )
        )
    )


def test_a_signature_event_names_the_signer_by_id_only(make_submission):
    submission = make_submission()
    student = submission.submitters.get(order=1)

    submitter_sign(
        link=link_for_token(last_link_to(student.email)),
        signed_name="Thandi Private",
        consent=True,
        signature_text="Thandi Private",
    )

    event = AuditEvent.objects.get(action="signing.submission_signed")
    assert event.new_values == {"submitter": student.pk, "role": "student", "drawn": False}
    assert student.email not in _trail()
    assert "Thandi" not in _trail()


def test_a_decline_reason_is_recorded_as_given_only(make_submission):
    submission = make_submission()
    student = submission.submitters.get(order=1)

    submitter_decline(
        link=link_for_token(last_link_to(student.email)), reason="Private family matters"
    )

    event = AuditEvent.objects.get(action="signing.submission_declined")
    assert event.new_values == {
        "submitter": student.pk,
        "role": "student",
        "decline_reason": "(changed)",
    }
    assert "family matters" not in _trail()
