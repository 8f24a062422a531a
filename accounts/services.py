"""Every write to people and their access: invitations, passwords, roles and what they allow,
deactivation. Each entry point checks permission before its transaction opens and runs in a
durable one."""

import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from guardian.models import UserObjectPermissionBase

from accounts.models import (
    Invitation,
    Role,
    SystemRole,
    User,
    UserRole,
    normalise_email,
    token_hash,
)
from accounts.permissions import may_grant, permission_check
from accounts.roles import permission_code, permissions_for, required_codes
from accounts.selectors import (
    account_purge_days,
    accounts_due_for_purge,
    deleted_accounts_refuse,
    user_for_email,
)
from accounts.signals import account_deleted, account_purged, invitation_refusals_asked
from audit.services import audit_actor_forget, audit_record
from notifications.services import email_enqueue
from tenants.db import tenant_connection
from tenants.directory import directory_entry_add, directory_entry_remove
from tenants.sites import institution_url
from tenants.zones import moment_text

__all__ = ["token_hash"]  # kept here for the apps that hash their links with it


def _clean_roles(roles: Iterable[Role | str]) -> list[Role]:
    """Roles as given: Role rows, or a system role's key ("student")."""
    roles = list(roles)
    keys = {role for role in roles if isinstance(role, str)}
    found = {role.key: role for role in Role.objects.filter(key__in=keys)}
    unknown = keys - set(found)
    if unknown:
        raise ValidationError(f"Unknown role: {', '.join(sorted(unknown))}.")
    chosen = {role.pk: role for role in roles if isinstance(role, Role)}
    chosen.update({role.pk: role for role in found.values()})
    return sorted(chosen.values(), key=lambda role: role.name)


def _allows(roles: Iterable[Role]) -> list[frozenset[str]]:
    """What each role allows, as permission codes (one query for all of them)."""
    by_role: dict[int, set[str]] = {role.pk: set() for role in roles}
    for role_id, app_label, codename in Role.permissions.through.objects.filter(
        role_id__in=by_role
    ).values_list("role_id", "permission__content_type__app_label", "permission__codename"):
        by_role[role_id].add(f"{app_label}.{codename}")
    return [frozenset(codes) for codes in by_role.values()]


def roles_allow(roles: Iterable[Role | str]) -> list[frozenset[str]]:
    """What each of `roles` (rows or system role keys) allows, for may_grant: a service that
    gives a role checks it before its transaction."""
    return _allows(_clean_roles(roles))


def _names(roles: Iterable[Role]) -> list[str]:
    return sorted(role.name for role in roles)


def system_role_give(*, users: Sequence[User], key: str, granted_by: User | None) -> None:
    """Give the system role `key` to those of `users` who lack it, inside the caller's
    transaction (a student enrolled, one or thousands at a time); the caller has checked."""
    role = Role.objects.get(key=key)
    UserRole.objects.bulk_create(
        [UserRole(user=user, role=role, granted_by=granted_by) for user in users],
        ignore_conflicts=True,
        batch_size=2000,
    )


def user_role_add_in_transaction(*, user: User, role: Role | str, actor: User | None) -> None:
    """Give `user` one more role inside the caller's transaction, with the event that
    user_roles_set writes (nothing when they hold it already); the caller has checked that
    `actor` may grant it (may_grant with roles_allow). Refused for a deleted or deactivated
    person: they are restored or reactivated under People first."""
    deleted_accounts_refuse([user])
    if not user.is_active:
        raise ValidationError(
            "This person's account is deactivated: reactivate it under People first."
        )
    [role] = _clean_roles([role])
    held = list(user.roles.all())
    if role.pk in {other.pk for other in held}:
        return
    UserRole.objects.create(user=user, role=role, granted_by=actor)
    audit_record(
        actor=actor,
        action="user.roles_changed",
        entity=user,
        old_values={"roles": _names(held)},
        new_values={"roles": _names([*held, role])},
    )


