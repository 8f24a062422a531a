"""Soft delete of accounts: a deleted person cannot sign in, is hidden and can be restored until
the purge, which anonymises them for good; who may delete whom; the pages."""

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from accounts.backends import RoleBackend
from accounts.models import Invitation, Role, SystemRole, User
from accounts.roles import permissions_for
from accounts.selectors import user_list, users_holding, users_with_permission
from accounts.services import (
    accounts_purge_due,
    invitation_issue,
    user_delete,
    user_restore,
)
from audit.context import RequestContext, activate, deactivate
from audit.models import ActorKey, AuditEvent
from audit.selectors import audit_chain_first_break
from audit.services import audit_record
from learners.models import Learner
from learners.services import learner_for_user
from privacy.models import DataProtectionSettings, JobKind, JobRun
from privacy.tasks import data_protection_jobs_run_all_institutions
from tenants.directory import email_directory_hash
from tenants.models import InstitutionDirectoryEntry
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _session_for(user) -> str:
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session.create()
    return session.session_key


def _signs_in(email: str) -> User | None:
    """Who the sign-in backend lets in with `email` and the factories' password."""
    return RoleBackend().authenticate(None, username=email, password=PASSWORD)


def _deleted_days_ago(user: User, days: int) -> None:
    User.objects.filter(pk=user.pk).update(deleted_at=timezone.now() - timedelta(days=days))


def test_a_deleted_person_cannot_sign_in_and_their_sessions_end(institution, admin):
    person = UserFactory(email="leaving@example.org", roles=[SystemRole.TRAINER])
    session = _session_for(person)
    bystander = _session_for(admin)

    user_delete(user=person, actor=admin)

    person.refresh_from_db()
    assert person.deleted_at is not None
    assert person.deleted_by == admin
    assert person.is_active  # left as it was: a restore gives it back unchanged
    assert (
        RoleBackend().authenticate(None, username="leaving@example.org", password=PASSWORD) is None
    )
    assert not Session.objects.filter(session_key=session).exists()
    assert Session.objects.filter(session_key=bystander).exists()
    assert not InstitutionDirectoryEntry.objects.filter(
        email_hash=email_directory_hash("leaving@example.org")
    ).exists()
    event = AuditEvent.objects.get(action="user.deleted")
    assert event.new_values == {"sessions_ended": 1, "purge_after_days": 30}
    assert "leaving@example.org" not in str(event.old_values) + str(event.new_values)


def test_a_deleted_person_vanishes_from_lists_and_pickers(institution, admin):
    person = UserFactory(full_name="Hidden Harriet", roles=[SystemRole.VERIFIER])
    student = UserFactory(roles=[SystemRole.STUDENT])
    person = user_delete(user=person, actor=admin)
    user_delete(user=student, actor=admin)

    assert person not in user_list()
    assert person not in user_list(status="inactive")
    assert person not in users_with_permission("verification.review_documents")
    assert student not in users_holding(SystemRole.STUDENT)
    deleted = {user.pk: user for user in user_list(status="deleted")}
    assert set(deleted) == {person.pk, student.pk}
    assert deleted[person.pk].purge_due_at == person.deleted_at + timedelta(days=30)


def test_a_restored_person_signs_in_again_with_their_roles(institution, admin):
    person = UserFactory(email="back@example.org", roles=[SystemRole.VERIFIER])
    user_delete(user=person, actor=admin)

    user_restore(user=person, actor=admin)

    person.refresh_from_db()
    assert (person.deleted_at, person.is_active) == (None, True)
    assert (
        RoleBackend().authenticate(None, username="back@example.org", password=PASSWORD) == person
    )
    assert person.role_keys == {SystemRole.VERIFIER}
    assert person in user_list()
    assert AuditEvent.objects.filter(action="user.restored", entity_id=str(person.pk)).exists()


def test_nobody_deletes_themselves(institution, admin):
    with pytest.raises(ValidationError, match="your own account"):
        user_delete(user=admin, actor=admin)


def test_the_last_super_admin_cannot_be_deleted(institution):
    for holder in User.objects.filter(roles__key=SystemRole.SUPER_ADMIN):
        holder.roles.remove(*holder.roles.filter(key=SystemRole.SUPER_ADMIN))
    people_lead = Role.objects.create(name="People lead")
    people_lead.permissions.set(
        permissions_for({"accounts.manage_people", "accounts.manage_roles"})
    )
    lead = UserFactory(roles=[people_lead])
    last, other = (UserFactory(roles=[SystemRole.SUPER_ADMIN]) for _ in range(2))
    user_delete(user=other, actor=lead)  # one of two: allowed
    with pytest.raises(ValidationError, match="at least one active super admin"):
        user_delete(user=last, actor=lead)


def test_people_who_do_not_manage_people_cannot_delete_or_restore(institution, admin):
    trainer = UserFactory(roles=[SystemRole.TRAINER])
    person = UserFactory(roles=[SystemRole.STUDENT])
    with pytest.raises(PermissionDenied):
        user_delete(user=person, actor=trainer)
    user_delete(user=person, actor=admin)
    with pytest.raises(PermissionDenied):
        user_restore(user=person, actor=trainer)
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="accounts.user_restore"
    ).exists()


