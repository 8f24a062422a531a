"""What sponsors does when a cohort's life moves on (cohorts.signals); connected in
SponsorsConfig.ready. Each runs inside the cohort's transaction."""

from typing import Any

from accounts.models import User
from cohorts.models import Cohort
from sponsors.selectors import cohort_sponsor_status
from sponsors.services import sponsor_cohort_activated_notify, sponsor_cohort_completed_notify


def cohort_activated_notify_sponsor(
    sender: type[Cohort], *, cohort: Cohort, actor: User, **kwargs: Any
) -> None:
    sponsor_cohort_activated_notify(cohort=cohort, actor=actor)


def cohort_completed_notify_sponsor(
    sender: type[Cohort], *, cohort: Cohort, actor: User, **kwargs: Any
) -> None:
    sponsor_cohort_completed_notify(cohort=cohort, actor=actor)


def cohort_completion_blockers_sponsor(
    sender: type[Cohort], *, cohort: Cohort, **kwargs: Any
) -> list[str]:
    """A sponsored cohort completes once the sponsor has signed its agreement."""
    if cohort.sponsor_id is not None and cohort_sponsor_status(cohort).state != "signed":
        return ["the sponsor has not signed the agreement"]
    return []
