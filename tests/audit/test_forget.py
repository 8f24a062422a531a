"""Forgetting a person in the audit trail: their e-mail, IP address and user agent are blanked
and their key deleted, the chain still verifies, the database lets exactly that change through,
and a clear value altered behind the application's back is still found."""

import pytest
from django.db import DatabaseError, connection, transaction

from accounts.models import SystemRole
from audit.chain import event_actor_digest
from audit.context import RequestContext, activate, deactivate
from audit.models import ActorKey, AuditEvent, EventFormat
from audit.selectors import audit_chain_first_break
from audit.services import audit_actor_forget, audit_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def from_a_browser():
    """Events recorded as if during a request from a browser."""
    token = activate(
        RequestContext(
            correlation_id="forget-test", ip_address="198.51.100.23", user_agent="Firefox/140.0"
        )
    )
    yield
    deactivate(token)


def _events(actor, n: int = 2) -> list[AuditEvent]:
    return [
        audit_record(actor=actor, action="test.done", entity_type="test.thing", entity_id=i)
        for i in range(n)
    ]


def _behind_the_triggers_back(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks before ALTER
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def test_new_events_hash_a_keyed_digest_of_the_actors_values(institution, from_a_browser):
    person = UserFactory(email="digest@example.org")
    (event,) = _events(person, 1)

    event.refresh_from_db()
    key = bytes(ActorKey.objects.get(user=person).key)
    assert event.format == EventFormat.DIGEST
    assert (event.actor_email, event.ip_address) == ("digest@example.org", "198.51.100.23")
    assert event.actor_digest == event_actor_digest(key=key, event=event)
    assert audit_chain_first_break() is None


def test_forgetting_blanks_the_persons_events_and_the_chain_still_verifies(
    institution, from_a_browser
):
    person = UserFactory(roles=[SystemRole.TRAINER])
    other = UserFactory(email="kept@example.org")
    theirs = _events(person, 3)
    kept = _events(other, 1)
    key_id = ActorKey.objects.get(user=person).pk

    assert audit_actor_forget(user=person) == 3

    for event in AuditEvent.objects.filter(pk__in=[e.pk for e in theirs]):
        assert (event.actor_email, event.ip_address, event.user_agent) == ("", None, "")
        assert event.actor_id == person.pk
    assert AuditEvent.objects.get(pk=kept[0].pk).actor_email == "kept@example.org"
    assert not ActorKey.objects.filter(user=person).exists()
    assert audit_chain_first_break() is None
    forgotten = AuditEvent.objects.get(action="audit.actor_forgotten")
    assert forgotten.new_values == {"events": 3, "key": key_id}
    assert forgotten.entity_id == str(person.pk)


def test_a_forgotten_person_acting_again_gets_a_new_key(institution, from_a_browser):
    person = UserFactory()
    _events(person, 1)
    old_key = bytes(ActorKey.objects.get(user=person).key)
    audit_actor_forget(user=person)

    _events(person, 1)

    assert bytes(ActorKey.objects.get(user=person).key) != old_key
    assert audit_chain_first_break() is None


def test_a_clear_value_altered_is_found(institution, from_a_browser):
    events = _events(UserFactory(), 3)
    _behind_the_triggers_back(
        "UPDATE audit_auditevent SET ip_address = '203.0.113.9' WHERE id = %s", [events[1].pk]
    )
    assert audit_chain_first_break().pk == events[1].pk


def test_a_value_written_back_after_forgetting_is_found(institution, from_a_browser):
    person = UserFactory()
    events = _events(person, 2)
    audit_actor_forget(user=person)
    _behind_the_triggers_back(
        "UPDATE audit_auditevent SET actor_email = 'someone@example.org' WHERE id = %s",
        [events[0].pk],
    )
    assert audit_chain_first_break().pk == events[0].pk


def test_blanking_a_value_while_the_key_exists_is_found(institution, from_a_browser):
    events = _events(UserFactory(), 2)
    with connection.cursor() as cursor:  # the trigger lets the forgetting update through
        cursor.execute(
            "UPDATE audit_auditevent SET actor_email = '', ip_address = NULL, user_agent = '' "
            "WHERE id = %s",
            [events[1].pk],
        )
    assert audit_chain_first_break().pk == events[1].pk


def test_the_database_lets_the_forgetting_update_through(institution, from_a_browser):
    (event,) = _events(UserFactory(), 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_email = '', ip_address = NULL, user_agent = '' "
            "WHERE id = %s",
            [event.pk],
        )
    event.refresh_from_db()
    assert (event.actor_email, event.ip_address, event.user_agent) == ("", None, "")


@pytest.mark.parametrize(
    "assignments",
    [
        # A value replaced, not blanked.
        "actor_email = 'other@example.org', ip_address = NULL, user_agent = ''",
        # Blanked only in part.
        "actor_email = '', user_agent = ''",
        # Blanked, and something else changed with it.
        "actor_email = '', ip_address = NULL, user_agent = '', action = 'rewritten'",
        "actor_email = '', ip_address = NULL, user_agent = '', actor_id = NULL",
        "actor_email = '', ip_address = NULL, user_agent = '', new_values = '{\"x\": 1}'",
    ],
)
def test_the_database_refuses_any_other_update(institution, from_a_browser, assignments):
    (event,) = _events(UserFactory(), 1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute(
                f"UPDATE audit_auditevent SET {assignments} WHERE id = %s",  # noqa: S608
                [event.pk],
            )
    event.refresh_from_db()
    assert event.actor_email


def test_the_audit_page_says_forgotten(institution, client_for, from_a_browser):
    person = UserFactory(email="gone@example.org")
    audit_record(actor=person, action="thing.made", entity_type="test.thing", entity_id="7")
    audit_actor_forget(user=person)
    auditor = UserFactory(roles=[SystemRole.AUDITOR])
    client = client_for(institution)
    client.force_login(auditor)

    page = client.get("/audit/", {"action": "thing.made"}).content.decode()

    assert "(forgotten)" in page
    assert "gone@example.org" not in page


def _delete_key_behind_the_services_back(user) -> None:
    ActorKey.objects.filter(user=user).delete()


def test_a_key_deleted_without_a_recorded_forgetting_is_found(institution, from_a_browser):
    person = UserFactory()
    events = _events(person, 2)
    with connection.cursor() as cursor:  # the trigger lets the blanking through
        cursor.execute(
            "UPDATE audit_auditevent SET actor_email = '', ip_address = NULL, user_agent = '' "
            "WHERE actor_id = %s",
            [person.pk],
        )
    _delete_key_behind_the_services_back(person)

    assert audit_chain_first_break().pk == events[0].pk


def test_a_forgetting_accounts_only_for_the_key_it_recorded(institution, from_a_browser):
    person = UserFactory()
    audit_actor_forget(user=person)  # forgets an earlier key (none yet)
    events = _events(person, 1)  # a new key
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_email = '', ip_address = NULL, user_agent = '' "
            "WHERE id = %s",
            [events[0].pk],
        )
    _delete_key_behind_the_services_back(person)

    assert audit_chain_first_break().pk == events[0].pk


def test_the_database_refuses_to_change_a_key_or_delete_the_shared_one(institution, from_a_browser):
    _events(None, 1)
    person = UserFactory()
    _events(person, 1)
    for sql, params in (
        ("UPDATE audit_actorkey SET key = '\\x00'::bytea WHERE user_id = %s", [person.pk]),
        ("DELETE FROM audit_actorkey WHERE user_id IS NULL", []),
    ):
        with (
            transaction.atomic(),
            connection.cursor() as cursor,
            pytest.raises(DatabaseError, match="audit keys are kept"),
            transaction.atomic(),
        ):
            cursor.execute(sql, params)
    assert ActorKey.objects.filter(user=None).exists()
    assert audit_chain_first_break() is None


def test_an_anonymous_action_about_a_person_is_forgotten_with_them(institution, from_a_browser):
    person = UserFactory(email="signer@example.org")
    visitor = _events(None, 1)[0]
    about = audit_record(
        action="test.link_opened", entity_type="test.thing", entity_id="1", subject=person
    )
    about.refresh_from_db()
    assert about.subject_id == person.pk
    assert about.digest_key_id == ActorKey.objects.get(user=person).pk

    audit_actor_forget(user=person)

    about.refresh_from_db()
    assert (about.ip_address, about.user_agent) == (None, "")
    visitor.refresh_from_db()
    assert visitor.ip_address == "198.51.100.23"  # other visitors keep theirs
    assert audit_chain_first_break() is None


def test_the_subject_is_covered_by_the_hash(institution, from_a_browser):
    person, other = UserFactory(), UserFactory()
    about = audit_record(
        action="test.link_opened", entity_type="test.thing", entity_id="1", subject=person
    )
    _behind_the_triggers_back(
        "UPDATE audit_auditevent SET subject_id = %s WHERE id = %s", [other.pk, about.pk]
    )
    assert audit_chain_first_break().pk == about.pk
