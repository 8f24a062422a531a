"""Scheduled definitions: run when due (once, however many beats), moved on to their next
Monday or 1st at 06:00 in the institution's time zone, and their recipients e-mailed a link to
the result, never the data; a recipient who may no longer see the report gets nothing."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.models import Role, SystemRole
from audit.models import AuditEvent
from reports.models import ExecutionStatus, ReportDefinition, ReportExecution, ReportSchedule
from reports.services import (
    report_definition_create,
    report_definitions_run_due,
    report_next_run_at,
)
from reports.tasks import report_definitions_run_due_all_institutions
from tests.factories import UserFactory
from tests.reports.registered import ROSTER

pytestmark = pytest.mark.django_db

JOHANNESBURG = ZoneInfo("Africa/Johannesburg")


def scheduled(admin, *, schedule=ReportSchedule.WEEKLY, recipients=()) -> ReportDefinition:
    return report_definition_create(
        actor=admin,
        report_key=ROSTER.key,
        name=f"Roster {schedule}",
        parameters={"size": 6},
        schedule=schedule,
        recipients=list(recipients) or [admin],
    )


def due(definition: ReportDefinition) -> ReportDefinition:
    ReportDefinition.objects.filter(pk=definition.pk).update(
        next_run_at=timezone.now() - timedelta(minutes=5)
    )
    definition.refresh_from_db()
    return definition


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        # A Wednesday: the next Monday.
        ("weekly", datetime(2027, 3, 10, 12, 0), datetime(2027, 3, 15, 6, 0)),
        # A Monday before six: the same morning; at six: the Monday after.
        ("weekly", datetime(2027, 3, 15, 5, 59), datetime(2027, 3, 15, 6, 0)),
        ("weekly", datetime(2027, 3, 15, 6, 0), datetime(2027, 3, 22, 6, 0)),
        ("monthly", datetime(2027, 1, 31, 23, 0), datetime(2027, 2, 1, 6, 0)),
        ("monthly", datetime(2027, 12, 1, 6, 30), datetime(2028, 1, 1, 6, 0)),
        ("", datetime(2027, 12, 1, 6, 30), None),
    ],
)
def test_the_next_run_is_monday_or_the_first_at_six_in_the_institutions_time(
    institution, schedule, after, expected
):
    got = report_next_run_at(schedule, after.replace(tzinfo=JOHANNESBURG))
    assert got == (expected.replace(tzinfo=JOHANNESBURG) if expected else None)


def test_the_next_run_follows_the_institutions_own_time_zone(institution):
    institution.time_zone = "Europe/London"
    institution.save(update_fields=["time_zone"])
    after = datetime(2027, 3, 10, 12, 0, tzinfo=JOHANNESBURG)
    assert report_next_run_at("weekly", after) == datetime(
        2027, 3, 15, 6, 0, tzinfo=ZoneInfo("Europe/London")
    )


def test_a_due_definition_runs_once_and_moves_on_while_one_not_due_waits(
    admin, eager, media, django_capture_on_commit_callbacks
):
    weekly = due(scheduled(admin))
    monthly = scheduled(admin, schedule=ReportSchedule.MONTHLY)
    monthly_next = monthly.next_run_at

    with django_capture_on_commit_callbacks(execute=True):
        assert report_definitions_run_due() == 1
        assert report_definitions_run_due() == 0

    execution = ReportExecution.objects.get()
    assert execution.definition == weekly
    assert execution.requested_by is None
    assert execution.status == ExecutionStatus.COMPLETED
    assert execution.parameters == {"size": 6, "group": None}
    weekly.refresh_from_db()
    monthly.refresh_from_db()
    assert weekly.next_run_at > timezone.now()
    assert weekly.next_run_at.astimezone(JOHANNESBURG).weekday() == 0
    assert monthly.next_run_at == monthly_next
    assert AuditEvent.objects.filter(action="reports.execution_schedule").count() == 1


def test_recipients_are_mailed_a_link_without_the_data(
    admin, eager, media, mailoutbox, django_capture_on_commit_callbacks, settings
):
    finance = UserFactory(roles=[SystemRole.FINANCE], full_name="Fikile Finance")
    lost = UserFactory(roles=[SystemRole.OPS_ADMIN], full_name="Lost Access")
    definition = due(scheduled(admin, recipients=[finance, lost]))
    # Since it was saved, Lost Access lost the role that let them see reports.
    lost.roles.set([Role.objects.get(key=SystemRole.TRAINER)])

    with django_capture_on_commit_callbacks(execute=True):
        report_definitions_run_due()

    execution = ReportExecution.objects.get(definition=definition)
    assert [message.to for message in mailoutbox] == [[finance.email]]
    message = mailoutbox[0]
    body = message.body + message.alternatives[0][0]
    assert f"/reports/runs/{execution.pk}/" in body
    assert "Roster weekly" in message.subject
    assert "Learner 1" not in body
    assert not message.attachments


def test_the_hourly_beat_runs_each_institutions_due_definitions(
    admin, institution, eager, media, django_capture_on_commit_callbacks
):
    due(scheduled(admin))
    with django_capture_on_commit_callbacks(execute=True):
        report_definitions_run_due_all_institutions()
        report_definitions_run_due_all_institutions()
    assert ReportExecution.objects.count() == 1
