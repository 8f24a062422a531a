"""The start page's partners panel (accounts.home; registered in PartnersConfig.ready): for a
partner's contact, their partner and how many candidates it brought; for who reads partners,
the bank details waiting for a second person."""

from typing import Any

from accounts.models import SystemRole, User
from partners.access import MANAGE_PARTNERS, VIEW_PARTNERS, candidates_of, partner_of_contact
from partners.selectors.bank import bank_changes_pending

CONTACT_ROLES = frozenset({SystemRole.AGENT, SystemRole.BROKER})


def partners_home_panel(user: User) -> dict[str, Any] | None:
    """None for anyone who neither speaks for a partner nor reads partners (no query for
    them)."""
    panel: dict[str, Any] = {}
    if CONTACT_ROLES & user.role_keys:
        partner = partner_of_contact(user)
        if partner is not None:
            panel["partner"] = partner
            panel["candidates"] = candidates_of(partner).count()
    if user.may(VIEW_PARTNERS):
        panel["staff"] = True
        panel["may_manage"] = user.may(MANAGE_PARTNERS)
        panel["bank_changes"] = bank_changes_pending().count()
    return panel or None
