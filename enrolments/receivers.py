"""What enrolments does when a cohort's life moves on (cohorts.signals), each inside the
cohort's transaction, and what it answers accounts (accounts.signals); connected in
EnrolmentsConfig.ready."""

from typing import Any

from django.urls import reverse

from accounts.models import SystemRole, User
from cohorts.models import Cohort
from cohorts.selectors import CohortWorkItem
from enrolments.models import CohortEnrollment, EnrollmentState
from enrolments.selectors import (
    agreements_to_countersign_counts,
    enrollment_counts,
    invitations_not_accepted_counts,
)
from enrolments.services import (
    enrollment_agreements_send_on_commit,
    enrollments_sync_for_learner,
    identity_documents_reopen,
    learner_enrollments_refresh,
)
from learners.models import ConsentKind, Learner
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


def cohort_work_enrollments(
    sender: type[Cohort], *, cohorts: list[Cohort], **kwargs: Any
) -> dict[int, list[CohortWorkItem]]:
    """The start page's work in each cohort: agreements waiting for the institution's
    signature and invitations not accepted yet."""
    ids = [cohort.pk for cohort in cohorts]
    countersign = agreements_to_countersign_counts(cohort_ids=ids)
    not_accepted = invitations_not_accepted_counts(cohort_ids=ids)
    work: dict[int, list[CohortWorkItem]] = {}
    for pk in ids:
        url = reverse("cohorts:dashboard", args=[pk])
        items = work.setdefault(pk, [])
        if countersign.get(pk):
            n = countersign[pk]
            countersign_url = reverse("countersign:list", args=[pk])
            items.append(
                CohortWorkItem(
                    f"{n} agreement{'s'[: n != 1]} to countersign", countersign_url, rank=30
                )
            )
        if not_accepted.get(pk):
            n = not_accepted[pk]
            items.append(
                CohortWorkItem(
                    f"{n} invitation{'s'[: n != 1]} not accepted",
                    f"{url}?state=waiting",
                    rank=40,
                )
            )
    return work


def invitation_refused_closed_cohorts(sender: type[User], *, user: User, **kwargs: Any) -> str:
    """A student (and nothing else here) whose every cohort has closed since they were invited
    has nothing left to sign up for."""
    if user.roles.exclude(key=SystemRole.STUDENT).exists():
        return ""
    cohorts = [
        enrollment.cohort
        for enrollment in CohortEnrollment.objects.filter(user=user)
        .exclude(state=EnrollmentState.WITHDRAWN)
        .select_related("cohort")
        .order_by("cohort__name")
    ]
    if not cohorts or not all(cohort.is_closed for cohort in cohorts):
        return ""
    if len(cohorts) == 1:
        state = cohorts[0].get_state_display().lower()
        return f"You were invited to {cohorts[0].name}, which is now {state}."
    names = ", ".join(cohort.name for cohort in cohorts)
    return f"You were invited to {names}, which are all now completed or cancelled."


def learner_consent_changed_sync(
    sender: type[Learner], *, learner: Learner, kind: str, given: bool, **kwargs: Any
) -> None:
    """An enrolment's gateway sync waits for the student's consent to sharing with the
    funding body: it goes once given."""
    if given and kind == ConsentKind.FUNDING_BODY_SHARING:
        enrollments_sync_for_learner(learner=learner)


def learner_verified_facts_changed_reopen(
    sender: type[Learner], *, learner: Learner, actor: User | None, **kwargs: Any
) -> int:
    """Facts the learner's verified identity document vouches for changed: it is reviewed
    again."""
    return identity_documents_reopen(learner=learner, actor=actor)


def learner_merged_refresh(sender: type[Learner], *, learner: Learner, **kwargs: Any) -> None:
    """Another record's enrolments and documents are the learner's now: each open enrolment
    counts the documents it has now, and the gateway gets what the merged record needs."""
    learner_enrollments_refresh(learner=learner)
    enrollments_sync_for_learner(learner=learner)


def learner_national_id_changed_sync(
    sender: type[Learner], *, learner: Learner, **kwargs: Any
) -> None:
    """An enrolment the gateway has not accepted yet is sent again with the new number (a job
    queued with the old one is withheld when it runs: learners.gateway)."""
    enrollments_sync_for_learner(learner=learner)
