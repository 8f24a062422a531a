"""Reminders: on the institution's cadence, at most N, only to students with something to do."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Invitation
from audit.models import AuditEvent
from enrolments.agreements import enrollment_agreement_sign
from enrolments.models import CohortEnrollment, EnrollmentState
from enrolments.reminders import ReminderCadence, enrollment_remind, reminder_cadence
from enrolments.services import enrollment_withdraw
from enrolments.tasks import send_reminders, send_reminders_all_institutions
from notifications.models import OutboundEmail
from notifications.services import email_render
from tenants.models import Institution
from tests.learners.support import consents_give
from verification.services import document_review

from .conftest import upload_document
from .test_services import _details

pytestmark = pytest.mark.django_db

DEFAULT = ReminderCadence(every=timedelta(days=3), max_reminders=5)


def _invited_days_ago(enrollment: CohortEnrollment, days: float) -> None:
    CohortEnrollment.objects.filter(pk=enrollment.pk).update(
        invited_at=timezone.now() - timedelta(days=days)
    )


def _run() -> None:
    """The task as beat would queue it, run here inside the institution (and this test's
    transaction). Other tests may have committed students of their own to the same
    institution, so the assertions look at this test's enrolments only."""
    send_reminders.apply().get()


def _reminders_to(enrollment: CohortEnrollment) -> int:
    return OutboundEmail.objects.filter(
        template="reminder", recipient=enrollment.user.email
    ).count()


def test_reminder_lists_what_is_outstanding_and_links_to_the_enrolment(enrol, institution):
    enrollment = enrol()
    _details(enrollment)
    _invited_days_ago(enrollment, 3.1)

    _run()

    email = OutboundEmail.objects.get(template="reminder", recipient=enrollment.user.email)
    assert email.context["outstanding"] == [
        "Your consents: give them",
        "Matric certificate: upload it",
        "South African ID or passport: upload it",
        "Your agreement",
    ]
    assert email.context["url"].endswith(f"/my/{enrollment.pk}/")
    message = email_render(email)
    assert message.subject == f"Reminder: finish your enrolment in {enrollment.cohort.name}"
    assert "- Your agreement" in message.body
    enrollment.refresh_from_db()
    assert enrollment.reminders_sent == 1
    assert enrollment.last_reminded_at is not None
    event = AuditEvent.objects.get(action="enrollment.reminded", entity_id=str(enrollment.pk))
    assert event.new_values == {"reminders_sent": 1}
    assert "race" not in str(email.context)
    assert "coloured" not in str(email.context)


def test_no_reminder_before_the_cadence_is_up(enrol, institution):
    enrollment = enrol()
    _invited_days_ago(enrollment, 2.9)
    _run()
    assert _reminders_to(enrollment) == 0


def test_running_twice_sends_once(enrol, institution):
    enrollment = enrol()
    _invited_days_ago(enrollment, 4)
    _run()
    _run()
    assert _reminders_to(enrollment) == 1


def test_reminders_follow_the_cadence_and_stop_at_the_maximum(enrol, institution):
    enrollment = enrol()
    start = enrollment.invited_at
    sent_on = []
    for day in range(0, 40):
        now = start + timedelta(days=day, hours=1)
        if enrollment_remind(enrollment=enrollment, cadence=DEFAULT, now=now):
            sent_on.append(day)
    assert sent_on == [3, 6, 9, 12, 15]
    enrollment.refresh_from_db()
    assert enrollment.reminders_sent == 5
    assert _reminders_to(enrollment) == 5


def test_the_institution_sets_the_cadence(enrol, institution):
    Institution.objects.filter(pk=institution.pk).update(
        settings={"reminder_every_days": 1, "reminder_max": 2}
    )
    enrollment = enrol()
    _invited_days_ago(enrollment, 1.5)
    _run()
    assert _reminders_to(enrollment) == 1
    _run()
    assert _reminders_to(enrollment) == 1
    CohortEnrollment.objects.filter(pk=enrollment.pk).update(
        last_reminded_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    _run()
    assert _reminders_to(enrollment) == 2
    CohortEnrollment.objects.filter(pk=enrollment.pk).update(
        last_reminded_at=timezone.now() - timedelta(days=5)
    )
    _run()
    assert _reminders_to(enrollment) == 2


def test_reminder_max_zero_turns_reminders_off(enrol, institution):
    Institution.objects.filter(pk=institution.pk).update(settings={"reminder_max": 0})
    enrollment = enrol()
    _invited_days_ago(enrollment, 30)
    assert send_reminders.apply().get() == 0
    assert _reminders_to(enrollment) == 0


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ({}, ReminderCadence(timedelta(days=3), 5)),
        ({"reminder_every_days": 7, "reminder_max": 2}, ReminderCadence(timedelta(days=7), 2)),
        ({"reminder_every_days": "2", "reminder_max": "1"}, ReminderCadence(timedelta(days=2), 1)),
        ({"reminder_every_days": 0, "reminder_max": -1}, ReminderCadence(timedelta(days=3), 5)),
        ({"reminder_every_days": "soon", "reminder_max": None}, DEFAULT),
        ({"reminder_every_days": True, "reminder_max": 2.5}, DEFAULT),
    ],
)
def test_reminder_cadence_falls_back_to_the_defaults(stored, expected):
    assert reminder_cadence(stored) == expected


