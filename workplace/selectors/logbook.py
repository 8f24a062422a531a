"""What the logbook pages read: a learner's logbooks, one placement's weeks with their hours and
its hours per outcome, one week with its entries, evidence and reviews, a mentor's mentees and
the people who may mentor a placement's learner. Each page reads a fixed number of queries,
however many weeks or learners there are (tests/workplace/test_logbook_queries.py)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Sum

from academics.models import Outcome
from accounts.models import SystemRole, User
from learners.models import Learner
from placements.models import OrganisationMembership, Placement, PlacementStatus
from workplace.access import logbook_placements, placements_mentored
from workplace.models import (
    LogbookEntry,
    LogbookEvidence,
    LogbookReview,
    LogbookWeek,
    LogbookWeekStatus,
    Mentorship,
)
from workplace.selectors.hours import outcome_hours
from workplace.selectors.outcomes import placement_outcomes

_PLACEMENT_JOINS = ("learner", "organisation", "cohort__programme", "subject", "academic_year")

# The placement statuses whose logbook exists (is read and handed in).
LOGBOOK_STATUSES = (
    PlacementStatus.CONFIRMED,
    PlacementStatus.ACTIVE,
    PlacementStatus.COMPLETED,
    PlacementStatus.TERMINATED,
)


def my_logbooks(user: User) -> QuerySet[Placement]:
    """The signed-in learner's placements that have a logbook, latest first, with how many
    weeks wait for the mentor and the hours confirmed."""
    return (
        Placement.objects.filter(
            learner__user=user, learner__user__isnull=False, status__in=LOGBOOK_STATUSES
        )
        .select_related("organisation", "subject")
        .annotate(
            weeks_waiting=Count(
                "logbook_weeks", filter=Q(logbook_weeks__status=LogbookWeekStatus.SUBMITTED)
            ),
            weeks_returned=Count(
                "logbook_weeks", filter=Q(logbook_weeks__status=LogbookWeekStatus.RETURNED)
            ),
        )
        .order_by("-starts_on", "-pk")
    )


def logbook_placement(pk: int) -> Placement:
    """A placement with what the logbook pages show of it (raises Placement.DoesNotExist)."""
    placement: Placement = Placement.objects.select_related(*_PLACEMENT_JOINS).get(
        pk=pk, status__in=LOGBOOK_STATUSES
    )
    return placement


def reaches_logbook(user: User, placement: Placement) -> bool:
    return logbook_placements(user).filter(pk=placement.pk).exists()


def logbook_weeks(placement: Placement) -> QuerySet[LogbookWeek]:
    """The placement's weeks, newest first, each with its hours and number of entries."""
    return (
        LogbookWeek.objects.filter(placement=placement)
        .annotate(hours=Sum("entries__hours"), entry_count=Count("entries"))
        .order_by("-week_starts_on")
    )


@dataclass(frozen=True)
class OutcomeHours:
    outcome: Outcome
    confirmed: Decimal
    pending: Decimal


@dataclass(frozen=True)
class HoursSummary:
    """Hours per outcome (an entry counts towards each outcome it practised) and in total (each
    entry once): confirmed, and logged but not confirmed yet."""

    outcomes: list[OutcomeHours]
    confirmed: Decimal
    pending: Decimal


def hours_summary(placement: Placement, learner: Learner) -> HoursSummary:
    entries = LogbookEntry.objects.filter(week__placement=placement)
    confirmed_q = Q(week__status=LogbookWeekStatus.CONFIRMED)
    pending_rows = (
        entries.exclude(confirmed_q)
        .filter(outcomes__isnull=False)
        .values("outcomes")
        .annotate(total=Sum("hours"))
        .order_by()
    )
    pending = {row["outcomes"]: row["total"] for row in pending_rows}
    confirmed = outcome_hours(learner, placement_id=placement.pk)
    totals = entries.aggregate(
        confirmed=Sum("hours", filter=confirmed_q), pending=Sum("hours", filter=~confirmed_q)
    )
    zero = Decimal(0)
    return HoursSummary(
        outcomes=[
            OutcomeHours(outcome, confirmed.get(outcome.pk, zero), pending.get(outcome.pk, zero))
            for outcome in placement_outcomes(placement)
        ],
        confirmed=totals["confirmed"] or zero,
        pending=totals["pending"] or zero,
    )


def current_mentorship(placement: Placement) -> Mentorship | None:
    mentorship: Mentorship | None = (
        Mentorship.objects.filter(placement=placement, ended_at__isnull=True)
        .select_related("mentor")
        .first()
    )
    return mentorship


def logbook_week(placement: Placement, week_starts_on: datetime.date) -> LogbookWeek | None:
    """One week with its entries (their outcomes and evidence) and its reviews, newest first;
    None before its first entry."""
    week: LogbookWeek | None = (
        LogbookWeek.objects.filter(placement=placement, week_starts_on=week_starts_on)
        .select_related("reviewed_by")
        .prefetch_related(
            Prefetch(
                "entries",
                queryset=LogbookEntry.objects.order_by("entry_date", "pk").prefetch_related(
                    Prefetch("outcomes", queryset=Outcome.objects.order_by("position", "code")),
                    Prefetch("evidence", queryset=LogbookEvidence.objects.order_by("pk")),
                ),
            ),
            Prefetch("reviews", queryset=LogbookReview.objects.select_related("reviewer")),
        )
        .first()
    )
    return week


def logbook_entry(pk: int) -> LogbookEntry:
    """An entry with its week and placement (raises LogbookEntry.DoesNotExist)."""
    entry: LogbookEntry = (
        LogbookEntry.objects.select_related(
            *(f"week__placement__{join}" for join in _PLACEMENT_JOINS), "week"
        )
        .prefetch_related("outcomes")
        .get(pk=pk)
    )
    return entry


def logbook_evidence(pk: int) -> LogbookEvidence:
    evidence: LogbookEvidence = LogbookEvidence.objects.select_related(
        "entry__week__placement"
    ).get(pk=pk)
    return evidence


def mentees(user: User) -> QuerySet[Placement]:
    """The placements `user` mentors now, by learner, each with the number of weeks waiting for
    them and the last week they confirmed."""
    return (
        placements_mentored(user)
        .select_related("learner", "organisation", "subject")
        .annotate(
            weeks_waiting=Count(
                "logbook_weeks", filter=Q(logbook_weeks__status=LogbookWeekStatus.SUBMITTED)
            ),
            last_confirmed=Max(
                "logbook_weeks__week_starts_on",
                filter=Q(logbook_weeks__status=LogbookWeekStatus.CONFIRMED),
            ),
        )
        .order_by("-weeks_waiting", "learner__last_name", "learner__first_name", "pk")
    )


def mentor_candidates(placement: Placement) -> QuerySet[User]:
    """The active organisation members who belong to the placement's organisation (never the
    learner), by name."""
    return (
        User.objects.filter(
            Exists(
                OrganisationMembership.objects.filter(
                    user=OuterRef("pk"), organisation_id=placement.organisation_id
                )
            ),
            is_active=True,
            roles__key=SystemRole.ORGANISATION_MEMBER,
        )
        .exclude(pk=placement.learner.user_id or 0)
        .distinct()
        .order_by("full_name", "email")
    )