def user_role_remove_in_transaction(*, user: User, role_key: str, actor: User | None) -> None:
    """Take one system role from `user` inside the caller's transaction, with the event that
    user_roles_set writes (nothing when they do not hold it): the counterpart of
    user_role_add_in_transaction for roles that follow a person's place somewhere (an
    organisation member's last membership ended); the caller has checked."""
    held = list(user.roles.all())
    if role_key not in {role.key for role in held}:
        return
    user.role_holdings.filter(role__key=role_key).delete()
    audit_record(
        actor=actor,
        action="user.roles_changed",
        entity=user,
        old_values={"roles": _names(held)},
        new_values={"roles": _names(role for role in held if role.key != role_key)},
    )


def invitation_issue(*, user: User, invited_by: User | None) -> Invitation:
    """Revoke the person's earlier unused invitations and e-mail a new single-use link; never
    to a deleted or deactivated account."""
    deleted_accounts_refuse([user])
    if not user.is_active:
        raise ValidationError("This person's account is deactivated: reactivate it first.")
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
            "expires_at": moment_text(invitation.expires_at),
        },
    )
    return invitation


def user_invite(
    *, email: str, full_name: str, roles: Iterable[Role | str], actor: User | None
) -> User:
    """Create an account for a new person and e-mail them an invitation to set a password."""
    roles = _clean_roles(roles)
    permission_check(
        actor=actor,
        permission="accounts.manage_people",
        allowed=may_grant(actor, _allows(roles)),
        action="accounts.user_invite",
    )
    with transaction.atomic(durable=True):
        return user_invite_in_transaction(
            email=email, full_name=full_name, roles=roles, actor=actor
        )


def user_invite_in_transaction(
    *, email: str, full_name: str, roles: Iterable[Role | str], actor: User | None
) -> User:
    """`user_invite` inside the caller's transaction (composable: provisioning an institution
    invites its first super admin in the transaction that creates it); the caller has checked
    that `actor` may grant `roles`."""
    roles = _clean_roles(roles)
    if not roles:
        raise ValidationError("Choose at least one role.")
    email = normalise_email(email)
    if user_for_email(email) is not None:
        raise ValidationError(
            {"email": f"{email} already has an account here; change their roles instead."}
        )
    user = User(email=email, full_name=full_name.strip())
    user.set_unusable_password()
    user.full_clean()
    user.save()
    UserRole.objects.bulk_create(UserRole(user=user, role=role, granted_by=actor) for role in roles)
    invitation_issue(user=user, invited_by=actor)
    directory_entry_add(email=email, institution=tenant_connection.tenant)
    audit_record(
        actor=actor,
        action="user.invited",
        entity=user,
        new_values={"email": email, "full_name": user.full_name, "roles": _names(roles)},
    )
    return user


def invitation_refusal(user: User) -> str:
    """Why `user`'s invitation no longer leads anywhere, as the apps built on accounts see it
    (accounts.signals), or "" when it still does."""
    for _receiver, reason in invitation_refusals_asked.send(sender=User, user=user):
        if reason:
            return str(reason)
    return ""


def invitation_resend(*, invitation: Invitation) -> Invitation:
    """Send a fresh link to the address on file, from an expired or revoked one."""
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=invitation.user_id)
        if user.is_deleted:
            raise ValidationError("This account has been deleted.")
        if not user.is_active or user.has_usable_password():
            raise ValidationError("This account is already set up; sign in or reset your password.")
        refusal = invitation_refusal(user)
        if refusal:
            raise ValidationError(refusal, code="invitation_refused")
        new_invitation = invitation_issue(user=user, invited_by=invitation.invited_by)
        audit_record(action="user.invitation_resent", entity=user, subject=user)
    return new_invitation


