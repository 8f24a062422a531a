"""What sponsors does when a cohort's life moves on (cohorts.signals); connected in
SponsorsConfig.ready. Each runs inside the cohort's transaction."""

from typing import Any

from django.urls import reverse

from accounts.models import User
from cohorts.models import Cohort
from cohorts.selectors import CohortWorkItem
from sponsors.selectors import cohort_sponsor_status, cohorts_sponsor_unsigned
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


def cohort_work_sponsor(
    sender: type[Cohort], *, cohorts: list[Cohort], **kwargs: Any
) -> dict[int, list[CohortWorkItem]]:
    """The start page's work in each cohort: a sponsor who has not signed yet."""
    unsigned = cohorts_sponsor_unsigned(cohort_ids=[cohort.pk for cohort in cohorts])
    return {
        pk: [
            CohortWorkItem(
                "Sponsor not signed yet",
                reverse("cohorts:dashboard", args=[pk]) + "#sponsor",
                rank=50,
            )
        ]
        for pk in unsigned
    }
