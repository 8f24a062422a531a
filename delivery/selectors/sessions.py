"""Sessions as the calendars show them: a month of a cohort's, a trainer's or a learner's
sessions day by day (with the holidays and closures of the month), the upcoming ones of a
start page, and the sessions of a calendar feed."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from academics.calendar import ONE_DAY, working_calendar
from accounts.models import User
from accounts.services import token_hash
from cohorts.models import Cohort
from delivery.access import TEACH, runs_for
from delivery.models import (
    CalendarFeed,
    CalendarFeedOwner,
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseRun,
    CourseRunStatus,
    Session,
    SessionStatus,
    Trainer,
)
from enrolments.models import EnrollmentState

# How far back a feed reaches: a subscribed calendar keeps what it has already shown.
FEED_HISTORY = datetime.timedelta(days=180)


def _sessions() -> QuerySet[Session]:
    return Session.objects.select_related(
        "course_run__cohort", "course_run__course", "trainer"
    ).order_by("session_date", "start_time")


def run_sessions(run: CourseRun) -> QuerySet[Session]:
    return _sessions().filter(course_run=run)


def cohort_sessions(cohort: Cohort) -> QuerySet[Session]:
    return _sessions().filter(course_run__cohort=cohort)


def trainer_sessions(trainer: Trainer, *, user: User) -> QuerySet[Session]:
    """`trainer`'s sessions in the runs `user` may open."""
    return _sessions().filter(trainer=trainer, course_run__in=runs_for(user))


def _learner_runs(user: User) -> QuerySet[CourseEnrollment]:
    return (
        CourseEnrollment.objects.filter(enrollment__user=user)
        .exclude(status=CourseEnrollmentStatus.DROPPED)
        .exclude(enrollment__state=EnrollmentState.WITHDRAWN)
        .exclude(course_run__status=CourseRunStatus.CANCELLED)
    )


def learner_sessions(user: User) -> QuerySet[Session]:
    """The sessions of the runs `user` learns in (cancelled ones too, so they see it)."""
    return _sessions().filter(course_run__in=_learner_runs(user).values("course_run"))


def is_learner(user: User) -> bool:
    return _learner_runs(user).exists()


def upcoming(sessions: QuerySet[Session], *, limit: int = 10) -> list[Session]:
    """The next scheduled `sessions` from today."""
    return list(
        sessions.filter(status=SessionStatus.SCHEDULED, session_date__gte=timezone.localdate())[
            :limit
        ]
    )


def sessions_on_home(user: User) -> QuerySet[Session]:
    """The sessions on a person's start page: those they teach; for those who manage delivery
    or moderate, those of the runs they reach."""
    trainer = Trainer.objects.filter(user=user, active_status=True).first()
    reach = Q(course_run__in=runs_for(user))
    if trainer is not None:
        reach |= Q(trainer=trainer)
    return _sessions().filter(reach)


@dataclass
class Day:
    date: datetime.date
    sessions: list[Session] = field(default_factory=list)
    day_off: str = ""


@dataclass(frozen=True)
class Month:
    """One month of a calendar: its days that have a session or a holiday, and its
    neighbours for the page's links ("2027-03")."""

    first: datetime.date
    days: list[Day]
    previous: str
    next: str

    @property
    def session_count(self) -> int:
        return sum(len(day.sessions) for day in self.days)


def month_start(value: str | None, *, default: datetime.date | None = None) -> datetime.date:
    """The first day of the month `value` names ("2027-03"), or of `default` (today)."""
    if value:
        try:
            return datetime.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 (a date)
        except ValueError:
            pass
    return (default or timezone.localdate()).replace(day=1)


def month_of(sessions: QuerySet[Session], first: datetime.date) -> Month:
    """`sessions` in the month starting `first`, day by day, with its holidays and closures."""
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    last = following - ONE_DAY
    days: dict[datetime.date, Day] = defaultdict(lambda: Day(date=datetime.date.min))
    for session in sessions.filter(session_date__range=(first, last)):
        day = days[session.session_date]
        day.date = session.session_date
        day.sessions.append(session)
    for date, reason in working_calendar().days_off_between(first, last):
        days[date].date = date
        days[date].day_off = reason
    previous = (first - ONE_DAY).replace(day=1)
    return Month(
        first=first,
        days=sorted(days.values(), key=lambda day: day.date),
        previous=f"{previous:%Y-%m}",
        next=f"{following:%Y-%m}",
    )


def calendar_feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed that `token` opens, if any (its owner still active)."""
    feed: CalendarFeed | None = (
        CalendarFeed.objects.select_related("user")
        .filter(
            token_hash=token_hash(token),
            revoked_at__isnull=True,
            user__is_active=True,
            user__deleted_at__isnull=True,
        )
        .first()
    )
    return feed


def live_feeds(user: User) -> dict[str, CalendarFeed]:
    """The person's live feeds by owner ("trainer", "learner")."""
    return {
        feed.owner: feed for feed in CalendarFeed.objects.filter(user=user, revoked_at__isnull=True)
    }


def feed_sessions(feed: CalendarFeed) -> QuerySet[Session]:
    """The sessions a feed carries: from FEED_HISTORY ago on, cancelled ones included so that
    subscribed calendars take them off. A trainer's feed carries nothing once they are no longer
    an active trainer who may teach."""
    since = timezone.localdate() - FEED_HISTORY
    if feed.owner == CalendarFeedOwner.TRAINER:
        if not feed.user.may(TEACH):
            return Session.objects.none()
        sessions = _sessions().filter(trainer__user=feed.user, trainer__active_status=True)
    else:
        sessions = learner_sessions(feed.user)
    return sessions.filter(session_date__gte=since)
