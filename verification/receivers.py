"""What verification answers cohorts (cohorts.signals); connected in VerificationConfig.ready."""

from typing import Any

from django.urls import reverse

from accounts.models import User
from cohorts.models import Cohort
from cohorts.selectors import CohortWorkItem
from verification.selectors import review_counts_by_cohort


def cohort_work_documents(
    sender: type[Cohort], *, cohorts: list[Cohort], user: User, **kwargs: Any
) -> dict[int, list[CohortWorkItem]]:
    """The start page's documents waiting for review in each cohort, for one who reviews."""
    counts = review_counts_by_cohort(user=user, cohort_ids=[cohort.pk for cohort in cohorts])
    queue = reverse("verification:queue")
    return {
        pk: [
            CohortWorkItem(
                f"{n} document{'s'[: n != 1]} to review", f"{queue}?cohort={pk}", rank=20
            )
        ]
        for pk, n in counts.items()
        if n
    }
