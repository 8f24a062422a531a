"""Recording how a learner finished the programme, beside their onboarding state: completed
(every required course completed), not yet competent (every result final, some not passed) or
withdrawn (at any time). An outcome a valid certificate was issued on is not changed until the
certificate is revoked."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from cohorts.models import Cohort
from delivery.models import Certificate
from delivery.selectors.outcomes import LearnerStanding, learner_standings
from enrolments.models import CohortEnrollment, ProgrammeOutcome
from learners.services import learner_graduate_if_done

RECORD = "delivery.issue_certificates"


def _date_check(outcome: str, completion_date: datetime.date | None) -> datetime.date:
    today = timezone.localdate()
    if completion_date is None:
        if outcome != ProgrammeOutcome.WITHDRAWN:
            raise ValidationError(
                {"completion_date": "Give the date the learner finished the programme."},
                code="date_missing",
            )
        return today
    if completion_date > today:
        raise ValidationError(
            {"completion_date": "The date cannot be in the future."}, code="date_in_future"
        )
    return completion_date


def _allowed(standing: LearnerStanding, outcome: str) -> None:
    if outcome == ProgrammeOutcome.WITHDRAWN:
        return
    if not standing.courses:
        raise ValidationError(
            "The learner is in no course of the programme yet.", code="no_courses"
        )
    ready = standing.ready_outcome
    if outcome == ProgrammeOutcome.COMPLETED and ready != ProgrammeOutcome.COMPLETED:
        pending = [s.course.code for s in standing.courses if not s.completed]
        raise ValidationError(
            "Not every required course is completed: %(codes)s.",
            code="courses_not_completed",
            params={"codes": ", ".join(pending)},
        )
    if outcome == ProgrammeOutcome.NOT_YET_COMPETENT and ready != outcome:
        if ready == ProgrammeOutcome.COMPLETED:
            raise ValidationError(
                "The learner completed every required course.", code="courses_completed"
            )
        pending = [s.course.code for s in standing.courses if not s.final]
        raise ValidationError(
            "Results are not final yet in %(codes)s.",
            code="results_not_final",
            params={"codes": ", ".join(pending)},
        )


def _record(
    enrollment: CohortEnrollment,
    actor: User | None,
    outcome: str,
    completion_date: datetime.date,
) -> None:
    if Certificate.objects.filter(enrollment=enrollment, revoked_at__isnull=True).exists():
        raise ValidationError(
            "A certificate was issued on the recorded outcome: revoke it before changing it.",
            code="certificate_issued",
        )
    old = {
        "programme_outcome": enrollment.programme_outcome,
        "completion_date": str(enrollment.completion_date or ""),
    }
    enrollment.programme_outcome, enrollment.completion_date = outcome, completion_date
    enrollment.save(update_fields=["programme_outcome", "completion_date", "updated_at"])
    audit_record(
        actor=actor,
        action="enrollment.programme_outcome_recorded",
        entity=enrollment,
        old_values=old,
        new_values={"programme_outcome": outcome, "completion_date": str(completion_date)},
    )
    learner_graduate_if_done(enrollment.learner)


def programme_outcome_record(
    *,
    enrollment: CohortEnrollment,
    actor: User | None,
    outcome: str,
    completion_date: datetime.date | None,
) -> CohortEnrollment:
    """Record `enrollment`'s programme outcome and completion date (for a withdrawal, the day
    the learner left: today unless given)."""
    permission_check(
        actor=actor, action="programme_outcome.record", permission=RECORD, obj=enrollment.cohort
    )
    if outcome not in ProgrammeOutcome.values:
        raise ValidationError({"outcome": "Choose an outcome."}, code="outcome_unknown")
    completion_date = _date_check(outcome, completion_date)
    with transaction.atomic(durable=True):
        enrollment = CohortEnrollment.objects.select_for_update().get(pk=enrollment.pk)
        (standing,) = learner_standings(cohort=enrollment.cohort, enrollment_ids=[enrollment.pk])
        _allowed(standing, outcome)
        _record(enrollment, actor, outcome, completion_date)
    return enrollment


def cohort_outcomes_record(
    *, cohort: Cohort, actor: User | None, completion_date: datetime.date
) -> int:
    """Record the outcome the results allow for every learner of `cohort` still without one
    (withdrawn learners aside); how many were recorded."""
    permission_check(actor=actor, action="programme_outcome.record", permission=RECORD, obj=cohort)
    completion_date = _date_check(ProgrammeOutcome.COMPLETED, completion_date)
    recorded = 0
    with transaction.atomic(durable=True):
        Cohort.objects.select_for_update().get(pk=cohort.pk)
        for standing in learner_standings(cohort=cohort):
            enrollment, ready = standing.enrollment, standing.ready_outcome
            if enrollment.programme_outcome or standing.withdrawn or not ready:
                continue
            _record(enrollment, actor, ready, completion_date)
            recorded += 1
    return recorded
