"""What the staff overview of a course run's portfolios reads: the run (if the person manages
delivery for its cohort), the outcomes of its course, how many portfolios stand where per
outcome, and a page of its learners with each outcome's portfolio. The page reads in a fixed
number of queries, however many learners the run has."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from academics.models import Outcome
from accounts.models import User
from delivery.models import CourseEnrollment, CourseRun
from workplace.models import Portfolio, PortfolioStatus
from workplace.selectors.moderation import runs_managed

DECIDED = (PortfolioStatus.COMPETENT, PortfolioStatus.NOT_YET_COMPETENT)


def run_reached(user: User, pk: int) -> CourseRun:
    """The course run `pk` if `user` manages delivery for its cohort (CourseRun.DoesNotExist
    otherwise)."""
    run: CourseRun = runs_managed(user).select_related("course", "cohort").get(pk=pk)
    return run


def run_outcomes(run: CourseRun) -> list[Outcome]:
    """The outcomes of the run's course: the active ones, and any other that has portfolios in
    the run, in the course's order."""
    return list(
        Outcome.objects.filter(
            Q(is_active=True) | Q(portfolios__course_enrollment__course_run=run),
            course_id=run.course_id,
        )
        .distinct()
        .order_by("position", "code", "pk")
    )


@dataclass
class OutcomeCounts:
    """How the run's portfolios for one outcome stand."""

    outcome: Outcome
    competent_final: int = 0
    awaiting_moderation: int = 0
    not_yet_competent: int = 0
    waiting_for_assessor: int = 0


def outcome_counts(run: CourseRun, outcomes: Sequence[Outcome]) -> list[OutcomeCounts]:
    """Per outcome of `outcomes`: the portfolios found competent with a final result, the
    decisions awaiting moderation, the "not yet competent" results (final or not) and the
    portfolios handed in that no assessor has decided yet."""
    rows: dict[int, dict[str, Any]] = {
        row["outcome_id"]: row
        for row in Portfolio.objects.filter(course_enrollment__course_run=run)
        .values("outcome_id")
        .annotate(
            competent_final=Count(
                "pk", filter=Q(status=PortfolioStatus.COMPETENT, final_at__isnull=False)
            ),
            awaiting_moderation=Count("pk", filter=Q(status__in=DECIDED, final_at__isnull=True)),
            not_yet_competent=Count("pk", filter=Q(status=PortfolioStatus.NOT_YET_COMPETENT)),
            waiting_for_assessor=Count("pk", filter=Q(status=PortfolioStatus.SUBMITTED)),
        )
        .order_by("outcome_id")
    }
    counts = []
    for outcome in outcomes:
        row = rows.get(outcome.pk, {})
        counts.append(
            OutcomeCounts(
                outcome=outcome,
                competent_final=row.get("competent_final", 0),
                awaiting_moderation=row.get("awaiting_moderation", 0),
                not_yet_competent=row.get("not_yet_competent", 0),
                waiting_for_assessor=row.get("waiting_for_assessor", 0),
            )
        )
    return counts


def run_course_enrollments(run: CourseRun) -> QuerySet[CourseEnrollment]:
    """The run's learners (their places in it), by name."""
    return (
        CourseEnrollment.objects.filter(course_run=run)
        .select_related("enrollment__learner", "enrollment__user")
        .order_by(
            "enrollment__learner__last_name",
            "enrollment__learner__first_name",
            "enrollment__user__full_name",
            "pk",
        )
    )


@dataclass
class PortfolioCell:
    """One learner's portfolio for one outcome, or None when they have not started it."""

    outcome: Outcome
    portfolio: Portfolio | None

    @property
    def status(self) -> str:
        return self.portfolio.status if self.portfolio else ""

    @property
    def label(self) -> str:
        return self.portfolio.get_status_display() if self.portfolio else "Not started"

    @property
    def final(self) -> bool:
        return self.portfolio is not None and self.portfolio.final_at is not None


@dataclass
class LearnerRow:
    course_enrollment: CourseEnrollment
    cells: list[PortfolioCell] = field(default_factory=list)

    @property
    def name(self) -> str:
        enrollment = self.course_enrollment.enrollment
        learner = enrollment.learner
        if learner is not None and learner.full_name:
            return str(learner.full_name)
        return str(enrollment.user)


def portfolio_grid(
    course_enrollments: Sequence[CourseEnrollment], outcomes: Sequence[Outcome]
) -> list[LearnerRow]:
    """A row per course enrollment of `course_enrollments` (a page of the run's learners), with
    a cell per outcome of `outcomes`: one query for the portfolios, whatever the page's size."""
    found: dict[tuple[int, int], Portfolio] = {
        (portfolio.course_enrollment_id, portfolio.outcome_id): portfolio
        for portfolio in Portfolio.objects.filter(
            course_enrollment__in=[ce.pk for ce in course_enrollments],
            outcome__in=[outcome.pk for outcome in outcomes],
        ).order_by()
    }
    return [
        LearnerRow(
            course_enrollment=ce,
            cells=[
                PortfolioCell(outcome=outcome, portfolio=found.get((ce.pk, outcome.pk)))
                for outcome in outcomes
            ],
        )
        for ce in course_enrollments
    ]
