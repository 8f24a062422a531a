"""Saved report definitions: only what the report declares is saved, by people who manage
reports, with their schedule and recipients; the reports page lists what each person may run."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from reports.models import ReportDefinition, ReportExecution, ReportFormat, ReportSchedule
from reports.services import (
    report_definition_create,
    report_definition_delete,
    report_definition_update,
)
from tenants.zones import institution_zone
from tests.factories import UserFactory
from tests.reports.registered import FINANCE_ROSTER, ROSTER

pytestmark = pytest.mark.django_db


def saved(admin, **overrides) -> ReportDefinition:
    values = {
        "actor": admin,
        "report_key": ROSTER.key,
        "name": "Monthly roster",
        "parameters": {"size": 3, "group": "Evening"},
        "columns": ["name", "learners"],
        "format": ReportFormat.XLSX,
    }
    return report_definition_create(**{**values, **overrides})


def test_a_definition_refuses_a_parameter_the_report_does_not_declare(admin):
    with pytest.raises(ValidationError) as refused:
        saved(admin, parameters={"size": 3, "salary": 10})
    assert refused.value.messages == ["Test roster has no parameter “salary”."]
    assert not ReportDefinition.objects.exists()


def test_a_definition_refuses_a_column_the_report_does_not_give(admin):
    with pytest.raises(ValidationError) as refused:
        saved(admin, columns=["name", "id_number"])
    assert refused.value.messages == ["Test roster has no column “id_number”."]
    assert not ReportDefinition.objects.exists()


def test_a_definition_refuses_a_query_that_is_not_a_registered_report(admin):
    with pytest.raises(ValidationError) as refused:
        saved(admin, report_key="select * from learners")
    assert "There is no report" in refused.value.messages[0]


def test_a_definition_refuses_a_parameter_value_the_report_form_refuses(admin):
    with pytest.raises(ValidationError) as refused:
        saved(admin, parameters={"size": -1})
    assert refused.value.messages == ["Rows: Ensure this value is greater than or equal to 0."]


def test_an_admin_saves_a_scheduled_definition_and_it_is_audited(admin, institution):
    recipient = UserFactory(roles=[SystemRole.FINANCE])
    definition = saved(admin, schedule=ReportSchedule.MONTHLY, recipients=[recipient])

    definition.refresh_from_db()
    assert definition.query == ROSTER.key
    assert definition.parameters == {"size": 3, "group": "Evening"}
    assert definition.columns == ["name", "learners"]
    assert list(definition.recipients.all()) == [recipient]
    local = definition.next_run_at.astimezone(institution_zone())
    assert (local.day, local.hour, local.minute) == (1, 6, 0)
    assert timezone.now() < definition.next_run_at <= timezone.now() + timedelta(days=32)
    event = AuditEvent.objects.get(action="reports.definition_create")
    assert event.entity_id == str(definition.pk)
    assert event.new_values["recipients"] == [recipient.pk]


def test_columns_are_kept_in_the_reports_order(admin):
    definition = saved(admin, columns=["learners", "name", "learners"])
    assert definition.columns == ["name", "learners"]


def test_a_recipient_who_may_not_see_the_report_is_refused(admin):
    ops = UserFactory(roles=[SystemRole.OPS_ADMIN], full_name="Olu Ops")
    with pytest.raises(ValidationError) as refused:
        saved(
            admin,
            report_key=FINANCE_ROSTER.key,
            schedule=ReportSchedule.WEEKLY,
            recipients=[ops],
        )
    assert "Olu Ops" in refused.value.messages[0]


def test_someone_who_may_only_view_reports_cannot_save_one(institution):
    ops = UserFactory(roles=[SystemRole.OPS_ADMIN])
    with pytest.raises(PermissionDenied):
        saved(ops)
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="reports.definition_create"
    ).exists()


def test_a_definition_is_changed_and_deleted_with_audit_events(admin):
    definition = saved(admin)
    report_definition_update(
        actor=admin,
        definition=definition,
        name="Weekly roster",
        parameters={"size": 5},
        columns=[],
        format=ReportFormat.CSV,
        schedule=ReportSchedule.WEEKLY,
        recipients=[admin],
    )
    definition.refresh_from_db()
    assert definition.name == "Weekly roster"
    local = definition.next_run_at.astimezone(institution_zone())
    assert (local.weekday(), local.hour) == (0, 6)
    assert timezone.now() < definition.next_run_at <= timezone.now() + timedelta(days=7)

    report_definition_delete(actor=admin, definition=definition)
    assert not ReportDefinition.objects.exists()
    actions = list(AuditEvent.objects.values_list("action", flat=True).order_by("id"))
    assert actions[-3:] == [
        "reports.definition_create",
        "reports.definition_update",
        "reports.definition_delete",
    ]


def test_the_reports_page_lists_only_the_reports_a_person_may_run(client_of, admin):
    ops = UserFactory(roles=[SystemRole.OPS_ADMIN])
    saved(admin, report_key=FINANCE_ROSTER.key, name="Finance roster")
    saved(admin, name="Plain roster")

    ops_page = client_of(ops).get(reverse("reports:index")).content.decode()
    admin_page = client_of(admin).get(reverse("reports:index")).content.decode()

    assert "Test roster" in ops_page
    assert "Plain roster" in ops_page
    assert "Test finance roster" not in ops_page
    assert "Finance roster" not in ops_page
    assert "Test finance roster" in admin_page
    assert "Finance roster" in admin_page
    assert (
        client_of(ops).get(reverse("reports:report", args=[FINANCE_ROSTER.key])).status_code == 404
    )
    student = UserFactory(roles=[SystemRole.STUDENT])
    assert client_of(student).get(reverse("reports:index")).status_code == 404


def test_the_reports_page_shows_its_empty_states(admin_client):
    page = admin_client.get(reverse("reports:index")).content.decode()
    assert "No saved reports yet." in page
    assert "No report has been run yet." in page


def test_an_admin_saves_edits_and_deletes_a_definition_through_the_pages(admin_client, admin):
    create_url = reverse("reports:definition_create", args=[ROSTER.key])
    refused = admin_client.post(
        create_url, {"name": "Roster", "size": "2", "format": "csv", "schedule": "weekly"}
    )
    assert refused.status_code == 400
    assert "choose who receives the link" in refused.content.decode()

    response = admin_client.post(
        create_url,
        {
            "name": "Roster",
            "size": "2",
            "format": "csv",
            "columns": ["name"],
            "schedule": "weekly",
            "recipients": [str(admin.pk)],
        },
    )
    assert response.status_code == 302
    definition = ReportDefinition.objects.get()
    assert definition.parameters == {"size": 2, "group": None}
    assert definition.schedule == ReportSchedule.WEEKLY

    edit_url = reverse("reports:definition_edit", args=[definition.pk])
    form_page = admin_client.get(edit_url).content.decode()
    assert 'value="Roster"' in form_page
    response = admin_client.post(
        edit_url, {"name": "Roster, evening", "size": "4", "group": "Evening", "format": "xlsx"}
    )
    assert response.status_code == 302
    definition.refresh_from_db()
    assert (definition.name, definition.parameters) == (
        "Roster, evening",
        {"size": 4, "group": "Evening"},
    )
    assert (definition.schedule, definition.next_run_at) == ("", None)

    index = admin_client.get(reverse("reports:index")).content.decode()
    assert 'data-confirm="Delete the saved report “Roster, evening”?' in index
    admin_client.post(reverse("reports:definition_delete", args=[definition.pk]))
    assert not ReportDefinition.objects.exists()


def test_a_second_definition_cannot_take_a_name_already_used(admin_client, admin):
    saved(admin, name="Roster")
    response = admin_client.post(
        reverse("reports:definition_create", args=[ROSTER.key]),
        {"name": "roster", "size": "2", "format": "csv"},
    )
    assert response.status_code == 400
    assert "already has this name" in response.content.decode()


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_reports_page_reads_the_same_queries_for_2_and_6_definitions_and_runs(
    admin, admin_client
):
    counts = []
    for total in (2, 6):
        while ReportDefinition.objects.count() < total:
            number = ReportDefinition.objects.count()
            definition = saved(admin, name=f"Roster {number}")
            ReportExecution.objects.create(
                definition=definition, report_key=ROSTER.key, requested_by=admin
            )
            ReportExecution.objects.create(report_key=ROSTER.key, requested_by=None)
        counts.append(_queries(admin_client, reverse("reports:index")))
    assert counts[0] == counts[1]
