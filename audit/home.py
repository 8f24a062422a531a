"""The start page's audit panel (accounts.home), registered in AuditConfig.ready."""

from typing import Any

from accounts.models import User
from audit.selectors import audit_event_list

HOME_EVENTS = 5


def audit_home_panel(user: User) -> dict[str, Any] | None:
    """The latest events of the trail, for those who may read it."""
    if not user.may("audit.view_audit_trail"):
        return None
    return {"events": list(audit_event_list()[:HOME_EVENTS])}
