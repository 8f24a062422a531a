"""A learner's status follows their enrolments: a candidate until their first step."""

import pytest

from audit.models import AuditEvent
from enrolments.services import enrollment_details_save
from learners.models import LearnerStatus
from learners.services import learner_update
from tests.learners.support import details_of

pytestmark = pytest.mark.django_db


def test_a_candidate_becomes_active_with_their_first_step(enrol):
    enrollment = enrol()
    learner = enrollment.learner
    assert learner.status == LearnerStatus.CANDIDATE

    enrollment_details_save(enrollment=enrollment, actor=enrollment.user, details=details_of())

    learner.refresh_from_db()
    assert learner.status == LearnerStatus.ACTIVE
    assert AuditEvent.objects.filter(action="learner.activated", entity_id=str(learner.pk)).exists()


def test_a_second_enrolment_keeps_the_learner_active(enrol):
    first = enrol(email="twice@example.org")
    enrollment_details_save(enrollment=first, actor=first.user, details=details_of())
    second = enrol(email="twice@example.org")

    assert second.learner == first.learner
    second.learner.refresh_from_db()
    assert second.learner.status == LearnerStatus.ACTIVE


def test_an_admins_edit_does_not_confirm_the_students_details_for_them(enrol, admin):
    enrollment = enrol(full_name="Thandi Mokoena")

    learner_update(
        learner=enrollment.learner,
        actor=admin,
        names={"first_name": "Thandi", "last_name": "Mokoena", "email": "t@example.org"},
        details=details_of(),
    )

    enrollment.learner.refresh_from_db()
    assert enrollment.learner.race == "coloured"
    assert enrollment.learner.details_completed_at is None
