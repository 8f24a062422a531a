"""Every write to people and their access: invitations, passwords, roles, deactivation. Each
entry point checks permission before its transaction opens and runs in a durable one."""

import hashlib
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Role, User, normalise_email
from accounts.permissions import PEOPLE_MANAGERS, can_grant_roles, permission_check
from audit.services import audit_record
from notifications.services import email_enqueue
from tenants.db import tenant_connection
from tenants.directory import directory_entry_add, directory_entry_remove
from tenants.sites import institution_url


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_roles(roles: Iterable[str]) -> list[str]:
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise ValidationError(f"Unknown role: {', '.join(sorted(unknown))}.")
    return [role for role in Role.values if role in set(roles)]


def invitation_issue(*, user: User, invited_by: User | None) -> Invitation:
    """Revoke the person's earlier unused invitations and e-mail a new single-use link."""
    now = timezone.now()
    user.invitations.filter(used_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        user=user,
        token_hash=token_hash(token),
        invited_by=invited_by,
        expires_at=now + settings.INVITATION_TTL,
    )
    institution = tenant_connection.tenant
    email_enqueue(
        recipient=user.email,
        template="invitation",
        context={
            "full_name": user.full_name,
            "invited_by": str(invited_by) if invited_by else "",
            "roles": user.role_labels,
            "accept_url": institution_url(
                institution, reverse("accounts:invitation_accept", args=[token])
            ),
            "expires_at": timezone.localtime(invitation.expires_at).strftime("%d %B %Y %H:%M"),
        },
    )
    return invitation


def user_invite(*, email: str, full_name: str, roles: Iterable[str], actor: User | None) -> User:
    """Create an account for a new person and e-mail them an invitation to set a password."""
    roles = _clean_roles(roles)
    permission_check(
        actor=actor,
        roles=PEOPLE_MANAGERS,
        allowed=can_grant_roles(actor, roles),
        action="accounts.user_invite",
    )
    with transaction.atomic(durable=True):
        return user_invite_in_transaction(
            email=email, full_name=full_name, roles=roles, actor=actor
        )


def user_invite_in_transaction(
    *, email: str, full_name: str, roles: Iterable[str], actor: User | None
) -> User:
    """`user_invite` inside the caller's transaction (composable: provisioning an institution
    invites its first super admin in the transaction that creates it); the caller has checked
    that `actor` may grant `roles`."""
    roles = _clean_roles(roles)
    if not roles:
        raise ValidationError("Choose at least one role.")
    email = normalise_email(email)
    if User.objects.filter(email=email).exists():
        raise ValidationError(
            {"email": f"{email} already has an account here; change their roles instead."}
        )
    user = User(email=email, full_name=full_name.strip(), roles=roles)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    invitation_issue(user=user, invited_by=actor)
    directory_entry_add(email=email, institution=tenant_connection.tenant)
    audit_record(
        actor=actor,
        action="user.invited",
        entity=user,
        new_values={"email": email, "full_name": user.full_name, "roles": roles},
    )
    return user


def invitation_resend(*, invitation: Invitation) -> Invitation:
    """Send a fresh link to the address on file, from an expired or revoked one."""
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=invitation.user_id)
        if not user.is_active or user.has_usable_password():
            raise ValidationError("This account is already set up; sign in or reset your password.")
        new_invitation = invitation_issue(user=user, invited_by=invitation.invited_by)
        audit_record(action="user.invitation_resent", entity=user)
    return new_invitation


def invitation_accept(*, invitation: Invitation, full_name: str, password: str) -> User:
    """Set the invited person's password and use up the link (once, even if clicked twice)."""
    with transaction.atomic(durable=True):
        invitation = (
            Invitation.objects.select_for_update().select_related("user").get(pk=invitation.pk)
        )
        if not invitation.is_usable:
            raise ValidationError("This invitation has already been used or has expired.")
        user = invitation.user
        password_validation.validate_password(password, user)
        old_name = user.full_name
        user.full_name = full_name.strip() or user.full_name
        user.set_password(password)
        user.save(update_fields=["full_name", "password"])
        invitation.used_at = timezone.now()
        invitation.save(update_fields=["used_at"])
        audit_record(
            actor=user,
            action="user.invitation_accepted",
            entity=user,
            new_values={"full_name": user.full_name} if user.full_name != old_name else {},
        )
    return user


def user_password_change(*, user: User, new_password: str, reset: bool = False) -> User:
    """Give a person a new password: their own change, once the form has checked the old one,
    or with `reset` from a reset link whose token the form has checked. Audited as either."""
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=user.pk)
        password_validation.validate_password(new_password, user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_record(
            actor=user,
            action="user.password_reset" if reset else "user.password_changed",
            entity=user,
        )
    return user


def _super_admins_left_without(user: User) -> int:
    return (
        User.objects.filter(is_active=True, roles__contains=[Role.SUPER_ADMIN])
        .exclude(pk=user.pk)
        .count()
    )


def user_roles_set(*, user: User, roles: Iterable[str], actor: User) -> User:
    roles = _clean_roles(roles)
    if not roles:
        raise ValidationError("Choose at least one role; deactivate the person instead.")
    changed = set(roles) ^ set(user.roles)
    permission_check(
        actor=actor,
        roles=PEOPLE_MANAGERS,
        allowed=can_grant_roles(actor, changed),
        action="accounts.user_roles_set",
    )
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=user.pk)
        if (
            Role.SUPER_ADMIN in user.roles
            and Role.SUPER_ADMIN not in roles
            and not _super_admins_left_without(user)
        ):
            raise ValidationError("An institution needs at least one active super admin.")
        old_roles = user.roles
        user.roles = roles
        user.save(update_fields=["roles"])
        audit_record(
            actor=actor,
            action="user.roles_changed",
            entity=user,
            old_values={"roles": old_roles},
            new_values={"roles": roles},
        )
    return user


def _sessions_end(user: User) -> int:
    """Delete the person's sessions in this schema (signing them out everywhere)."""
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def user_deactivate(*, user: User, actor: User) -> User:
    """Stop a person from signing in; their open sessions end at once."""
    if user.pk == actor.pk:
        raise ValidationError("You cannot deactivate your own account.")
    permission_check(
        actor=actor,
        roles=PEOPLE_MANAGERS,
        allowed=can_grant_roles(actor, user.roles),
        action="accounts.user_deactivate",
    )
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=user.pk)
        if Role.SUPER_ADMIN in user.roles and not _super_admins_left_without(user):
            raise ValidationError("An institution needs at least one active super admin.")
        user.is_active = False
        user.save(update_fields=["is_active"])
        user.invitations.filter(used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        ended = _sessions_end(user)
        directory_entry_remove(email=user.email, institution=tenant_connection.tenant)
        audit_record(
            actor=actor,
            action="user.deactivated",
            entity=user,
            new_values={"sessions_ended": ended},
        )
    return user


def user_reactivate(*, user: User, actor: User) -> User:
    permission_check(
        actor=actor,
        roles=PEOPLE_MANAGERS,
        allowed=can_grant_roles(actor, user.roles),
        action="accounts.user_reactivate",
    )
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=user.pk)
        user.is_active = True
        user.save(update_fields=["is_active"])
        directory_entry_add(email=user.email, institution=tenant_connection.tenant)
        audit_record(actor=actor, action="user.reactivated", entity=user)
    return user
