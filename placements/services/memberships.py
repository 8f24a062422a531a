"""Who speaks for a host organisation (seed 003 `UserOrganisation`): an admin adds a person
(an existing account, or a new one invited through accounts) and removes them; a member
switches the organisation they act for. The `organisation_member` role follows: given with a
first membership, taken with the last."""

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import SystemRole, User, normalise_email
from accounts.permissions import permission_check
from accounts.selectors import user_for_email
from accounts.services import (
    user_invite_in_transaction,
    user_role_add_in_transaction,
    user_role_remove_in_transaction,
)
from audit.services import audit_record
from placements.models import Organisation, OrganisationMembership

MANAGE_ORGANISATIONS = "placements.manage_organisations"


def _membership_values(membership: OrganisationMembership) -> dict[str, int | bool]:
    return {
        "user": membership.user_id,
        "organisation": membership.organisation_id,
        "is_current": membership.is_current,
    }


def membership_add(
    *, actor: User | None, organisation: Organisation, email: str, full_name: str = ""
) -> OrganisationMembership:
    """Make the person with `email` a member of `organisation`: an existing account gets the
    organisation member role, an unknown address a new account and an e-mailed invitation
    (`full_name` is then required). A first membership is current at once."""
    permission_check(
        actor=actor, permission=MANAGE_ORGANISATIONS, action="organisation_membership.add"
    )
    email = normalise_email(email)
    if not email:
        raise ValidationError({"email": "Give the person's e-mail address."})
    with transaction.atomic(durable=True):
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if not organisation.is_active:
            raise ValidationError(f"{organisation} is no longer active: reactivate it first.")
        user = user_for_email(email, lock=True)
        if user is None:
            if not full_name.strip():
                raise ValidationError(
                    {
                        "full_name": f"{email} has no account yet: give their full name to invite "
                        "them."
                    }  # fmt: skip
                )
            user = user_invite_in_transaction(
                email=email,
                full_name=full_name,
                roles=[SystemRole.ORGANISATION_MEMBER],
                actor=actor,
            )
        elif not user.is_active:
            raise ValidationError(
                {"email": f"{email}'s account is deactivated: reactivate it under People first."}
            )
        else:
            if user.organisation_memberships.filter(organisation=organisation).exists():
                raise ValidationError({"email": f"{email} is already a member of {organisation}."})
            user_role_add_in_transaction(
                user=user, role=SystemRole.ORGANISATION_MEMBER, actor=actor
            )
        membership = OrganisationMembership.objects.create(
            user=user,
            organisation=organisation,
            is_current=not user.organisation_memberships.exists(),
            added_by=actor,
        )
        audit_record(
            actor=actor,
            action="organisation_membership.added",
            entity=membership,
            new_values=_membership_values(membership),
        )
    return membership


def membership_remove(*, actor: User | None, membership: OrganisationMembership) -> None:
    """End a membership. If it was the current one, none is current until the person chooses
    (their pages show their first organisation meanwhile); with the last one goes the
    organisation member role."""
    permission_check(
        actor=actor, permission=MANAGE_ORGANISATIONS, action="organisation_membership.remove"
    )
    with transaction.atomic(durable=True):
        # The person's row first: their memberships and roles change together.
        user = User.objects.select_for_update().get(pk=membership.user_id)
        membership = OrganisationMembership.objects.select_for_update().get(pk=membership.pk)
        old_values = _membership_values(membership)
        audit_record(
            actor=actor,
            action="organisation_membership.removed",
            entity=membership,
            old_values=old_values,
        )
        membership.delete()
        if not user.organisation_memberships.exists():
            user_role_remove_in_transaction(
                user=user, role_key=SystemRole.ORGANISATION_MEMBER, actor=actor
            )


def membership_switch(*, user: User, organisation_pk: int) -> OrganisationMembership:
    """Make `user`'s membership of the organisation `organisation_pk` their current one,
    stored so that it holds at their next sign-in. Raises OrganisationMembership.DoesNotExist
    for an organisation they do not belong to (or one no longer active): pages answer 404."""
    permission_check(actor=user, allowed=user.is_active, action="organisation_membership.switch")
    with transaction.atomic(durable=True):
        memberships = list(
            OrganisationMembership.objects.select_for_update()
            .filter(user=user)
            .select_related("organisation")
            .order_by("pk")
        )
        chosen = next(
            (
                membership
                for membership in memberships
                if membership.organisation_id == organisation_pk
                and membership.organisation.is_active
            ),
            None,
        )
        if chosen is None:
            raise OrganisationMembership.DoesNotExist
        previous = next((m for m in memberships if m.is_current), None)
        if previous is chosen:
            return chosen
        # One current membership at a time (the database's constraint): clear, then set.
        OrganisationMembership.objects.filter(user=user, is_current=True).update(is_current=False)
        chosen.is_current = True
        chosen.save(update_fields=["is_current"])
        audit_record(
            actor=user,
            action="organisation_membership.switched",
            entity=chosen,
            old_values={"organisation": previous.organisation_id if previous else None},
            new_values={"organisation": chosen.organisation_id},
        )
    return chosen
