"""Sessions of a course run: added one by one or as a weekly schedule that skips the public
holidays and closures of the institution's working calendar. A trainer or a venue booked twice
at the same time is refused, naming the clash; cancelling or moving a session tells its
learners and its trainer."""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.dateformat import format as date_format

from academics.calendar import ONE_DAY, WorkingCalendar, working_calendar
from accounts.models import User
from accounts.permissions import reachable
from audit.services import audit_record
from cohorts.models import Cohort
from delivery.access import manage_check
from delivery.models import (
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseRun,
    CourseRunStatus,
    Session,
    SessionStatus,
    Trainer,
)
from enrolments.models import EnrollmentState
from notifications.services import email_enqueue
from tenants.db import schema_lock, tenant_connection
from tenants.sites import institution_url

CLOSED_TO_SESSIONS = "its sessions can no longer change"
# A weekly schedule longer than this is a typing mistake (two years of daily sessions).
MAX_SCHEDULED = 500
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass(frozen=True)
class Slot:
    """When and where a session meets, and who teaches it."""

    session_date: datetime.date
    start_time: datetime.time
    end_time: datetime.time
    venue: str = ""
    trainer: Trainer | None = None


def when_text(day: datetime.date, start: datetime.time, end: datetime.time) -> str:
    """ "Tue 2 Mar 2027, 09:00–12:00", as the pages and e-mails say it."""
    return f"{date_format(day, 'D j M Y')}, {start:%H:%M}–{end:%H:%M}"


def holiday(calendar: WorkingCalendar, day: datetime.date) -> str:
    """The public holiday or closure on `day` ("Human Rights Day"), or "" (a weekend is not
    one: a run may meet on a Saturday)."""
    reason = calendar.day_off(day)
    return "" if reason == WEEKDAYS[day.weekday()] else reason


def session_clashes(
    slots: Sequence[Slot], *, excluding: Session | None = None, actor: User | None = None
) -> list[str]:
    """What each of `slots` clashes with: a scheduled session at an overlapping time of the same
    trainer, or in the same venue, named; one in a cohort `actor` does not reach is only said
    to be elsewhere (`actor=None`, the system, reaches every cohort). One query for all the
    slots, and one more for the cohorts reached."""
    if not slots:
        return []
    near = Q()
    for slot in slots:
        who = Q(trainer=slot.trainer) if slot.trainer else Q(pk__in=[])
        if slot.venue.strip():
            who |= Q(venue__iexact=slot.venue.strip())
        near |= who & Q(
            session_date=slot.session_date,
            start_time__lt=slot.end_time,
            end_time__gt=slot.start_time,
        )
    others = Session.objects.filter(near, status=SessionStatus.SCHEDULED).select_related(
        "course_run__cohort", "trainer"
    )
    if excluding is not None:
        others = others.exclude(pk=excluding.pk)
    others_list = list(others.order_by("session_date", "start_time"))
    seen = {other.course_run.cohort_id for other in others_list}
    if actor is not None and seen:
        seen = set(
            reachable(actor, Cohort.objects.filter(pk__in=seen)).values_list("pk", flat=True)
        )
    found = []
    for other in others_list:
        when = when_text(other.session_date, other.start_time, other.end_time)
        if other.course_run.cohort_id in seen:
            what = f"{other.course_run} ({other.course_run.cohort})"
            teaches, booked = f"already teaches {what}", f"is booked for {what}"
        else:
            teaches = booked = "is booked elsewhere"
        for slot in slots:
            if not (
                other.session_date == slot.session_date
                and other.start_time < slot.end_time
                and other.end_time > slot.start_time
            ):
                continue
            if slot.trainer and other.trainer_id == slot.trainer.pk:
                found.append(f"{slot.trainer} {teaches} on {when}.")
            if slot.venue.strip() and other.venue.strip().lower() == slot.venue.strip().lower():
                found.append(f"{other.venue} {booked} on {when}.")
    return list(dict.fromkeys(found))


def _run_for_sessions(run: CourseRun) -> CourseRun:
    run = (
        CourseRun.objects.select_for_update(of=("self",))
        .select_related("cohort", "trainer")
        .get(pk=run.pk)
    )
    run.cohort.closed_check(CLOSED_TO_SESSIONS)
    if run.status == CourseRunStatus.CANCELLED:
        raise ValidationError("This run is cancelled: it has no more sessions.")
    return run


def _slot_check(run: CourseRun, slot: Slot) -> None:
    """Refuse a slot with its times the wrong way round, outside the run's dates or taught by
    someone who no longer teaches."""
    if slot.end_time <= slot.start_time:
        raise ValidationError({"end_time": "A session ends after it starts."})
    if not run.start_date <= slot.session_date <= run.end_date:
        raise ValidationError(
            {
                "session_date": f"The run is from {run.start_date:%d %b %Y} to "
                f"{run.end_date:%d %b %Y}: choose a date in between, or change the run's dates."
            }
        )
    if slot.trainer is not None and not slot.trainer.active_status:
        raise ValidationError({"trainer": f"{slot.trainer} is not an active trainer."})