def invitation_accept(*, invitation: Invitation, full_name: str, password: str) -> User:
    """Set the invited person's password and use up the link (once, even if clicked twice)."""
    with transaction.atomic(durable=True):
        invitation = (
            Invitation.objects.select_for_update().select_related("user").get(pk=invitation.pk)
        )
        if not invitation.is_usable:
            raise ValidationError("This invitation has already been used or has expired.")
        user = User.objects.select_for_update().get(pk=invitation.user_id)
        if user.is_deleted or not user.is_active:
            raise ValidationError("This invitation no longer leads to an account.")
        refusal = invitation_refusal(user)
        if refusal:
            raise ValidationError(refusal, code="invitation_refused")
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
        if user.is_deleted:
            raise ValidationError("This account has been deleted.")
        password_validation.validate_password(new_password, user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit_record(
            actor=user,
            action="user.password_reset" if reset else "user.password_changed",
            entity=user,
        )
    return user


def _is_last_super_admin(user: User) -> bool:
    return (
        user.roles.filter(key=SystemRole.SUPER_ADMIN).exists()
        and not UserRole.objects.filter(
            role__key=SystemRole.SUPER_ADMIN, user__is_active=True, user__deleted_at__isnull=True
        )
        .exclude(user=user)
        .exists()
    )


def user_roles_set(*, user: User, roles: Iterable[Role | str], actor: User) -> User:
    """Give a person exactly `roles`: those added are recorded as given by `actor` now, those
    kept keep who gave them and when."""
    roles = _clean_roles(roles)
    if not roles:
        raise ValidationError("Choose at least one role; deactivate the person instead.")
    held = list(user.roles.all())
    changed = {role.pk: role for role in [*roles, *held]}
    changed_ids = {role.pk for role in roles} ^ {role.pk for role in held}
    permission_check(
        actor=actor,
        permission="accounts.manage_people",
        allowed=may_grant(actor, _allows(changed[pk] for pk in changed_ids)),
        action="accounts.user_roles_set",
    )
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_deleted:
            raise ValidationError("This account is deleted: restore it first.")
        old_roles = list(user.roles.all())
        keep = {role.pk for role in roles}
        if SystemRole.SUPER_ADMIN not in {role.key for role in roles} and _is_last_super_admin(
            user
        ):
            raise ValidationError("An institution needs at least one active super admin.")
        user.role_holdings.exclude(role_id__in=keep).delete()
        UserRole.objects.bulk_create(
            [UserRole(user=user, role=role, granted_by=actor) for role in roles],
            ignore_conflicts=True,
        )
        audit_record(
            actor=actor,
            action="user.roles_changed",
            entity=user,
            old_values={"roles": _names(old_roles)},
            new_values={"roles": _names(roles)},
        )
    return user


def _role_input(
    *, name: str, description: str, permission_codes: Iterable[str], role: Role | None
) -> tuple[str, str, set[str]]:
    from accounts.roles import catalogue_codes

    name = name.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Give the role a name."
    elif Role.objects.filter(name__iexact=name).exclude(pk=role.pk if role else 0).exists():
        errors["name"] = f"There is already a role called {name}."
    codes = set(permission_codes)
    unknown = codes - catalogue_codes()
    if unknown:
        errors["permissions"] = f"Not in the catalogue: {', '.join(sorted(unknown))}."
    elif role is not None and role.key:
        missing = required_codes(role.key) - codes
        if missing:
            errors["permissions"] = (
                f"The {role.name} role always keeps what the product needs it for: "
                f"{', '.join(sorted(missing))}."
            )
    if errors:
        raise ValidationError(errors)
    return name, description.strip(), codes


def role_create(
    *, actor: User, name: str, description: str, permission_codes: Iterable[str]
) -> Role:
    """A custom role, made from the catalogue."""
    permission_check(actor=actor, permission="accounts.manage_roles", action="accounts.role_create")
    name, description, codes = _role_input(
        name=name, description=description, permission_codes=permission_codes, role=None
    )
    with transaction.atomic(durable=True):
        role = Role.objects.create(name=name, description=description)
        role.permissions.set(permissions_for(codes))
        audit_record(
            actor=actor,
            action="role.created",
            entity=role,
            new_values={"name": name, "permissions": sorted(codes)},
        )
    return role


def role_update(
    *, actor: User, role: Role, name: str, description: str, permission_codes: Iterable[str]
) -> Role:
    """Change a role's name, description and permissions. A system role keeps its name and at
    least the permissions the product needs it for; more may be added."""
    permission_check(actor=actor, permission="accounts.manage_roles", action="accounts.role_update")
    with transaction.atomic(durable=True):
        role = Role.objects.select_for_update().get(pk=role.pk)
        if role.system_role:
            name = role.name
        name, description, codes = _role_input(
            name=name, description=description, permission_codes=permission_codes, role=role
        )
        old_codes = {permission_code(p) for p in role.permissions.select_related("content_type")}
        old_values = {"name": role.name, "description": role.description}
        role.name, role.description = name, description
        role.save(update_fields=["name", "description", "updated_at"])
        role.permissions.set(permissions_for(codes))
        audit_record(
            actor=actor,
            action="role.updated",
            entity=role,
            old_values={**old_values, "permissions": sorted(old_codes - codes)},
            new_values={
                "name": name,
                "description": description,
                "permissions": sorted(codes - old_codes),
            },
        )
    return role


def role_delete(*, actor: User, role: Role) -> None:
    """Delete a custom role; the people who held it lose what it allowed."""
    permission_check(actor=actor, permission="accounts.manage_roles", action="accounts.role_delete")
    if role.system_role:
        raise ValidationError(f"{role.name} is a system role: it cannot be deleted.")
    with transaction.atomic(durable=True):
        role = Role.objects.select_for_update().get(pk=role.pk)
        holders = sorted(role.holdings.values_list("user_id", flat=True))
        audit_record(
            actor=actor,
            action="role.deleted",
            entity=role,
            old_values={"name": role.name, "holders": holders},
        )
        role.delete()


def _sessions_end(user_ids: Iterable[int]) -> int:
    """Delete the sessions in this schema of the people `user_ids` (signing them out
    everywhere), decoding each session once however many people end theirs."""
    ids = {str(pk) for pk in user_ids}
    if not ids:
        return 0
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") in ids
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


def _access_end(user: User) -> int:
    """Take a person's ways in away, inside the caller's transaction (deactivating or deleting
    them): unused invitations revoked, sessions ended, the directory no longer sends their
    address here. Returns how many sessions ended."""
    user.invitations.filter(used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    ended = _sessions_end([user.pk])
    directory_entry_remove(email=user.email, institution=tenant_connection.tenant)
    return ended


def user_deactivate(*, user: User, actor: User) -> User:
    """Stop a person from signing in; their open sessions end at once."""
    if user.pk == actor.pk:
        raise ValidationError("You cannot deactivate your own account.")
    permission_check(
        actor=actor,
        permission="accounts.manage_people",
        allowed=may_grant(actor, _allows(user.roles.all())),
        action="accounts.user_deactivate",
    )
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=user.pk)
        if _is_last_super_admin(user):
            raise ValidationError("An institution needs at least one active super admin.")
        user.is_active = False
        user.save(update_fields=["is_active"])
        ended = _access_end(user)
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
        permission="accounts.manage_people",
        allowed=may_grant(actor, _allows(user.roles.all())),
        action="accounts.user_reactivate",
    )
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_deleted:
            raise ValidationError("This account is deleted: restore it instead.")
        user.is_active = True
        user.save(update_fields=["is_active"])
        directory_entry_add(email=user.email, institution=tenant_connection.tenant)
        audit_record(actor=actor, action="user.reactivated", entity=user)
    return user


