"""Finance's answers to what other apps tell it: a placement confirmed, or an enrolment
started, accrues the commission of the partner who brought the learner (by the partner's
rule). Each runs inside the transaction of the change, so the commission commits or rolls
back with it."""

from typing import Any

from enrolments.models import CohortEnrollment, EnrollmentState
from finance.services.commissions import commissions_accrue
from partners.models import CommissionTrigger
from placements.models import Placement


def placement_cohort_enrollment(placement: Placement) -> CohortEnrollment | None:
    """The learner's place in the placement's cohort; without one, their latest enrolment
    that was not withdrawn (whose fee a percentage is taken of)."""
    enrollments = CohortEnrollment.objects.select_related("cohort__programme").filter(
        learner_id=placement.learner_id
    )
    if placement.cohort_id is not None:
        return enrollments.filter(cohort_id=placement.cohort_id).first()
    return (
        enrollments.exclude(state=EnrollmentState.WITHDRAWN).order_by("-invited_at", "-pk").first()
    )


def placement_confirmed_accrue(
    sender: type, placement: Placement, actor: Any, **kwargs: Any
) -> None:
    commissions_accrue(
        learner=placement.learner,
        trigger=CommissionTrigger.PLACEMENT,
        actor=actor,
        cohort_enrollment=placement_cohort_enrollment(placement),
        placement=placement,
    )


def enrollment_started_accrue(
    sender: type, enrollment: CohortEnrollment, actor: Any, **kwargs: Any
) -> None:
    commissions_accrue(
        learner=enrollment.learner,
        trigger=CommissionTrigger.ENROLMENT,
        actor=actor,
        cohort_enrollment=enrollment,
        enrollment=enrollment,
    )
