"""A closed cohort is closed: once a cohort is completed or cancelled, nobody enrols, invites,
signs up to it, changes details, uploads or signs in it, and no reminder goes out. Each action
is refused with a ValidationError that says the cohort is closed, and writes nothing. (Reviews:
tests/verification/test_closed_cohort.py; the pages: test_closed_cohort_pages.py.)"""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Invitation
from accounts.services import (
    invitation_accept,
    invitation_issue,
    invitation_resend,
    system_role_give,
)
from cohorts.imports.selectors import student_import_for_cohort
from cohorts.imports.uploads import student_import_confirm, student_import_start
from cohorts.imports.writing import enrollments_import
from cohorts.models import Cohort, CohortState, StudentImportStatus
from enrolments.agreements import enrollment_agreement_sign, enrollment_agreement_start
from enrolments.models import CohortEnrollment, EnrollmentState
from enrolments.reminders import ReminderCadence, enrollment_remind
from enrolments.services import (
    enrollment_details_save,
    enrollment_invitation_resend,
    enrollment_invite,
    enrollment_withdraw,
)
from enrolments.tasks import send_reminders
from notifications.models import OutboundEmail
from signing.models import SubmissionStatus
from signing.selectors import link_for_token, submissions_for_subject
from tests.factories import CohortFactory
from tests.imports.support import csv_bytes, student_row
from tests.learners.support import details_of
from tests.signing.conftest import token_from

from .closed import counts
from .conftest import id_type, upload_document

pytestmark = pytest.mark.django_db


def _refused(action: Callable[[], object], message: str) -> None:
    """`action` is refused with exactly `message` (code cohort_closed), and writes nothing."""
    before = counts()
    with pytest.raises(ValidationError) as refusal:
        action()
    assert refusal.value.messages == [message]
    assert counts() == before


def test_the_predicate(institution):
    for state in CohortState:
        cohort = Cohort(state=state)
        assert cohort.is_closed is (state in (CohortState.COMPLETED, CohortState.CANCELLED))
    with pytest.raises(ValidationError) as refusal:
        Cohort(state=CohortState.CANCELLED).closed_check("students can no longer join it")
    assert refusal.value.code == "cohort_closed"
    assert refusal.value.messages == ["This cohort is cancelled; students can no longer join it."]
    Cohort(state=CohortState.ACTIVE).closed_check("students can no longer join it")


def test_nobody_is_enrolled_in_a_closed_cohort(enrol, admin, close):
    cohort = close(enrol().cohort)
    _refused(
        lambda: enrollment_invite(
            cohort=cohort, actor=admin, email="late@example.org", full_name="Lerato Late"
        ),
        f"This cohort is {close.state}; students can no longer join it.",
    )


def test_no_import_goes_into_a_closed_cohort(enrol, admin, close):
    cohort = enrol().cohort
    rows = [student_row()]
    # A file checked while the cohort ran, waiting for its confirmation when the cohort closed.
    waiting = student_import_start(
        cohort=cohort, actor=admin, upload=SimpleUploadedFile("students.csv", csv_bytes(rows))
    )
    assert waiting.status == StudentImportStatus.PREVIEW
    close(cohort)
    message = f"This cohort is {close.state}; students can no longer join it."

    _refused(lambda: enrollments_import(cohort=cohort, actor=admin, rows=rows), message)
    _refused(
        lambda: student_import_start(
            cohort=cohort, actor=admin, upload=SimpleUploadedFile("more.csv", csv_bytes(rows))
        ),
        message,
    )
    waiting = student_import_for_cohort(cohort=cohort, pk=waiting.pk)
    _refused(lambda: student_import_confirm(student_import=waiting, actor=admin), message)
    waiting.refresh_from_db()
    assert waiting.status == StudentImportStatus.PREVIEW  # still there to cancel


def test_no_invitation_is_sent_again_for_a_closed_cohort(enrol, admin, close):
    enrollment = enrol()
    enrollment.user.set_unusable_password()  # not signed up yet
    enrollment.user.save(update_fields=["password"])
    close(enrollment.cohort)
    _refused(
        lambda: enrollment_invitation_resend(enrollment=enrollment, actor=admin),
        f"This cohort is {close.state}; invitations to it can no longer be sent.",
    )


def test_no_student_is_withdrawn_from_a_closed_cohort(enrol, admin, close):
    enrollment = enrol()
    close(enrollment.cohort)
    _refused(
        lambda: enrollment_withdraw(enrollment=enrollment, actor=admin, reason="Moved away"),
        f"This cohort is {close.state}; its students can no longer be withdrawn.",
    )
    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.WAITING


def test_a_student_of_a_closed_cohort_changes_no_details(enrol, close):
    enrollment = enrol()
    close(enrollment.cohort)
    _refused(
        lambda: enrollment_details_save(
            enrollment=enrollment, actor=enrollment.user, details=details_of()
        ),
        f"This cohort is {close.state}; your details can no longer change.",
    )
    enrollment.learner.refresh_from_db()
    assert enrollment.learner.details_completed_at is None


