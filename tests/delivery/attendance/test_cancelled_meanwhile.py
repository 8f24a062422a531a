"""A session cancelled while its register is open on someone's page: saving, signing off or
correcting that register is refused, checked again once the session is locked."""

import pytest
from django.core.exceptions import ValidationError

from delivery.models import AttendanceRecord, Session, SessionStatus
from delivery.services.attendance import Mark, register_correct, register_save, register_sign_off
from tests.delivery.attendance.support import all_marked

pytestmark = pytest.mark.django_db


def cancelled_behind_its_back(session: Session) -> None:
    Session.objects.filter(pk=session.pk).update(
        status=SessionStatus.CANCELLED, cancellation_reason="Venue flooded"
    )


def test_a_register_is_not_saved_on_a_session_cancelled_meanwhile(trainer, session, learners):
    cancelled_behind_its_back(session)
    with pytest.raises(ValidationError, match="cancelled"):
        register_save(session=session, actor=trainer.user, marks=all_marked(learners))
    assert not AttendanceRecord.objects.exists()


def test_a_register_is_not_signed_off_or_corrected_once_cancelled(trainer, session, learners):
    register_save(session=session, actor=trainer.user, marks=all_marked(learners))
    cancelled_behind_its_back(session)
    with pytest.raises(ValidationError, match="cancelled"):
        register_sign_off(session=session, actor=trainer.user)
    Session.objects.filter(pk=session.pk).update(status=SessionStatus.SCHEDULED)
    signed = register_sign_off(session=session, actor=trainer.user)
    cancelled_behind_its_back(signed)
    with pytest.raises(ValidationError, match="cancelled"):
        register_correct(
            session=signed,
            actor=trainer.user,
            marks={learners[0].pk: Mark("absent")},
            change_reason="Was not there",
        )
    assert AttendanceRecord.objects.get(enrolment=learners[0]).status == "present"