def user_delete(*, user: User, actor: User) -> User:
    """Delete a person's account, for now: they cannot sign in, their sessions end, and they
    leave the people lists and pickers. What they did stays (a student's learner record stays
    with the cohort's records). Restorable until `account_purge_days` have passed; then
    `accounts_purge_due` anonymises the account for good."""
    if user.pk == actor.pk:
        raise ValidationError("You cannot delete your own account.")
    permission_check(
        actor=actor,
        permission="accounts.manage_people",
        allowed=may_grant(actor, _allows(user.roles.all())),
        action="accounts.user_delete",
    )
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.is_deleted:
            raise ValidationError("This account has already been deleted.")
        if _is_last_super_admin(user):
            raise ValidationError("An institution needs at least one active super admin.")
        # is_active stays as it was (a restore gives back exactly that): deleted_at alone keeps
        # the person out (the sign-in backend, password reset, invitations).
        user.deleted_at, user.deleted_by = timezone.now(), actor
        user.save(update_fields=["deleted_at", "deleted_by"])
        ended = _access_end(user)
        account_deleted.send(sender=User, user=user)
        audit_record(
            actor=actor,
            action="user.deleted",
            entity=user,
            new_values={"sessions_ended": ended, "purge_after_days": account_purge_days()},
        )
    return user


