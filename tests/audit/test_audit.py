import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

import audit.views
from accounts.models import SystemRole
from audit.models import AuditEvent
from audit.selectors import audit_chain_first_break
from audit.services import GENESIS_HASH, audit_record, event_hash
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _record(n: int, actor=None) -> list[AuditEvent]:
    return [
        audit_record(actor=actor, action="test.event", entity_type="test.thing", entity_id=i)
        for i in range(n)
    ]


def test_each_event_links_to_the_previous_one(institution):
    before = AuditEvent.objects.order_by("-id").first()
    first, second = _record(2)

    assert first.prev_hash == (before.hash if before else GENESIS_HASH)
    assert second.prev_hash == first.hash
    assert second.hash == event_hash(prev_hash=first.hash, event=second)
    assert audit_chain_first_break() is None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET action = 'rewritten'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ],
)
def test_the_database_refuses_to_change_or_remove_events(institution, statement):
    _record(1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(statement)
    assert AuditEvent.objects.exists()


def test_orm_updates_are_refused_too(institution):
    (event,) = _record(1)
    event.action = "quietly.changed"
    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()


def test_verify_command_finds_a_row_edited_behind_the_triggers_back(institution, capsys):
    events = _record(3)
    call_command("verify_audit_chain", schema=institution.schema_name)
    assert "audit chain intact" in capsys.readouterr().out

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before ALTER
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(
            "UPDATE audit_auditevent SET new_values = '{\"forged\": true}' WHERE id = %s",
            [events[1].pk],
        )
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")

    with pytest.raises(CommandError, match="broken"):
        call_command("verify_audit_chain", schema=institution.schema_name)
    assert f"broken at event {events[1].pk}" in capsys.readouterr().err


def test_a_deleted_event_breaks_the_link_of_the_next(institution):
    events = _record(3)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before ALTER
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")
    assert audit_chain_first_break().pk == events[2].pk


def test_chains_are_per_institution(institution, other_institution):
    _record(2)
    connection.set_tenant(other_institution)
    _record(2)
    assert audit_chain_first_break() is None
    connection.set_tenant(institution)
    assert audit_chain_first_break() is None


def test_requests_carry_a_correlation_id_into_events_and_the_response(institution, client_for):
    UserFactory(email="corr@example.org")
    client = client_for(institution)

    response = client.post(
        "/accounts/login/",
        {"username": "corr@example.org", "password": "wrong"},
        HTTP_X_REQUEST_ID="trace-abc-12345",
        HTTP_USER_AGENT="TestBrowser/1.0",
        REMOTE_ADDR="192.0.2.44",
    )

    assert response["X-Request-ID"] == "trace-abc-12345"
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.correlation_id == "trace-abc-12345"
    assert event.user_agent == "TestBrowser/1.0"
    assert event.ip_address == "192.0.2.44"


def test_an_unsafe_request_id_is_replaced(institution, client_for):
    response = client_for(institution).get(
        "/accounts/login/", HTTP_X_REQUEST_ID="bad id\r\nInjected: 1"
    )
    assert len(response["X-Request-ID"]) == 32
    assert "Injected" not in response["X-Request-ID"]


def test_refused_pages_are_audited(institution, client_for):
    student = UserFactory(roles=[SystemRole.STUDENT])
    client = client_for(institution)
    client.force_login(student)
    assert client.get("/audit/").status_code == 404
    assert AuditEvent.objects.filter(
        action="permission.denied", actor=student, entity_id__endswith="audit_list"
    ).exists()


def test_audit_page_filters_and_exports_csv(institution, client_for):
    auditor = UserFactory(roles=[SystemRole.AUDITOR], email="auditor@example.org")
    other = UserFactory(roles=[SystemRole.ADMIN])
    audit_record(actor=other, action="thing.made", entity_type="test.thing", entity_id="42")
    audit_record(actor=auditor, action="thing.seen", entity_type="test.thing", entity_id="43")
    client = client_for(institution)
    client.force_login(auditor)

    page = client.get("/audit/", {"action": "thing.made"}).content.decode()
    assert "thing.made" in page
    assert "#43" not in page

    by_actor = client.get("/audit/", {"actor": other.pk}).content.decode()
    assert "#42" in by_actor
    assert "#43" not in by_actor

    export = client.get("/audit/export.csv", {"entity_type": "test.thing"})
    assert export["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert {row["entity_id"] for row in rows} == {"42", "43"}
    assert all(len(row["hash"]) == 64 for row in rows)


def test_audit_page_explains_bad_dates(institution, client_for):
    admin = UserFactory(roles=[SystemRole.ADMIN])
    client = client_for(institution)
    client.force_login(admin)
    page = client.get("/audit/", {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert "The end date is before the start date." in page.content.decode()


def test_audit_page_query_count_does_not_grow_with_rows(
    institution, client_for, django_assert_max_num_queries
):
    admin = UserFactory(roles=[SystemRole.ADMIN])
    client = client_for(institution)
    client.force_login(admin)
    _record(3, actor=admin)
    with django_assert_max_num_queries(40) as few:
        client.get("/audit/")
    _record(30, actor=UserFactory(roles=[SystemRole.TRAINER]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/audit/")


def test_page_two_of_the_audit_trail_keeps_its_filters(institution, client_for, monkeypatch):
    monkeypatch.setattr(audit.views, "LOG_PAGE_SIZE", 2)
    auditor = UserFactory(roles=[SystemRole.AUDITOR])
    made = [
        audit_record(action="thing.made", entity_type="test.thing", entity_id=n) for n in range(3)
    ]
    _record(3)
    client = client_for(institution)
    client.force_login(auditor)

    first = client.get("/audit/", {"action": "thing.made", "entity_type": ""})
    assert 'href="?action=thing.made&amp;page=2"' in first.content.decode()
    second = client.get("/audit/?action=thing.made&page=2")
    assert list(second.context["page"]) == made[:1]
