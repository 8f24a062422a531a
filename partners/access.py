"""Who does what with partners: who holds partners.manage_partners (the Finance role) adds and
edits them and their bank details; who holds partners.view_partners (admins, finance) reads
them; a partner's contact reaches only their own partner's candidates."""

from django.db.models import Q, QuerySet

from accounts.models import SystemRole, User
from learners.models import Learner
from partners.models import Partner, PartnerContact

MANAGE_PARTNERS = "partners.manage_partners"
VIEW_PARTNERS = "partners.view_partners"
CONTACT_ROLES = frozenset({SystemRole.AGENT, SystemRole.BROKER})


def partner_of_contact(user: User) -> Partner | None:
    """The active partner `user` speaks for while they hold the Agent or Broker role, or None
    (a contact whose role was taken away, or whose partner was made inactive, sees nothing)."""
    if not user.is_authenticated or not CONTACT_ROLES & user.role_keys:
        return None
    contact = (
        PartnerContact.objects.select_related("partner")
        .filter(user=user, partner__is_active=True)
        .first()
    )
    return contact.partner if contact is not None else None


def candidates_of(partner: Partner) -> QuerySet[Learner]:
    """The learners the partner brought: as their agent or as their broker."""
    return Learner.objects.filter(Q(introduction__agent=partner) | Q(introduction__broker=partner))


# Who says which partners brought a learner: finance only, since it decides the commissions
# owed (admins read it, as they read the rest of finance).
SET_INTRODUCTION = (MANAGE_PARTNERS,)
