"""A learner's documents used again across their enrolments: a change of the facts a verified
ID vouches for asks for it again whichever enrolment it was verified in, and an enrolment that
can no longer change keeps showing what it had when it closed."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from cohorts.services import cohort_cancel
from enrolments.models import (
    CohortEnrollment,
    DocumentsStatus,
    DocumentStatus,
    StudentDocument,
    VerificationState,
)
from enrolments.selectors import (
    StepStatus,
    enrollment_documents_closed_at,
    enrollment_list_for_cohort,
    with_documents_closed_at,
)
from enrolments.services import enrollment_withdraw, learner_enrollments_lock
from learners.services import learner_profile_save, learner_update
from tests.enrolments.conftest import id_type, matric_type, upload_document
from tests.enrolments.test_returning_learner import _step
from tests.learners.support import details_of, sa_id_number

pytestmark = pytest.mark.django_db

NEW_NUMBER = sa_id_number(21, birth="990412")


def _id_of(enrollment: CohortEnrollment) -> StudentDocument:
    return StudentDocument.objects.get(enrollment=enrollment, document_type=id_type())


def _row(enrollment: CohortEnrollment):
    return next(
        row for row in enrollment_list_for_cohort(cohort=enrollment.cohort) if row == enrollment
    )


def test_a_new_number_asks_again_for_an_id_verified_in_a_closed_cohort(returning, close):
    first, make = returning
    second = make()
    assert second.document_verification_state == VerificationState.VERIFIED
    close(first.cohort)

    saved = learner_profile_save(
        learner=second.learner,
        actor=second.user,
        details=details_of(id_number=NEW_NUMBER, date_of_birth="1999-04-12"),
    )

    assert saved.documents_reopened == 1
    verified = _id_of(first)
    # The closed enrolment's history is not rewritten: still verified, still shown there.
    assert (verified.status, verified.is_current) == (DocumentStatus.VERIFIED, False)
    assert _step(first, id_type()).document == verified
    # The open enrolment asks for a new upload, and is no longer verified.
    assert _step(second, id_type()).status == StepStatus.TODO
    second.refresh_from_db()
    assert second.document_verification_state == VerificationState.PENDING
    assert _row(second).documents_status == DocumentsStatus.NOT_UPLOADED
    event = AuditEvent.objects.get(action="document.reopened")
    assert event.new_values == {"is_current": False, "reason": "verified facts changed"}
    assert NEW_NUMBER not in str(event.new_values)


def test_a_new_number_asks_again_for_an_id_uploaded_for_a_withdrawn_enrolment(returning, admin):
    first, make = returning
    second = make()
    enrollment_withdraw(enrollment=first, actor=admin, reason="Moved")

    learner_profile_save(
        learner=second.learner,
        actor=second.user,
        details=details_of(id_number=NEW_NUMBER, date_of_birth="1999-04-12"),
    )

    assert _id_of(first).status == DocumentStatus.VERIFIED
    assert _step(second, id_type()).status == StepStatus.TODO
    # A new upload for the open enrolment is the learner's current one.
    new = upload_document(second, id_type())
    assert _step(second, id_type()).document == new


def test_an_id_uploaded_for_an_open_enrolment_goes_back_to_review_in_each(returning):
    first, make = returning
    second = make()

    learner_profile_save(
        learner=second.learner,
        actor=second.user,
        details=details_of(id_number=NEW_NUMBER, date_of_birth="1999-04-12"),
    )

    assert (_id_of(first).status, _id_of(first).is_current) == (DocumentStatus.PENDING, True)
    for enrollment in (first, second):
        enrollment.refresh_from_db()
        assert enrollment.document_verification_state == VerificationState.PENDING
        assert _step(enrollment, id_type()).status == StepStatus.PENDING


def test_an_admins_change_of_the_number_sends_the_id_back_to_review(returning, admin):
    first, make = returning
    second = make()
    learner = second.learner

    learner_update(
        learner=learner,
        actor=admin,
        names={"first_name": "Sipho", "last_name": "Student", "email": learner.email},
        details=details_of(id_number=NEW_NUMBER, date_of_birth="1999-04-12"),
    )

    assert _id_of(first).status == DocumentStatus.PENDING
    second.refresh_from_db()
    assert second.document_verification_state == VerificationState.PENDING
    assert AuditEvent.objects.get(action="document.reopened").actor_id == admin.pk


def test_an_admins_change_of_contact_details_leaves_the_id_verified(returning, admin):
    first, _make = returning
    learner = first.learner
    learner_update(
        learner=learner,
        actor=admin,
        names={"first_name": "Sipho", "last_name": "Student", "email": learner.email},
        details={"city": "Durban"},
    )
    assert _id_of(first).status == DocumentStatus.VERIFIED


def test_the_learners_enrolments_are_locked_after_the_learner(returning):
    first, make = returning
    second = make()
    locked, others = learner_enrollments_lock(first)
    assert (locked, others) == (first, [second])
    assert locked.learner == first.learner


def test_a_closed_enrolment_keeps_the_documents_it_had_when_it_closed(returning, admin):
    first, make = returning
    second = make()
    verified_matric = StudentDocument.objects.get(enrollment=first, document_type=matric_type())
    enrollment_withdraw(enrollment=second, actor=admin, reason="Moved")
    # Later, a third cohort asks for a fresh matric: the new upload is the learner's current one.
    third = make(fresh=(matric_type(),))
    new_matric = upload_document(third, matric_type())

    step = _step(second, matric_type())
    assert (step.document, step.status, step.reused) == (verified_matric, StepStatus.DONE, True)
    assert _row(second).documents_status == DocumentsStatus.APPROVED
    # The open enrolment that reused it follows the learner's current one.
    assert _step(first, matric_type()).document == new_matric


def test_a_closed_enrolment_judges_expiry_on_the_day_it_closed(returning, admin):
    first, make = returning
    second = make()
    enrollment_withdraw(enrollment=second, actor=admin, reason="Moved")
    # Uploaded 20 days ago, withdrawn 10 days ago, expired 5 days ago.
    now, today = timezone.now(), timezone.localdate()
    StudentDocument.objects.filter(enrollment=first).update(
        uploaded_at=now - datetime.timedelta(days=20)
    )
    CohortEnrollment.objects.filter(pk=second.pk).update(
        withdrawn_at=now - datetime.timedelta(days=10)
    )
    StudentDocument.objects.filter(enrollment=first, document_type=id_type()).update(
        expires_on=today - datetime.timedelta(days=5)
    )

    step = _step(second, id_type())
    assert (step.status, step.expired) == (StepStatus.DONE, False)
    assert _row(second).documents_status == DocumentsStatus.APPROVED
    # The open one asks for a new copy.
    assert _step(first, id_type()).expired
    assert _row(first).documents_status == DocumentsStatus.NOT_UPLOADED


def test_a_closed_cohort_keeps_its_closing_time_when_its_row_is_saved_again(enrol, admin):
    """What a closed enrolment shows is fixed at the cohort's closing, recorded as it closes,
    not at the row's last save."""
    enrollment = enrol()
    cohort = cohort_cancel(cohort=enrollment.cohort, actor=admin, reason="No funding")
    closed_at = cohort.closed_at
    assert closed_at is not None

    cohort.name = "Renamed after closing"
    cohort.save()
    enrollment.refresh_from_db()

    assert enrollment_documents_closed_at(enrollment) == closed_at
    annotated = with_documents_closed_at(CohortEnrollment.objects.filter(pk=enrollment.pk)).get()
    assert annotated.documents_closed_at == closed_at
