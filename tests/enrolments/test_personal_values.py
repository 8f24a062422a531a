"""What the trail keeps of a student: that their details, signature or reasons changed, never
the values (names, ID numbers, demographics, their own words)."""

import json

import pytest

from audit.models import AuditEvent
from enrolments.agreements import enrollment_agreement_sign, enrollment_agreement_start
from enrolments.services import enrollment_details_save, enrollment_withdraw
from signing.selectors import link_for_token
from signing.services.completion import submitter_decline
from tests.learners.support import details_of, sa_id_number

pytestmark = pytest.mark.django_db


def _trail() -> str:
    """Every value the institution's trail holds, as text."""
    return json.dumps(list(AuditEvent.objects.values_list("old_values", "new_values")))


def test_enrolling_a_student_keeps_no_address_in_the_event(enrol):
    enrollment = enrol(email="private.student@example.org")

    event = AuditEvent.objects.get(action="enrollment.invited", entity_id=str(enrollment.pk))
    assert event.new_values == {"cohort": enrollment.cohort_id, "student": enrollment.user_id}
    assert "private.student" not in _trail()


def test_saved_details_are_recorded_by_name_only(enrol):
    enrollment = enrol()
    id_number = sa_id_number(7)
    details = details_of(id_number=id_number, race="white", phone_number="0821234567")

    enrollment_details_save(enrollment=enrollment, actor=enrollment.user, details=details)

    event = AuditEvent.objects.get(action="enrollment.details_saved")
    assert "race" in event.new_values["fields"]
    assert "national_id_encrypted" in event.new_values["fields"]
    learner_event = AuditEvent.objects.get(action="learner.details_saved")
    assert learner_event.new_values["race"] == "(changed)"
    for value in (id_number, "white", "+27821234567", "821234567"):
        assert value not in _trail()


def test_a_signature_is_recorded_as_given_not_as_typed(enrol):
    enrollment = enrol()

    enrollment_agreement_sign(
        enrollment=enrollment, actor=enrollment.user, signature="Sipho Private-Name"
    )

    event = AuditEvent.objects.get(action="enrollment.agreement_signed")
    assert event.new_values == {"agreement_signature": "(changed)"}
    assert "Private-Name" not in _trail()


def test_a_withdrawal_reason_is_recorded_as_given_only(enrol, admin):
    enrollment = enrol()

    enrollment_withdraw(enrollment=enrollment, actor=admin, reason="Private illness")

    event = AuditEvent.objects.get(action="enrollment.withdrawn")
    assert event.new_values == {"state": "withdrawn", "withdrawal_reason": "(changed)"}
    assert "illness" not in _trail()


def test_a_students_decline_reason_stays_out_of_every_event(enrol):
    enrollment = enrol()
    url = enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)

    submitter_decline(
        link=link_for_token(url.rstrip("/").rsplit("/", 1)[1]),
        reason="My own private circumstances",
    )

    enrolment_event = AuditEvent.objects.get(action="enrollment.agreement_declined")
    assert enrolment_event.new_values["decline_reason"] == "(changed)"
    signing_event = AuditEvent.objects.get(action="signing.submission_declined")
    assert signing_event.new_values["decline_reason"] == "(changed)"
    assert "private circumstances" not in _trail()
