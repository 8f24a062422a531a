from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Invitation, SystemRole, User
from accounts.services import (
    invitation_accept,
    invitation_resend,
    user_deactivate,
    user_invite,
    user_password_change,
    user_reactivate,
    user_roles_set,
)
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from tenants.directory import email_directory_hash
from tenants.models import InstitutionDirectoryEntry
from tests.factories import UserFactory, role_keys

pytestmark = pytest.mark.django_db


def _directory_has(email: str, institution) -> bool:
    return InstitutionDirectoryEntry.objects.filter(
        email_hash=email_directory_hash(email), institution=institution
    ).exists()


def test_invite_creates_account_invitation_email_directory_entry_and_audit(institution, admin):
    user = user_invite(
        email="New.Person@Example.org",
        full_name="New Person",
        roles=[SystemRole.VERIFIER],
        actor=admin,
    )

    assert user.email == "new.person@example.org"
    assert not user.has_usable_password()
    invitation = Invitation.objects.get(user=user)
    assert invitation.is_usable
    assert len(invitation.token_hash) == 64
    email = OutboundEmail.objects.get(recipient="new.person@example.org")
    assert email.template == "invitation"
    assert email.context["accept_url"].startswith(
        "http://alpha.localhost:8000/accounts/invitation/"
    )
    assert _directory_has("new.person@example.org", institution)
    event = AuditEvent.objects.get(action="user.invited", entity_id=str(user.pk))
    assert event.actor == admin
    # The address and name are the person's: the trail says they were set, not what they are.
    assert event.new_values == {
        "email": "(changed)",
        "full_name": "(changed)",
        "roles": ["Verifier"],
    }
    assert event.old_values == {}


def test_invite_refuses_an_address_that_already_has_an_account(institution, admin):
    UserFactory(email="taken@example.org")
    with pytest.raises(ValidationError, match="already has an account"):
        user_invite(
            email="TAKEN@example.org", full_name="", roles=[SystemRole.STUDENT], actor=admin
        )


def test_invite_needs_a_known_role(institution, admin):
    with pytest.raises(ValidationError, match="at least one role"):
        user_invite(email="a@example.org", full_name="", roles=[], actor=admin)
    with pytest.raises(ValidationError, match="Unknown role"):
        user_invite(email="a@example.org", full_name="", roles=["wizard"], actor=admin)


@pytest.mark.parametrize(
    "role", [SystemRole.VERIFIER, SystemRole.AUDITOR, SystemRole.TRAINER, SystemRole.STUDENT]
)
def test_people_who_do_not_manage_people_cannot_invite_and_the_refusal_is_audited(
    institution, role
):
    actor = UserFactory(roles=[role])
    with pytest.raises(PermissionDenied):
        user_invite(email="b@example.org", full_name="", roles=[SystemRole.STUDENT], actor=actor)
    assert not User.objects.filter(email="b@example.org").exists()
    assert AuditEvent.objects.filter(
        action="permission.denied", actor=actor, entity_id="accounts.user_invite"
    ).exists()


def test_only_a_super_admin_may_hand_out_admin_roles(institution, admin, super_admin):
    with pytest.raises(PermissionDenied):
        user_invite(email="c@example.org", full_name="", roles=[SystemRole.ADMIN], actor=admin)
    user = user_invite(
        email="c@example.org", full_name="", roles=[SystemRole.ADMIN], actor=super_admin
    )
    assert role_keys(user) == {SystemRole.ADMIN}


def test_email_is_unique_regardless_of_case_in_the_database(institution):
    UserFactory(email="case@example.org")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_user (email, password, full_name, is_active, is_staff,"
            " is_superuser, date_joined) VALUES ('CASE@example.org', '!', '', true, false,"
            " false, now())"
        )


def test_accepting_an_invitation_sets_the_password_once(institution, admin):
    user = user_invite(email="d@example.org", full_name="", roles=[SystemRole.TRAINER], actor=admin)
    invitation = Invitation.objects.get(user=user)

    accepted = invitation_accept(
        invitation=invitation, full_name="Dee Trainer", password="a-long-pass-phrase"
    )

    assert accepted.check_password("a-long-pass-phrase")
    assert accepted.full_name == "Dee Trainer"
    invitation.refresh_from_db()
    assert invitation.used_at is not None
    assert AuditEvent.objects.filter(action="user.invitation_accepted", actor=user).exists()
    with pytest.raises(ValidationError, match="already been used"):
        invitation_accept(invitation=invitation, full_name="", password="another-pass-phrase")


