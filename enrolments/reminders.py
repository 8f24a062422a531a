"""Reminders: each student who still has something to do is e-mailed what, on the
institution's cadence, until they are done or the reminders run out (the daily task is
enrolments.tasks.send_reminders)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.services import invitation_issue
from audit.services import audit_record
from enrolments.models import CohortEnrollment
from enrolments.selectors import EnrollmentStep, StepStatus, enrollment_steps
from enrolments.services import enrollment_lock, enrollment_portal_url
from notifications.services import email_enqueue

REMINDER_EVERY_DAYS = 3
REMINDER_MAX = 5


@dataclass(frozen=True)
class ReminderCadence:
    every: timedelta
    max_reminders: int


def reminder_cadence(institution_settings: dict[str, Any]) -> ReminderCadence:
    """The institution's reminder cadence (Institution.settings `reminder_every_days`,
    `reminder_max`), falling back to the defaults for missing or nonsensical values.
    `reminder_max` 0 turns reminders off."""

    def whole_number(key: str, default: int, minimum: int) -> int:
        value = institution_settings.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | str):
            return default
        try:
            number = int(value)
        except ValueError:
            return default
        return number if number >= minimum else default

    return ReminderCadence(
        every=timedelta(days=whole_number("reminder_every_days", REMINDER_EVERY_DAYS, 1)),
        max_reminders=whole_number("reminder_max", REMINDER_MAX, 0),
    )


def _reminder_line(step: EnrollmentStep) -> str:
    if step.status == StepStatus.REJECTED:
        return f"{step.title}: not accepted, upload a new version"
    if step.status == StepStatus.DECLINED:
        return f"{step.title}: you declined it; sign it when you are ready"
    if step.kind == "document":
        return f"{step.title}: upload it"
    if step.kind == "supporting":
        return f"{step.title}: sign it"
    if step.kind == "consents":
        return f"{step.title}: give them"
    return step.title


def enrollment_remind(
    *, enrollment: CohortEnrollment, cadence: ReminderCadence, now: datetime | None = None
) -> bool:
    """Remind a student of what they still have to do, if a reminder is due: the enrolment is
    open in a cohort that is not closed, the student has something outstanding, fewer than
    `cadence.max_reminders` were sent, and the last one (or the invitation) is at least
    `cadence.every` old. Safe to call twice: returns False when nothing was due. A student who
    has not set a password yet gets a fresh invitation instead, since the reminder's link
    would be no use to them."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        enrollment = enrollment_lock(enrollment)
        last = enrollment.last_reminded_at or enrollment.invited_at
        if (
            not enrollment.can_change
            or not enrollment.user.is_in_service
            or enrollment.reminders_sent >= cadence.max_reminders
            or now - last < cadence.every
        ):
            return False
        outstanding = [step for step in enrollment_steps(enrollment) if step.is_outstanding]
        if not outstanding:
            return False
        student = enrollment.user
        if student.has_usable_password():
            email_enqueue(
                recipient=student.email,
                template="reminder",
                context={
                    "full_name": student.full_name,
                    "cohort_name": enrollment.cohort.name,
                    "outstanding": [_reminder_line(step) for step in outstanding],
                    "url": enrollment_portal_url(enrollment),
                },
            )
        else:
            invitation_issue(user=student, invited_by=None)
        enrollment.reminders_sent += 1
        enrollment.last_reminded_at = now
        enrollment.save(update_fields=["reminders_sent", "last_reminded_at", "updated_at"])
        audit_record(
            action="enrollment.reminded",
            entity=enrollment,
            new_values={"reminders_sent": enrollment.reminders_sent},
        )
    return True
