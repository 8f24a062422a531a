"""The start page's delivery panel (accounts.home), registered in DeliveryConfig.ready."""

from typing import Any

from accounts.models import User
from delivery.access import MANAGE, MODERATE, TEACH
from delivery.selectors.attendance import registers_to_take
from delivery.selectors.results import results_runs_for
from delivery.selectors.sessions import sessions_on_home, upcoming


def delivery_home_panel(user: User) -> dict[str, Any] | None:
    """What waits for a trainer (registers to take, their next session) or a moderator (runs
    to sign off); those who manage delivery see it per cohort instead."""
    teaches, moderates = user.may(TEACH), user.may(MODERATE)
    if not (teaches or moderates) or user.may(MANAGE):
        return None
    return {
        "teaches": teaches,
        "moderates": moderates,
        "registers": registers_to_take(user).count() if teaches else 0,
        "to_moderate": results_runs_for(user, to_moderate=True).count() if moderates else 0,
        "next_session": next(iter(upcoming(sessions_on_home(user), limit=1)), None),
    }
