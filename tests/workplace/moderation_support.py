"""Assessed portfolios for the moderation tests, written directly (test setup, not the
services): a portfolio of a learner's outcome with its status, and its submissions with the
assessor's decisions."""

import datetime

from django.utils import timezone

from academics.models import Outcome
from accounts.models import User
from tests.workplace.support import Placed, Workplace
from workplace.models import (
    Decision,
    Portfolio,
    PortfolioStatus,
    PortfolioSubmission,
)


def assessed(
    placed: Placed,
    outcome: Outcome,
    assessor: User,
    decision: str = Decision.COMPETENT,
    *,
    number: int = 1,
    portfolio: Portfolio | None = None,
    status: str | None = None,
) -> PortfolioSubmission:
    """Submission `number` of `placed`'s portfolio for `outcome`, decided by `assessor`; the
    portfolio holds `status` (the decision by default)."""
    if portfolio is None:
        portfolio = Portfolio.objects.create(
            course_enrollment=placed.course_enrollment, outcome=outcome, status=status or decision
        )
    else:
        Portfolio.objects.filter(pk=portfolio.pk).update(status=status or decision)
    now = timezone.now()
    submission: PortfolioSubmission = PortfolioSubmission.objects.create(
        portfolio=portfolio,
        number=number,
        submitted_at=now - datetime.timedelta(days=2),
        submitted_by=placed.user,
        decision=decision,
        feedback=""
        if decision == Decision.COMPETENT
        else "The lesson plan does not show how learners were assessed.",
        assessor=assessor,
        assessed_at=now - datetime.timedelta(days=1),
    )
    return submission


def decisions_make(
    world: Workplace, placed: list[Placed], *, nyc: int = 0, assessor: User | None = None
) -> list[PortfolioSubmission]:
    """One decision per learner of `placed` and outcome of the world, the first `nyc` of them
    "not yet competent", the rest competent, in bulk."""
    assessor = assessor or world.assessor
    now = timezone.now()
    pairs = [(p, outcome) for p in placed for outcome in world.outcomes]
    portfolios = Portfolio.objects.bulk_create(
        Portfolio(
            course_enrollment=p.course_enrollment,
            outcome=outcome,
            status=PortfolioStatus.NOT_YET_COMPETENT if n < nyc else PortfolioStatus.COMPETENT,
        )
        for n, (p, outcome) in enumerate(pairs)
    )
    return PortfolioSubmission.objects.bulk_create(
        PortfolioSubmission(
            portfolio=portfolio,
            number=1,
            submitted_at=now,
            submitted_by=p.user,
            decision=portfolio.status,
            feedback="Needs a lesson plan." if portfolio.status != Decision.COMPETENT else "",
            assessor=assessor,
            assessed_at=now,
        )
        for portfolio, (p, _outcome) in zip(portfolios, pairs, strict=True)
    )