def test_never_to_a_withdrawn_enrolment(enrol, institution, admin):
    enrollment = enrol()
    enrollment_withdraw(enrollment=enrollment, actor=admin, reason="Left")
    _invited_days_ago(enrollment, 10)
    _run()
    assert not enrollment_remind(enrollment=enrollment, cadence=DEFAULT)
    assert _reminders_to(enrollment) == 0


def test_never_to_a_complete_enrolment(enrol, institution, admin):

    enrollment = enrol()
    _details(enrollment)
    for document_type in enrollment.cohort.required_document_types.all():
        document_review(
            document=upload_document(enrollment, document_type), reviewer=admin, approve=True
        )
    enrollment_agreement_sign(enrollment=enrollment, actor=enrollment.user, signature="Sipho")
    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.COMPLETE
    _invited_days_ago(enrollment, 10)

    _run()
    assert not enrollment_remind(enrollment=enrollment, cadence=DEFAULT)
    assert _reminders_to(enrollment) == 0


def test_not_while_everything_waits_for_review(enrol, institution):
    enrollment = enrol()
    consents_give(enrollment.learner)
    _details(enrollment)
    for document_type in enrollment.cohort.required_document_types.all():
        upload_document(enrollment, document_type)
    enrollment_agreement_sign(enrollment=enrollment, actor=enrollment.user, signature="Sipho")
    _invited_days_ago(enrollment, 10)
    _run()
    assert _reminders_to(enrollment) == 0


def test_a_rejected_document_is_outstanding(enrol, institution, admin):

    enrollment = enrol()
    consents_give(enrollment.learner)
    _details(enrollment)
    documents = [
        upload_document(enrollment, t) for t in enrollment.cohort.required_document_types.all()
    ]
    enrollment_agreement_sign(enrollment=enrollment, actor=enrollment.user, signature="Sipho")
    document_review(document=documents[0], reviewer=admin, approve=False, reason="X")
    _invited_days_ago(enrollment, 4)

    _run()
    email = OutboundEmail.objects.get(template="reminder", recipient=enrollment.user.email)
    assert email.context["outstanding"] == [
        "Matric certificate: not accepted, upload a new version"
    ]


def test_a_student_without_a_password_gets_a_fresh_invitation(enrol, institution):
    enrollment = enrol()
    student = enrollment.user
    student.set_unusable_password()
    student.save(update_fields=["password"])
    first_invitation = Invitation.objects.get(user=student)
    _invited_days_ago(enrollment, 4)

    _run()

    assert _reminders_to(enrollment) == 0
    assert OutboundEmail.objects.filter(template="invitation", recipient=student.email).count() == 2
    first_invitation.refresh_from_db()
    assert first_invitation.revoked_at is not None
    assert Invitation.objects.filter(user=student, revoked_at__isnull=True).count() == 1


def test_a_deactivated_student_is_not_reminded(enrol, institution):
    enrollment = enrol()
    enrollment.user.is_active = False
    enrollment.user.save(update_fields=["is_active"])
    _invited_days_ago(enrollment, 4)
    _run()
    assert _reminders_to(enrollment) == 0


def test_beat_task_runs_in_every_active_institution_and_skips_suspended_ones(
    enrol, institution, other_institution, monkeypatch
):
    from config.celery import app
    from tests.factories import CohortFactory, UserFactory

    connection.set_tenant(institution)
    here = enrol()
    _invited_days_ago(here, 4)
    with tenant_context(other_institution):
        from enrolments.services import enrollment_invite

        there = enrollment_invite(
            cohort=CohortFactory(),
            actor=UserFactory(roles=["admin"]),
            email="beta-student@example.org",
            full_name="Beta Student",
        )
        there.user.set_password("x-Password-123")
        there.user.save(update_fields=["password"])
        _invited_days_ago(there, 4)
    # Run the fanned-out tasks in this process, inside this test's transaction.
    monkeypatch.setitem(app.conf, "task_always_eager", True)

    send_reminders_all_institutions.apply()

    assert _reminders_to(here) == 1
    with tenant_context(other_institution):
        assert _reminders_to(there) == 1
        there.refresh_from_db()
        assert there.reminders_sent == 1

    # A suspended institution's students are left alone.
    Institution.objects.filter(pk=other_institution.pk).update(status="suspended")
    CohortEnrollment.objects.filter(pk=here.pk).update(last_reminded_at=None)
    with tenant_context(other_institution):
        CohortEnrollment.objects.filter(pk=there.pk).update(last_reminded_at=None)
    connection.set_tenant(institution)
    send_reminders_all_institutions.apply()
    assert _reminders_to(here) == 2
    with tenant_context(other_institution):
        assert _reminders_to(there) == 1