def test_an_admin_cannot_delete_a_super_admin(institution, admin):
    with pytest.raises(PermissionDenied):
        user_delete(user=UserFactory(roles=[SystemRole.SUPER_ADMIN]), actor=admin)


def test_a_students_learner_record_stays(institution, admin):
    student = UserFactory(roles=[SystemRole.STUDENT])
    learner = learner_for_user(student, actor=admin)
    user_delete(user=student, actor=admin)
    assert Learner.objects.filter(pk=learner.pk, user=student).exists()


def test_the_purge_waits_for_the_institutions_days(institution, admin):
    DataProtectionSettings.objects.update_or_create(pk=1, defaults={"account_purge_days": 10})
    recent, due = (UserFactory(roles=[SystemRole.TRAINER]) for _ in range(2))
    for person in (recent, due):
        user_delete(user=person, actor=admin)
    _deleted_days_ago(recent, 9)
    _deleted_days_ago(due, 11)

    planned = accounts_purge_due(dry_run=True)

    assert planned == [
        {"type": "user", "id": due.pk, "label": f"Account #{due.pk}", "action": "anonymise"}
    ]
    due.refresh_from_db()
    assert due.anonymised_at is None  # a dry run changes nothing


def test_the_purge_anonymises_for_good_and_the_trail_forgets(institution, admin):
    token = activate(
        RequestContext(correlation_id="purge-test", ip_address="192.0.2.7", user_agent="Edge/1")
    )
    try:
        person = UserFactory(
            email="gone.for.good@example.org", full_name="Gone Forgood", roles=[SystemRole.TRAINER]
        )
        audit_record(actor=person, action="thing.done", entity_type="test.thing", entity_id="1")
        invitation_issue(user=person, invited_by=admin)
        user_delete(user=person, actor=admin)
        _deleted_days_ago(person, 31)
        session = _session_for(person)

        done = accounts_purge_due(dry_run=False)
    finally:
        deactivate(token)

    assert [item["id"] for item in done] == [person.pk]
    assert not Session.objects.filter(session_key=session).exists()
    person.refresh_from_db()
    assert person.email == f"deleted-{person.pk}@invalid.example"
    assert person.full_name == ""
    assert not person.has_usable_password()
    assert person.anonymised_at is not None
    assert not person.role_holdings.exists()
    assert not Invitation.objects.filter(user=person).exists()
    assert not ActorKey.objects.filter(user=person).exists()
    acted = AuditEvent.objects.get(action="thing.done", actor=person)
    assert (acted.actor_email, acted.ip_address, acted.user_agent) == ("", None, "")
    assert not AuditEvent.objects.filter(actor_email="gone.for.good@example.org").exists()
    assert AuditEvent.objects.filter(action="user.anonymised", entity_id=str(person.pk)).exists()
    assert audit_chain_first_break() is None
    assert person not in user_list(status="deleted")
    with pytest.raises(ValidationError, match="anonymised"):
        user_restore(user=person, actor=admin)
    assert accounts_purge_due(dry_run=False) == []  # never due twice


def test_the_daily_data_protection_run_purges_in_each_institution(institution, admin, eager):
    person = UserFactory(roles=[SystemRole.TRAINER])
    user_delete(user=person, actor=admin)
    _deleted_days_ago(person, 40)

    data_protection_jobs_run_all_institutions.apply()
    connection.set_tenant(institution)

    person.refresh_from_db()
    assert person.anonymised_at is not None
    run = JobRun.objects.get(kind=JobKind.PURGE_ACCOUNTS, dry_run=False)
    assert run.items == [
        {"type": "user", "id": person.pk, "label": f"Account #{person.pk}", "action": "anonymise"}
    ]


def test_the_people_pages_delete_and_restore_after_confirming(institution, client_of, admin):
    person = UserFactory(full_name="Paged Person", roles=[SystemRole.STUDENT])
    client = client_of(admin)

    confirm = client.get(f"/accounts/people/{person.pk}/delete/").content.decode()
    assert "30 days" in confirm
    assert "learner record stays" in confirm
    assert "name, e-mail address and password are removed for good" in confirm
    assert "follows the institution's retention rules" in confirm
    response = client.post(f"/accounts/people/{person.pk}/delete/")
    assert response.url == "/accounts/people/?status=deleted"
    deleted_list = client.get(response.url).content.decode()
    assert "Paged Person deleted" in deleted_list
    assert "Anonymised on" in deleted_list
    assert "Paged Person" not in client.get("/accounts/people/").content.decode()

    assert "Restore" in client.get(f"/accounts/people/{person.pk}/restore/").content.decode()
    client.post(f"/accounts/people/{person.pk}/restore/")
    person.refresh_from_db()
    assert person.deleted_at is None


def test_the_deleted_list_makes_the_same_queries_for_more_rows(
    institution, client_of, admin, django_assert_max_num_queries
):
    client = client_of(admin)
    user_delete(user=UserFactory(roles=[SystemRole.TRAINER]), actor=admin)
    with django_assert_max_num_queries(40) as few:
        client.get("/accounts/people/", {"status": "deleted"})
    for _ in range(5):
        user_delete(user=UserFactory(roles=[SystemRole.TRAINER]), actor=admin)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/accounts/people/", {"status": "deleted"})