def test_expired_invitation_is_refused_and_a_new_one_can_be_sent(institution, admin):
    user = user_invite(email="e@example.org", full_name="", roles=[SystemRole.AUDITOR], actor=admin)
    invitation = Invitation.objects.get(user=user)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    invitation.refresh_from_db()

    with pytest.raises(ValidationError, match="expired"):
        invitation_accept(invitation=invitation, full_name="", password="a-long-pass-phrase")

    new_invitation = invitation_resend(invitation=invitation)
    assert new_invitation.is_usable
    assert OutboundEmail.objects.filter(recipient="e@example.org").count() == 2


def test_a_weak_password_is_refused_and_nothing_changes(institution, admin):
    user = user_invite(email="f@example.org", full_name="", roles=[SystemRole.STUDENT], actor=admin)
    invitation = Invitation.objects.get(user=user)
    with pytest.raises(ValidationError):
        invitation_accept(invitation=invitation, full_name="F", password="password")
    user.refresh_from_db()
    invitation.refresh_from_db()
    assert not user.has_usable_password()
    assert invitation.used_at is None


def test_roles_change_is_audited_with_old_and_new_values(institution, super_admin):
    person = UserFactory(roles=[SystemRole.VERIFIER])
    user_roles_set(user=person, roles=[SystemRole.VERIFIER, SystemRole.AUDITOR], actor=super_admin)
    person.refresh_from_db()
    assert role_keys(person) == {SystemRole.VERIFIER, SystemRole.AUDITOR}
    event = AuditEvent.objects.get(action="user.roles_changed")
    assert event.old_values == {"roles": ["Verifier"]}
    assert event.new_values == {"roles": ["Auditor", "Verifier"]}


def test_the_last_super_admin_keeps_the_role(institution):
    User.objects.filter(roles__key=SystemRole.SUPER_ADMIN).update(is_active=False)
    only = UserFactory(roles=[SystemRole.SUPER_ADMIN])
    with pytest.raises(ValidationError, match="at least one active super admin"):
        user_roles_set(user=only, roles=[SystemRole.ADMIN], actor=only)


def test_an_admin_cannot_promote_anyone_to_admin(institution, admin):
    person = UserFactory(roles=[SystemRole.VERIFIER])
    with pytest.raises(PermissionDenied):
        user_roles_set(user=person, roles=[SystemRole.VERIFIER, SystemRole.ADMIN], actor=admin)


def _session_for(user) -> str:
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session.create()
    return session.session_key


def test_deactivation_ends_every_session_and_removes_the_directory_entry(institution, admin):
    person = UserFactory(roles=[SystemRole.VERIFIER])
    keys = [_session_for(person), _session_for(person)]
    bystander = _session_for(admin)

    user_deactivate(user=person, actor=admin)

    person.refresh_from_db()
    assert not person.is_active
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert Session.objects.filter(session_key=bystander).exists()
    assert not _directory_has(person.email, institution)
    event = AuditEvent.objects.get(action="user.deactivated")
    assert event.new_values == {"sessions_ended": 2}

    user_reactivate(user=person, actor=admin)
    person.refresh_from_db()
    assert person.is_active
    assert _directory_has(person.email, institution)


def test_nobody_deactivates_themselves(institution, admin):
    with pytest.raises(ValidationError, match="your own account"):
        user_deactivate(user=admin, actor=admin)


@pytest.mark.parametrize(
    ("reset", "action"), [(False, "user.password_changed"), (True, "user.password_reset")]
)
def test_password_change_sets_the_password_and_audits_it(institution, reset, action):
    user = UserFactory()
    user_password_change(user=user, new_password="a-Different-passphrase-42", reset=reset)

    user.refresh_from_db()
    assert user.check_password("a-Different-passphrase-42")
    event = AuditEvent.objects.get(action=action)
    assert (event.actor, event.entity_id, event.new_values) == (user, str(user.pk), {})


def test_a_weak_new_password_is_refused_and_nothing_is_audited(institution):
    user = UserFactory()
    with pytest.raises(ValidationError):
        user_password_change(user=user, new_password="123")
    user.refresh_from_db()
    assert not user.check_password("123")
    assert not AuditEvent.objects.filter(action="user.password_changed").exists()


def test_accepting_an_invitation_records_a_new_name_as_changed_only(institution, admin):
    user = user_invite(
        email="named@example.org", full_name="", roles=[SystemRole.VERIFIER], actor=admin
    )
    invitation = Invitation.objects.get(user=user)

    invitation_accept(
        invitation=invitation, full_name="Nomvula Private", password="a-Long-passphrase-11"
    )

    event = AuditEvent.objects.get(action="user.invitation_accepted")
    assert event.new_values == {"full_name": "(changed)"}
    assert "Nomvula" not in str(event.old_values) + str(event.new_values)
