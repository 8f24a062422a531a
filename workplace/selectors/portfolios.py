"""What the portfolio pages read: a learner's courses with each outcome's portfolio and
confirmed hours, one portfolio with its evidence and its history of submissions, the evidence a
learner may still add, an assessor's queue, and observation reports."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)

from academics.models import Outcome
from accounts.models import User
from accounts.permissions import may_reach
from delivery.models import CourseEnrollment, CourseRun
from learners.models import Learner
from workplace.access import (
    MANAGE_DELIVERY,
    MANAGE_PLACEMENTS,
    is_mentor,
    portfolios_for,
    programmes_covered,
)
from workplace.models import (
    LogbookEntry,
    LogbookWeekStatus,
    Mentorship,
    ObservationReport,
    Portfolio,
    PortfolioEvidence,
    PortfolioStatus,
    PortfolioSubmission,
    PractitionerRegistration,
    PractitionerRole,
)
from workplace.selectors.hours import hours_text, outcome_hours

# --- The learner's overview -------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeRow:
    """One outcome of a course the learner takes, with its portfolio (None: not started) and
    the confirmed logbook hours that practised it."""

    outcome: Outcome
    portfolio: Portfolio | None
    hours: Decimal

    @property
    def hours_text(self) -> str:
        """7.5, not 7.50; 40, not 4E+1."""
        return hours_text(self.hours)

    @property
    def status_label(self) -> str:
        if self.portfolio is None:
            return "Not started"
        return self.portfolio.get_status_display()

    @property
    def status(self) -> str:
        return self.portfolio.status if self.portfolio else "not_started"


@dataclass(frozen=True)
class CourseRow:
    course_enrollment: CourseEnrollment
    outcomes: list[OutcomeRow]


def learner_portfolio_overview(learner: Learner) -> list[CourseRow]:
    """The learner's course enrolments whose course has active outcomes, each outcome with its
    portfolio and hours. A fixed number of queries, however many courses and outcomes."""
    enrollments = list(
        CourseEnrollment.objects.filter(
            enrollment__learner=learner,
            course__outcomes__is_active=True,
        )
        .distinct()
        .select_related("course", "course_run", "course_run__cohort")
        .prefetch_related(
            Prefetch(
                "course__outcomes",
                queryset=Outcome.objects.filter(is_active=True).order_by("position", "code"),
                to_attr="active_outcomes",
            ),
            Prefetch("portfolios", to_attr="all_portfolios"),
        )
        .order_by("-course_run__start_date", "course__code")
    )
    hours = outcome_hours(learner)
    rows = []
    for enrollment in enrollments:
        portfolios = {p.outcome_id: p for p in enrollment.all_portfolios}
        rows.append(
            CourseRow(
                enrollment,
                [
                    OutcomeRow(
                        outcome, portfolios.get(outcome.pk), hours.get(outcome.pk, Decimal(0))
                    )
                    for outcome in enrollment.course.active_outcomes  # type: ignore[attr-defined]
                ],
            )
        )
    return rows


def learner_course_enrollment(user: User, pk: int) -> CourseEnrollment:
    """`user`'s own course enrolment (DoesNotExist for anyone else's)."""
    found: CourseEnrollment = CourseEnrollment.objects.select_related("course").get(
        pk=pk, enrollment__learner__user=user, enrollment__learner__user__isnull=False
    )
    return found


# --- One portfolio ----------------------------------------------------------------------------


def portfolio_for_user(user: User, pk: int) -> Portfolio:
    """A portfolio `user` reaches, with what its page shows (DoesNotExist otherwise)."""
    found: Portfolio = (
        portfolios_for(user)
        .select_related(
            "outcome__course__programme",
            "course_enrollment__course_run",
            "course_enrollment__enrollment__learner",
        )
        .get(pk=pk)
    )
    return found


def portfolio_evidence(portfolio: Portfolio) -> list[PortfolioEvidence]:
    evidence: list[PortfolioEvidence] = list(
        portfolio.evidence.select_related(
            "logbook_entry__week__placement__organisation",
            "observation__written_by",
            "submission",
        ).order_by("uploaded_at", "pk")
    )
    return evidence


def portfolio_history(portfolio: Portfolio) -> list[PortfolioSubmission]:
    """Every submission, latest first, with its decision, its assessor and any moderation
    verdict."""
    submissions: list[PortfolioSubmission] = list(
        portfolio.submissions.select_related(
            "assessor", "assessor_registration", "moderation_item", "moderation_item__sample"
        )
        .annotate(evidence_count=Count("evidence"))
        .order_by("-number")
    )
    return submissions


def entries_to_add(portfolio: Portfolio) -> QuerySet[LogbookEntry]:
    """The learner's logbook entries of confirmed weeks that practised the outcome and are not
    in the portfolio yet."""
    learner_id = portfolio.course_enrollment.enrollment.learner_id
    return (
        LogbookEntry.objects.filter(
            week__placement__learner_id=learner_id,
            week__status=LogbookWeekStatus.CONFIRMED,
            outcomes=portfolio.outcome_id,
        )
        .exclude(Exists(portfolio.evidence.filter(logbook_entry=OuterRef("pk"))))
        .select_related("week__placement__organisation")
        .order_by("-entry_date", "-pk")
    )


def observations_to_add(portfolio: Portfolio) -> QuerySet[ObservationReport]:
    """Observation reports about the learner for the outcome, not in the portfolio yet."""
    learner_id = portfolio.course_enrollment.enrollment.learner_id
    return (
        ObservationReport.objects.filter(
            placement__learner_id=learner_id, outcome=portfolio.outcome_id
        )
        .exclude(Exists(portfolio.evidence.filter(observation=OuterRef("pk"))))
        .select_related("written_by", "placement__organisation")
        .order_by("-observed_on", "-pk")
    )


# --- The assessor's queue ---------------------------------------------------------------------


def assessor_queue(user: User, *, course_run: CourseRun | None = None) -> QuerySet[Portfolio]:
    """Portfolios waiting for an assessor whose programme `user`'s valid assessor registration
    covers, oldest hand-in first; never those workplace.services.portfolios.assessor_conflict
    refuses (their own, their mentees', evidence they wrote or confirmed). Each
    carries its latest submission's number and time and its evidence count."""
    latest = PortfolioSubmission.objects.filter(portfolio=OuterRef("pk")).order_by("-number")
    evidence_count = (
        PortfolioEvidence.objects.filter(portfolio=OuterRef("pk"))
        .order_by()
        .values("portfolio")
        .annotate(n=Count("pk"))
        .values("n")
    )
    mentored = Mentorship.objects.filter(
        mentor=user, placement__learner=OuterRef("course_enrollment__enrollment__learner")
    )
    vouched = PortfolioEvidence.objects.filter(
        Q(observation__written_by=user) | Q(logbook_entry__week__reviewed_by=user),
        portfolio=OuterRef("pk"),
    )
    portfolios = (
        Portfolio.objects.filter(
            status=PortfolioStatus.SUBMITTED,
            outcome__course__programme__in=programmes_covered(user, PractitionerRole.ASSESSOR),
        )
        .exclude(course_enrollment__enrollment__learner__user=user)
        .exclude(Exists(mentored))
        .exclude(Exists(vouched))
        .select_related(
            "outcome",
            "course_enrollment__course_run",
            "course_enrollment__enrollment__learner",
        )
        .annotate(
            submission_number=Subquery(latest.values("number")[:1]),
            submitted_at=Subquery(latest.values("submitted_at")[:1]),
            evidence_count=Subquery(evidence_count, output_field=IntegerField()),
        )
        .order_by("submitted_at", "pk")
    )
    if course_run is not None:
        portfolios = portfolios.filter(course_enrollment__course_run=course_run)
    return portfolios


def queue_runs(user: User) -> QuerySet[CourseRun]:
    """The course runs with portfolios in `user`'s queue, for its filter."""
    return (
        CourseRun.objects.filter(
            Exists(assessor_queue(user).filter(course_enrollment__course_run=OuterRef("pk")))
        )
        .select_related("course")
        .order_by("-start_date", "title")
    )


def assessor_standing(user: User) -> str:
    """Why `user` has no queue: "missing" (no assessor registration), "withdrawn" or "expired"
    (their latest one), or "" when a registration is valid."""
    if programmes_covered(user, PractitionerRole.ASSESSOR).exists():
        return ""
    latest = (
        PractitionerRegistration.objects.filter(user=user, role=PractitionerRole.ASSESSOR)
        .order_by("-is_active", "-expires_on")
        .first()
    )
    if latest is None:
        return "missing"
    return "expired" if latest.is_active else "withdrawn"


# --- Observation reports ----------------------------------------------------------------------


def observation_for_user(user: User, pk: int) -> ObservationReport:
    """An observation report `user` may read: the learner's own, one on a placement they mentor
    now, any for staff who manage placements, one of a cohort they reach for staff who manage
    delivery, and one in a portfolio they reach
    (an assessor's or a moderator's). DoesNotExist otherwise."""
    observation: ObservationReport = ObservationReport.objects.select_related(
        "placement__learner",
        "placement__organisation",
        "placement__cohort",
        "outcome__course",
        "written_by",
    ).get(pk=pk)
    if user.may(MANAGE_PLACEMENTS):
        return observation
    cohort = observation.placement.cohort
    if user.may(MANAGE_DELIVERY) and cohort is not None and may_reach(user, cohort):
        return observation
    learner = observation.placement.learner
    if learner.user_id is not None and learner.user_id == user.pk:
        return observation
    if is_mentor(user, observation.placement):
        return observation
    if portfolios_for(user).filter(Q(evidence__observation=observation)).exists():
        return observation
    raise ObservationReport.DoesNotExist
