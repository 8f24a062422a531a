"""What a learner's portfolio of evidence for one course run holds, read once for its PDF: the
learner, programme, course and run, their placements and mentors, and for each outcome of the
course its portfolio (if any) with every submission, decision, moderation verdict and piece of
evidence. Also who may produce that PDF, and the copies produced before."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from academics.models import Outcome
from accounts.models import User
from accounts.permissions import may_reach
from delivery.models import CourseEnrollment
from placements.models import Placement
from workplace.access import (
    MANAGE_DELIVERY,
    is_own_course_enrollment,
    portfolios_for,
)
from workplace.models import (
    Mentorship,
    Portfolio,
    PortfolioEvidence,
    PortfolioExport,
    PortfolioSubmission,
)
from workplace.selectors.hours import outcome_hours


def export_course_enrollment(pk: int) -> CourseEnrollment:
    """The course enrolment with what its PDF's cover and the export page show (raises
    CourseEnrollment.DoesNotExist)."""
    course_enrollment: CourseEnrollment = CourseEnrollment.objects.select_related(
        "course__programme",
        "course_run",
        "enrollment__learner__user",
        "enrollment__cohort",
    ).get(pk=pk)
    return course_enrollment


def export_allowed(user: User, course_enrollment: CourseEnrollment) -> bool:
    """Who may produce the learner's portfolio as a PDF: the learner, staff who manage delivery
    in the learner's cohort (even before anything is handed in), and whoever reaches one of its
    portfolios (workplace.access.portfolios_for: its assessors and moderators)."""
    if not user.is_authenticated:
        return False
    if is_own_course_enrollment(user, course_enrollment.pk):
        return True
    if user.may(MANAGE_DELIVERY) and may_reach(user, course_enrollment.enrollment.cohort):
        return True
    return portfolios_for(user).filter(course_enrollment=course_enrollment).exists()


def export_list(course_enrollment: CourseEnrollment) -> QuerySet[PortfolioExport]:
    """The PDFs produced before, newest first."""
    return PortfolioExport.objects.filter(course_enrollment=course_enrollment).select_related(
        "created_by"
    )


@dataclass
class OutcomePortfolio:
    """One outcome of the course with the learner's portfolio for it (None: not started)."""

    outcome: Outcome
    portfolio: Portfolio | None
    submissions: list[PortfolioSubmission]  # oldest first
    evidence: list[PortfolioEvidence]
    hours: Decimal


@dataclass
class PortfolioContents:
    course_enrollment: CourseEnrollment
    placements: list[Placement]
    mentorships: list[Mentorship]
    outcomes: list[OutcomePortfolio] = field(default_factory=list)


def portfolio_contents(course_enrollment: CourseEnrollment) -> PortfolioContents:
    """Everything the PDF shows, in a fixed number of queries whatever the portfolio's size."""
    enrollment = course_enrollment.enrollment
    learner = enrollment.learner
    placements = list(
        Placement.objects.filter(learner=learner, cohort_id=enrollment.cohort_id)
        .select_related("organisation")
        .order_by("starts_on", "pk")
    )
    mentorships = list(
        Mentorship.objects.filter(placement__in=placements)
        .select_related("mentor", "placement__organisation")
        .order_by("started_at", "pk")
    )
    submissions = PortfolioSubmission.objects.select_related(
        "assessor",
        "assessor_registration",
        "moderation_item__sample__moderator",
        "moderation_item__sample__moderator_registration",
    ).order_by("number")
    evidence = PortfolioEvidence.objects.select_related(
        "submission",
        "logbook_entry__week__reviewed_by",
        "logbook_entry__week__placement__organisation",
        "observation__written_by",
    ).order_by("uploaded_at", "pk")
    portfolios = {
        portfolio.outcome_id: portfolio
        for portfolio in Portfolio.objects.filter(
            course_enrollment=course_enrollment
        ).prefetch_related(
            Prefetch("submissions", queryset=submissions, to_attr="history"),
            Prefetch("evidence", queryset=evidence, to_attr="pieces"),
        )
    }
    hours = outcome_hours(learner) if learner is not None else {}
    contents = PortfolioContents(course_enrollment, placements, mentorships)
    outcomes = Outcome.objects.filter(course_id=course_enrollment.course_id).order_by(
        "position", "code"
    )
    for outcome in outcomes:
        portfolio = portfolios.get(outcome.pk)
        if portfolio is None and not outcome.is_active:
            continue
        contents.outcomes.append(
            OutcomePortfolio(
                outcome=outcome,
                portfolio=portfolio,
                submissions=list(getattr(portfolio, "history", [])),
                evidence=list(getattr(portfolio, "pieces", [])),
                hours=hours.get(outcome.pk, Decimal(0)),
            )
        )
    return contents
