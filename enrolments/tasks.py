from celery import shared_task
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from enrolments.models import CohortEnrollment, EnrollmentState
from enrolments.services import enrollment_remind, reminder_cadence
from tenants.models import Institution
from tenants.selectors import schema_names_for_background_work


@shared_task(name="enrolments.send_reminders")
def send_reminders() -> int:
    """Remind this institution's students who have something outstanding, on the
    institution's cadence. Idempotent: each reminder is re-checked under a lock by
    enrollment_remind, so a repeated run sends nothing twice."""
    if connection.schema_name == get_public_schema_name():
        return 0  # the platform's own schema has no students
    institution = Institution.objects.get(schema_name=connection.schema_name)
    cadence = reminder_cadence(institution.settings or {})
    if cadence.max_reminders == 0:
        return 0
    now = timezone.now()
    due_before = now - cadence.every
    candidates = (
        CohortEnrollment.objects.filter(
            state__in=[EnrollmentState.WAITING, EnrollmentState.IN_PROGRESS],
            reminders_sent__lt=cadence.max_reminders,
            user__is_active=True,
        )
        .filter(
            Q(last_reminded_at__isnull=True, invited_at__lte=due_before)
            | Q(last_reminded_at__lte=due_before)
        )
        .order_by("pk")
    )
    sent = 0
    # Links in the e-mails are built from the institution on the connection; a task run in
    # place (eagerly, inside schema_context) may have only the schema name there.
    with tenant_context(institution):
        for enrollment in list(candidates):
            sent += enrollment_remind(enrollment=enrollment, cadence=cadence, now=now)
    return sent


@shared_task(name="enrolments.send_reminders_all_institutions")
def send_reminders_all_institutions() -> None:
    """Beat entry point: one reminder run per active institution, skipping suspended ones and
    the platform's own schema."""
    for schema_name in schema_names_for_background_work():
        if schema_name == get_public_schema_name():
            continue
        with schema_context(schema_name):
            send_reminders.delay()