def user_restore(*, user: User, actor: User) -> User:
    """Give a deleted person their account back, before it is anonymised: they appear in the
    lists again, and can sign in with their password unless they had been deactivated before
    (restoring gives back the account as it was)."""
    permission_check(
        actor=actor,
        permission="accounts.manage_people",
        allowed=may_grant(actor, _allows(user.roles.all())),
        action="accounts.user_restore",
    )
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_deleted:
            raise ValidationError("This account is not deleted.")
        if user.anonymised_at is not None:
            raise ValidationError("This account has been anonymised: it cannot be restored.")
        user.deleted_at, user.deleted_by = None, None
        user.save(update_fields=["deleted_at", "deleted_by"])
        if user.is_active:
            directory_entry_add(email=user.email, institution=tenant_connection.tenant)
        audit_record(
            actor=actor, action="user.restored", entity=user, new_values={"active": user.is_active}
        )
    return user


def anonymised_email(user: User) -> str:
    """The placeholder address of an anonymised account: unique, and never deliverable."""
    return f"deleted-{user.pk}@invalid.example"


def _account_anonymise(user: User) -> None:
    """Replace a deleted account's personal values for good, inside the caller's transaction:
    placeholder e-mail, no name, no password, no roles, grants or invitations, and the audit
    trail forgets who they were; the apps above (account_purged) drop what they keep for the
    account alone (an access request's export). The row stays: audit events point at it. Its
    sessions end once for the whole run (accounts_purge_due)."""
    user.email, user.full_name = anonymised_email(user), ""
    user.set_unusable_password()
    user.anonymised_at = timezone.now()
    user.save(update_fields=["email", "full_name", "password", "anonymised_at"])
    user.role_holdings.all().delete()
    for model in apps.get_models():  # every app's object grants, generic or direct
        if issubclass(model, UserObjectPermissionBase):
            model.objects.filter(user=user).delete()
    user.invitations.all().delete()
    account_purged.send(sender=User, user=user)
    audit_actor_forget(user=user)
    audit_record(action="user.anonymised", entity=user)


def _purge_item(pk: int) -> dict[str, Any]:
    return {"type": "user", "id": pk, "label": f"Account #{pk}", "action": "anonymise"}


def accounts_purge_due(*, dry_run: bool) -> list[dict[str, Any]]:
    """Anonymise the deleted accounts that are due in this institution (a dry run only lists
    them), one transaction each so that one failure leaves the rest done; returns what was (or
    would be) done, one item per account, with no personal value. Idempotent: an anonymised
    account is never due again."""
    items: list[dict[str, Any]] = []
    for pk in list(accounts_due_for_purge().values_list("pk", flat=True)):
        if not dry_run:
            with transaction.atomic(durable=True):
                user = accounts_due_for_purge().select_for_update().filter(pk=pk).first()
                if user is None:  # restored or purged since the list was read
                    continue
                _account_anonymise(user)
        items.append(_purge_item(pk))
    if items and not dry_run:
        with transaction.atomic(durable=True):
            _sessions_end(item["id"] for item in items)
    return items


def accounts_purge_due_in_transaction(*, dry_run: bool) -> list[dict[str, Any]]:
    """`accounts_purge_due` inside the caller's transaction, all or nothing: the data
    protection jobs (privacy.services.jobs) run it so that the run's record and what it did
    commit together."""
    due = list(accounts_due_for_purge().select_for_update().order_by("pk"))
    if not dry_run:
        for user in due:
            _account_anonymise(user)
        _sessions_end(user.pk for user in due)
    return [_purge_item(user.pk) for user in due]
