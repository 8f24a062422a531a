"""What enrolments does when a cohort's life moves on (cohorts.signals); connected in
EnrolmentsConfig.ready. Each runs inside the cohort's transaction."""

from typing import Any

from accounts.models import User
from cohorts.models import Cohort
from enrolments.models import CohortEnrollment
from enrolments.selectors import enrollment_counts
from enrolments.services import enrollment_agreements_send_on_commit
from signing.services.submissions import submissions_revoke_pending


def cohort_activated_send_agreements(
    sender: type[Cohort], *, cohort: Cohort, **kwargs: Any
) -> None:
    """After commit, a task sends each student of the just-activated cohort their agreement."""
    enrollment_agreements_send_on_commit(cohort=cohort)


def cohort_agreements_ended_revoke(
    sender: type[Cohort], *, cohort: Cohort, actor: User | None, reason: str, **kwargs: Any
) -> None:
    """The students' agreements still waiting for a signature no longer apply."""
    submissions_revoke_pending(
        subjects=CohortEnrollment.objects.filter(cohort=cohort), actor=actor, reason=reason
    )


def cohort_completion_blockers_enrollments(
    sender: type[Cohort], *, cohort: Cohort, **kwargs: Any
) -> list[str]:
    """A cohort completes once every enrolment (withdrawn ones aside) is complete and its
    documents verified."""
    counts = enrollment_counts(cohort=cohort)
    unfinished = counts["waiting"] + counts["in_progress"]
    unverified = counts["complete"] - counts["complete_verified"]
    blockers = []
    if unfinished:
        blockers.append(f"{unfinished} enrolment(s) are not complete")
    if unverified:
        blockers.append(f"{unverified} complete enrolment(s) have unverified documents")
    return blockers
