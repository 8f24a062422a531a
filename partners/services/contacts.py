"""A partner's contacts: people who speak for an agent or a broker with an account of their
own (the Agent or Broker role, as the partner's kind), invited through accounts, and removed
when they no longer do, which ends their access to the partner's candidates and statements. A
person speaks for one partner."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import SystemRole, User, normalise_email
from accounts.permissions import permission_check
from accounts.selectors import user_for_email
from accounts.services import (
    user_invite_in_transaction,
    user_role_add_in_transaction,
    user_role_remove_in_transaction,
)
from audit.services import audit_record
from partners.access import MANAGE_PARTNERS
from partners.models import Partner, PartnerContact, PartnerKind
from partners.services.refusals import refusals_recorded

CONTACT_ROLE_OF_KIND = {PartnerKind.AGENT: SystemRole.AGENT, PartnerKind.BROKER: SystemRole.BROKER}


def contact_role(partner: Partner) -> str:
    """The role a contact of `partner` holds: Agent or Broker, as its kind."""
    return CONTACT_ROLE_OF_KIND[PartnerKind(partner.kind)]


def partner_contact_invite(
    *, actor: User | None, partner: Partner, email: str, full_name: str = ""
) -> PartnerContact:
    """Make the person with `email` a contact of `partner`: an unknown address gets a new
    account and an e-mailed invitation to set a password (`full_name` is then required); an
    existing account gets the partner's role."""
    permission_check(actor=actor, permission=MANAGE_PARTNERS, action="partner_contact.invite")
    email = normalise_email(email)
    with refusals_recorded(actor=actor, action="partner_contact.invite", entity=partner):
        if not email:
            raise ValidationError({"email": "Give the person's e-mail address."})
        with transaction.atomic(durable=True):
            partner = Partner.objects.select_for_update().get(pk=partner.pk)
            if not partner.is_active:
                raise ValidationError(f"{partner.name} is deactivated: reactivate it first.")
            role = contact_role(partner)
            user = user_for_email(email, lock=True)
            if user is None:
                if not full_name.strip():
                    raise ValidationError(
                        {
                            "full_name": "This address has no account yet: give the person's name "
                            "to invite them."
                        }  # fmt: skip
                    )
                user = user_invite_in_transaction(
                    email=email, full_name=full_name, roles=[role], actor=actor
                )
            elif not user.is_active:
                raise ValidationError(
                    {
                        "email": "This person's account is deactivated: reactivate it under People "
                        "first."
                    }  # fmt: skip
                )
            else:
                existing = (
                    PartnerContact.objects.select_related("partner").filter(user=user).first()
                )
                if existing is not None:
                    raise ValidationError(
                        {
                            "email": f"This person already speaks for {existing.partner.name}: a "
                            "person speaks for one partner. Remove them there first."
                        }  # fmt: skip
                    )
                user_role_add_in_transaction(user=user, role=role, actor=actor)
            contact = PartnerContact.objects.create(partner=partner, user=user)
            audit_record(
                actor=actor,
                action="partner_contact.added",
                entity=contact,
                new_values={"partner": partner.pk, "user": user.pk, "role": role},
            )
    return contact


def partner_contact_remove(*, actor: User | None, contact: PartnerContact) -> None:
    """End a contact: they lose the partner's role and no longer see its candidates or
    statements; an invitation they never used stops working if they hold no other role."""
    permission_check(actor=actor, permission=MANAGE_PARTNERS, action="partner_contact.remove")
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=contact.user_id)
        contact = PartnerContact.objects.select_related("partner").get(pk=contact.pk)
        audit_record(
            actor=actor,
            action="partner_contact.removed",
            entity=contact,
            old_values={"partner": contact.partner_id, "user": user.pk},
        )
        role = contact_role(contact.partner)
        contact.delete()
        user_role_remove_in_transaction(user=user, role_key=role, actor=actor)
        if not user.roles.exists():
            user.invitations.filter(used_at__isnull=True, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
