"""The start page's review panel (accounts.home), registered in VerificationConfig.ready."""

from typing import Any

from accounts.models import User
from verification.selectors import review_queue_counts


def review_home_panel(user: User) -> dict[str, Any] | None:
    """How many documents wait for `user`'s review, for those who review but do not manage
    cohorts (an admin sees the same work per cohort)."""
    if not user.may("verification.review_documents") or user.may("cohorts.manage_cohorts"):
        return None
    return {"counts": review_queue_counts(user=user)}