def _holiday_refuse(day: datetime.date) -> None:
    day_off = holiday(working_calendar(), day)
    if day_off:
        raise ValidationError({"session_date": f"{day:%d %b %Y} is {day_off}: choose another day."})


# The advisory lock (tenants.db.schema_lock) that schedulers take in turns before looking for
# clashes: a venue, unlike a trainer, has no database constraint against double booking.
SCHEDULING_LOCK = "session_scheduling"


def _clash_refuse(
    slots: Sequence[Slot], *, actor: User | None, excluding: Session | None = None
) -> None:
    schema_lock(SCHEDULING_LOCK)
    clashes = session_clashes(slots, excluding=excluding, actor=actor)
    if clashes:
        raise ValidationError(clashes, code="clash")


def _booked_twice(error: IntegrityError) -> ValidationError:
    """The database's refusal of a trainer booked twice (another person booked the same hour
    at the same moment), in words."""
    if "session_trainer_not_booked_twice" in str(error):
        return ValidationError(
            "The trainer was booked at this time a moment ago: reload the page to see the clash.",
            code="clash",
        )
    raise error


def session_add(*, actor: User | None, run: CourseRun, slot: Slot) -> Session:
    """One session of `run`; the run's venue and trainer where the slot names none. Refused on
    a public holiday or closure, and on a clash."""
    manage_check(actor=actor, action="delivery.session_add", cohort=run.cohort)
    try:
        with transaction.atomic(durable=True):
            run = _run_for_sessions(run)
            slot = Slot(
                session_date=slot.session_date,
                start_time=slot.start_time,
                end_time=slot.end_time,
                venue=slot.venue or run.venue,
                trainer=slot.trainer or run.trainer,
            )
            _slot_check(run, slot)
            _holiday_refuse(slot.session_date)
            _clash_refuse([slot], actor=actor)
            session = Session.objects.create(
                course_run=run,
                session_date=slot.session_date,
                start_time=slot.start_time,
                end_time=slot.end_time,
                venue=slot.venue,
                trainer=slot.trainer,
            )
            audit_record(
                actor=actor,
                action="session.created",
                entity=session,
                new_values=_slot_values(session),
            )
            return session
    except IntegrityError as error:
        raise _booked_twice(error) from error


@dataclass(frozen=True)
class Schedule:
    """What a weekly schedule made, and the days it skipped (with the holiday's name)."""

    sessions: list[Session]
    skipped: list[tuple[datetime.date, str]]


def sessions_schedule_weekly(
    *,
    actor: User | None,
    run: CourseRun,
    weekdays: Iterable[int],
    first: datetime.date,
    last: datetime.date,
    start_time: datetime.time,
    end_time: datetime.time,
    venue: str = "",
    trainer: Trainer | None = None,
) -> Schedule:
    """A session on each of `weekdays` (0 = Monday) from `first` to `last`, skipping public
    holidays and closures. All or nothing: one clash refuses the schedule, naming every clash."""
    manage_check(actor=actor, action="delivery.sessions_schedule_weekly", cohort=run.cohort)
    days = sorted(set(weekdays))
    if not days:
        raise ValidationError({"weekdays": "Choose at least one day of the week."})
    if last < first:
        raise ValidationError({"last": "The schedule cannot end before it starts."})
    try:
        with transaction.atomic(durable=True):
            run = _run_for_sessions(run)
            venue = venue or run.venue
            trainer = trainer or run.trainer
            calendar = working_calendar()
            slots, skipped = [], []
            day = first
            while day <= last:
                if day.weekday() in days:
                    day_off = holiday(calendar, day)
                    if day_off:
                        skipped.append((day, day_off))
                    else:
                        slots.append(Slot(day, start_time, end_time, venue, trainer))
                day += ONE_DAY
            if not slots:
                raise ValidationError(
                    "No session fits: every chosen day in these dates is a holiday or closure."
                    if skipped
                    else "No chosen day of the week falls between these dates."
                )
            if len(slots) > MAX_SCHEDULED:
                raise ValidationError(
                    f"That is {len(slots)} sessions; a schedule makes at most {MAX_SCHEDULED}."
                )
            for slot in (slots[0], slots[-1]):
                _slot_check(run, slot)
            _clash_refuse(slots, actor=actor)
            sessions = Session.objects.bulk_create(
                [
                    Session(
                        course_run=run,
                        session_date=slot.session_date,
                        start_time=slot.start_time,
                        end_time=slot.end_time,
                        venue=slot.venue,
                        trainer=slot.trainer,
                    )
                    for slot in slots
                ]
            )
            audit_record(
                actor=actor,
                action="sessions.scheduled",
                entity=run,
                new_values={
                    "weekdays": [WEEKDAYS[day] for day in days],
                    "first": first,
                    "last": last,
                    "start_time": start_time,
                    "end_time": end_time,
                    "venue": venue,
                    "trainer": trainer.pk if trainer else None,
                    "sessions": len(sessions),
                    "skipped": [f"{day}: {reason}" for day, reason in skipped],
                },
            )
            return Schedule(sessions=sessions, skipped=skipped)
    except IntegrityError as error:
        raise _booked_twice(error) from error


