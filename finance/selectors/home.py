"""The start page's finance panel (accounts.home; registered in FinanceConfig.ready): for
finance users, what is owed and overdue and how much waits for them."""

from typing import Any

from accounts.models import User
from finance.access import MANAGE_FINANCE
from finance.selectors.overview import finance_figures


def finance_home_panel(user: User) -> dict[str, Any] | None:
    """None for anyone who does not manage finance (no query for them)."""
    if not user.may(MANAGE_FINANCE):
        return None
    return {"figures": finance_figures()}
