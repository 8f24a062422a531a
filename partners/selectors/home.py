"""The start page's partners panel (accounts.home; registered in PartnersConfig.ready): for a
partner's contact, their partner and how many candidates it brought. Finance users find the
bank details waiting for a second person on the finance panel."""

from typing import Any

from accounts.models import User
from partners.access import CONTACT_ROLES, candidates_of, partner_of_contact


def partners_home_panel(user: User) -> dict[str, Any] | None:
    """None for anyone who does not speak for a partner (no query for them)."""
    if not CONTACT_ROLES & user.role_keys:
        return None
    partner = partner_of_contact(user)
    if partner is None:
        return None
    return {"partner": partner, "candidates": candidates_of(partner).count()}