def test_a_student_of_a_closed_cohort_uploads_nothing(enrol, close, media_files):
    enrollment = enrol()
    close(enrollment.cohort)
    _refused(
        lambda: upload_document(enrollment, id_type()),
        f"This cohort is {close.state}; documents can no longer be uploaded.",
    )
    assert media_files() == []


def test_a_student_of_a_closed_cohort_signs_nothing(
    enrol, active_cohort, close, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=active_cohort())
    [sent] = submissions_for_subject(enrollment)
    url = enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)
    link = link_for_token(token_from(url))
    close(enrollment.cohort)
    message = f"This cohort is {close.state}; nothing in it can change any more."

    # Closing revoked the agreement waiting for her: its link no longer opens it.
    sent.refresh_from_db()
    assert sent.status == SubmissionStatus.REVOKED
    link.refresh_from_db()
    assert link.state == "revoked"
    _refused(
        lambda: enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user), message
    )
    _refused(
        lambda: enrollment_agreement_sign(
            enrollment=enrollment, actor=enrollment.user, signature="Sipho Student"
        ),
        message,
    )
    enrollment.refresh_from_db()
    assert enrollment.agreement_signed_at is None


def test_a_closed_cohorts_students_are_not_reminded(enrol, close, institution):
    enrollment = enrol()
    not_signed_up = enrol()
    not_signed_up.user.set_unusable_password()
    not_signed_up.user.save(update_fields=["password"])
    CohortEnrollment.objects.filter(pk__in=[enrollment.pk, not_signed_up.pk]).update(
        invited_at=timezone.now() - timedelta(days=10)
    )
    close(enrollment.cohort)
    close(not_signed_up.cohort)
    students = [enrollment.user, not_signed_up.user]
    mail = OutboundEmail.objects.filter(recipient__in=[student.email for student in students])
    invitations = Invitation.objects.filter(user__in=students)
    sent_before, invited_before = mail.count(), invitations.count()

    # The daily task (other tests' students of this institution may get theirs) ...
    send_reminders.apply().get()
    # ... and a reminder asked for one of them directly.
    cadence = ReminderCadence(every=timedelta(days=3), max_reminders=5)
    assert not enrollment_remind(enrollment=enrollment, cadence=cadence)
    assert not enrollment_remind(enrollment=not_signed_up, cadence=cadence)

    assert (mail.count(), invitations.count()) == (sent_before, invited_before)
    for student in (enrollment, not_signed_up):
        student.refresh_from_db()
        assert student.reminders_sent == 0


def _invited(enrollment: CohortEnrollment, admin) -> Invitation:
    """The student has not signed up: a fresh invitation waits for them."""
    student = enrollment.user
    student.set_unusable_password()
    student.save(update_fields=["password"])
    return invitation_issue(user=student, invited_by=admin)


def test_nobody_signs_up_to_a_closed_cohort(enrol, admin, close):
    enrollment = enrol()
    invitation = _invited(enrollment, admin)
    close(enrollment.cohort)
    message = f"You were invited to {enrollment.cohort.name}, which is now {close.state}."

    _refused(
        lambda: invitation_accept(
            invitation=invitation, full_name="Sipho Student", password="a-long-Passw0rd!"
        ),
        message,
    )
    _refused(lambda: invitation_resend(invitation=invitation), message)
    enrollment.user.refresh_from_db()
    assert not enrollment.user.has_usable_password()


def test_a_student_with_another_open_cohort_still_signs_up(enrol, admin, close):
    closed = enrol(email="both@example.org")
    enrol(email="both@example.org")  # a second, running cohort
    invitation = _invited(closed, admin)
    close(closed.cohort)

    user = invitation_accept(
        invitation=invitation, full_name="Sipho Student", password="a-long-Passw0rd!"
    )

    assert user.has_usable_password()


def test_invitations_of_people_who_are_more_than_students_are_not_refused(enrol, admin, close):
    enrollment = enrol()
    invitation = _invited(enrollment, admin)
    system_role_give(users=[enrollment.user], key="trainer", granted_by=admin)
    close(enrollment.cohort)

    user = invitation_accept(
        invitation=invitation, full_name="Sipho Student", password="a-long-Passw0rd!"
    )

    assert user.has_usable_password()


def test_a_running_cohort_still_takes_every_action(enrol, admin, institution):
    """The guards refuse only closed cohorts: the same actions in a draft one all work."""
    cohort = CohortFactory(created_by=admin)
    enrollment = enrollment_invite(
        cohort=cohort, actor=admin, email="early@example.org", full_name="Early Student"
    )
    enrollment_invitation_resend(enrollment=enrollment, actor=admin)
    enrollment_details_save(enrollment=enrollment, actor=enrollment.user, details=details_of())
    upload_document(enrollment, id_type())
    enrollment_withdraw(enrollment=enrollment, actor=admin, reason="Moved away")