def _slot_values(session: Session) -> dict[str, object]:
    return {
        "session_date": session.session_date,
        "start_time": session.start_time,
        "end_time": session.end_time,
        "venue": session.venue,
        "trainer": session.trainer_id,
    }


def _session_for_change(session: Session) -> Session:
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("course_run__cohort", "course_run__trainer", "trainer__user")
        .get(pk=session.pk)
    )
    session.course_run.cohort.closed_check(CLOSED_TO_SESSIONS)
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError("This session is cancelled already.")
    if session.is_signed_off:
        raise ValidationError(
            "This session's register is signed off: the session took place and stays as it was."
        )
    return session


def session_move(*, actor: User | None, session: Session, slot: Slot) -> Session:
    """Move a session to another day, time, venue or trainer, and tell its learners and
    trainers (the one before and the one after). Refused on a holiday or closure, on a clash,
    and once its register is signed off."""
    manage_check(actor=actor, action="delivery.session_move", cohort=session.course_run.cohort)
    try:
        with transaction.atomic(durable=True):
            session = _session_for_change(session)
            run = session.course_run
            _slot_check(run, slot)
            _holiday_refuse(slot.session_date)
            _clash_refuse([slot], actor=actor, excluding=session)
            old = _slot_values(session)
            new: dict[str, object] = {
                "session_date": slot.session_date,
                "start_time": slot.start_time,
                "end_time": slot.end_time,
                "venue": slot.venue,
                "trainer": slot.trainer.pk if slot.trainer else None,
            }
            changed = [name for name in new if old[name] != new[name]]
            if not changed:
                return session
            was = when_text(session.session_date, session.start_time, session.end_time)
            old_trainer = session.trainer
            session.session_date = slot.session_date
            session.start_time = slot.start_time
            session.end_time = slot.end_time
            session.venue = slot.venue
            session.trainer = slot.trainer
            session.save(
                update_fields=[
                    "session_date", "start_time", "end_time", "venue", "trainer", "updated_at"
                ]
            )  # fmt: skip
            audit_record(
                actor=actor,
                action="session.moved",
                entity=session,
                old_values={name: old[name] for name in changed},
                new_values={name: new[name] for name in changed},
            )
            _tell(
                session,
                kind="moved",
                was=was,
                trainers=[old_trainer, session.trainer],
            )
            return session
    except IntegrityError as error:
        raise _booked_twice(error) from error


def session_cancel(*, actor: User | None, session: Session, reason: str) -> Session:
    """Cancel a session with a reason, and tell its learners and trainer."""
    manage_check(actor=actor, action="delivery.session_cancel", cohort=session.course_run.cohort)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the session is cancelled; learners are told."})
    with transaction.atomic(durable=True):
        session = _session_for_change(session)
        session.status = SessionStatus.CANCELLED
        session.cancellation_reason = reason
        session.save(update_fields=["status", "cancellation_reason", "updated_at"])
        audit_record(
            actor=actor,
            action="session.cancelled",
            entity=session,
            old_values={"status": SessionStatus.SCHEDULED},
            new_values={"status": SessionStatus.CANCELLED, "cancellation_reason": reason},
        )
        _tell(
            session,
            kind="cancelled",
            was=when_text(session.session_date, session.start_time, session.end_time),
            trainers=[session.trainer],
        )
        return session


def session_recipients(session: Session) -> list[User]:
    """The learners of the session's run who are still in it (not dropped, not withdrawn)."""
    return list(
        User.objects.filter(
            is_active=True,
            deleted_at__isnull=True,
            pk__in=CourseEnrollment.objects.filter(course_run_id=session.course_run_id)
            .exclude(status=CourseEnrollmentStatus.DROPPED)
            .exclude(enrollment__state=EnrollmentState.WITHDRAWN)
            .values("enrollment__user_id"),
        )
    )


def _tell(session: Session, *, kind: str, was: str, trainers: Iterable[Trainer | None]) -> None:
    """E-mail each learner of the session and each trainer concerned, after commit."""
    institution = tenant_connection.tenant
    context = {
        "kind": kind,
        "course": str(session.course_run),
        "cohort_name": str(session.course_run.cohort),
        "was": was,
        "now": when_text(session.session_date, session.start_time, session.end_time),
        "venue": session.venue,
        "trainer_name": str(session.trainer or ""),
        "reason": session.cancellation_reason,
    }
    learners_url = institution_url(institution, reverse("delivery:my_schedule"))
    for learner in session_recipients(session):
        email_enqueue(
            recipient=learner.email,
            template="session_changed",
            context={**context, "full_name": learner.full_name, "url": learners_url},
        )
    trainers_url = institution_url(institution, reverse("delivery:home"))
    told = set()
    for trainer in trainers:
        if trainer is None or trainer.pk in told:
            continue
        told.add(trainer.pk)
        email_enqueue(
            recipient=trainer.email or trainer.user.email,
            template="session_changed",
            context={**context, "full_name": trainer.name, "url": trainers_url},
        )
