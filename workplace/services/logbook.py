"""The learner's logbook of a placement: a day's entries, grouped in weeks (Monday to Sunday),
handed in to the workplace mentor, who confirms a week or returns it with a comment.

- The learner writes: entries only while the placement runs (active, or confirmed and started),
  dated within its dates and not in the future (the institution's date), 0.25 to 24 hours in
  quarter hours, at most 24 hours on one day, practising active outcomes of the courses of the
  placement's programme. A week exists once an entry is added to it; its entries change only
  while it is being written or has been returned.
- The learner hands a week in (it needs an entry); the mentor (workplace.access.is_mentor, never
  the learner) confirms it, and it is frozen, or returns it with a comment. Only confirmed
  weeks' hours count (workplace.selectors.hours).

Every change checks who acts before its transaction, locks the week's row, and writes one
audit event; the mentor is e-mailed when a week is handed in, the learner when it is confirmed
or returned."""

import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from academics.models import Outcome
from accounts.models import SystemRole, User
from accounts.permissions import permission_check
from audit.services import audit_record, kept_out
from enrolments.uploads import CheckedUpload
from notifications.services import email_enqueue
from placements.models import Placement, PlacementStatus
from tenants.db import tenant_connection
from tenants.sites import institution_url
from workplace.access import is_mentor
from workplace.models import (
    LogbookEntry,
    LogbookEvidence,
    LogbookReview,
    LogbookReviewDecision,
    LogbookWeek,
    LogbookWeekStatus,
    Mentorship,
)
from workplace.selectors.hours import hours_text
from workplace.selectors.outcomes import placement_outcomes
from workplace.services.evidence import (
    evidence_audit_values,
    evidence_file_write,
    evidence_files_written,
    evidence_fill,
)

QUARTER = Decimal("0.25")
MIN_HOURS = Decimal("0.25")
MAX_HOURS = Decimal("24")
HOURS_OUT_OF_RANGE = "Give the hours worked that day, from 0.25 to 24."
# Photos or scans per entry (each up to EVIDENCE_MAX_SIZE_MB).
MAX_FILES_PER_ENTRY = 10


def week_monday(day: datetime.date) -> datetime.date:
    """The Monday of the week `day` falls in."""
    return day - datetime.timedelta(days=day.weekday())


def _day(day: datetime.date) -> str:
    return f"{day:%-d %b %Y}"


def is_placement_learner(user: User, placement: Placement) -> bool:
    """Whether `user` is the placement's learner (their account)."""
    return (
        user.is_authenticated
        and user.is_in_service
        and Placement.objects.filter(pk=placement.pk, learner__user=user).exists()
    )


def may_review(user: User, placement: Placement) -> bool:
    """The placement's current mentor, who is never its learner."""
    return is_mentor(user, placement) and not is_placement_learner(user, placement)


def placement_running(placement: Placement, today: datetime.date) -> bool:
    """Entries are written while the placement is active, or confirmed and started."""
    return placement.status == PlacementStatus.ACTIVE or (
        placement.status == PlacementStatus.CONFIRMED and placement.starts_on <= today
    )


def entry_date_bounds(
    placement: Placement, today: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """The first and last day an entry may be dated: within the placement, not after today."""
    return placement.starts_on, min(placement.ends_on, today)


# --- Checks -----------------------------------------------------------------------------------


def _entry_clean(
    placement: Placement,
    *,
    entry_date: datetime.date,
    hours: Decimal,
    tasks: str,
    outcomes: list[Outcome],
    today: datetime.date,
) -> str:
    """The entry's own rules (not the day's total, read under the week's lock): the cleaned
    tasks."""
    errors: dict[str, list[str]] = {}
    if entry_date > today:
        errors["entry_date"] = ["This day has not come yet: log a day once you have worked it."]
    elif not placement.starts_on <= entry_date <= placement.ends_on:
        errors["entry_date"] = [
            f"Choose a day of the placement ({_day(placement.starts_on)} to "
            f"{_day(placement.ends_on)})."
        ]
    if not MIN_HOURS <= hours <= MAX_HOURS:
        errors["hours"] = [HOURS_OUT_OF_RANGE]
    elif hours % QUARTER:
        errors["hours"] = ["Give the hours in quarter hours (such as 7.25, 7.5 or 7.75)."]
    tasks = tasks.strip()
    if not tasks:
        errors["tasks"] = ["Say what you did that day."]
    offered = set(placement_outcomes(placement).values_list("pk", flat=True))
    if any(outcome.pk not in offered for outcome in outcomes):
        errors["outcomes"] = ["Choose outcomes of your programme's courses."]
    if errors:
        raise ValidationError(errors)
    return tasks


def _day_total_check(
    week: LogbookWeek, entry_date: datetime.date, hours: Decimal, *, without: int | None = None
) -> None:
    """At most 24 hours on one day, across its entries (read under the week's lock)."""
    others = LogbookEntry.objects.filter(week=week, entry_date=entry_date)
    if without is not None:
        others = others.exclude(pk=without)
    logged = others.aggregate(total=Sum("hours"))["total"] or Decimal(0)
    if logged + hours > MAX_HOURS:
        raise ValidationError(
            {
                "hours": [
                    f"{_day(entry_date)} already has {hours_text(logged)} hours logged: a day "
                    "has at most 24."
                ]
            }
        )


def _editable_check(week: LogbookWeek) -> None:
    if not week.is_editable:
        raise ValidationError(
            f"The week of {_day(week.week_starts_on)} is "
            f"{week.get_status_display().lower()}: its entries can no longer change."
        )


def _week_lock(week_id: int) -> LogbookWeek:
    locked: LogbookWeek = (
        LogbookWeek.objects.select_for_update(of=("self",))
        .select_related("placement__learner__user", "placement__organisation")
        .get(pk=week_id)
    )
    return locked


def _entry_values(entry: LogbookEntry, outcomes: list[Outcome]) -> dict[str, Any]:
    return {
        "week": entry.week_id,
        "entry_date": str(entry.entry_date),
        "hours": str(entry.hours),
        "tasks": kept_out(entry.tasks),
        "outcomes": sorted(outcome.code for outcome in outcomes),
    }


def _learner_check(actor: User, placement: Placement, action: str) -> None:
    permission_check(actor=actor, action=action, allowed=is_placement_learner(actor, placement))


# --- Entries ----------------------------------------------------------------------------------


def entry_add(
    *,
    actor: User,
    placement: Placement,
    entry_date: datetime.date,
    hours: Decimal,
    tasks: str,
    outcomes: list[Outcome],
) -> LogbookEntry:
    """Log a day's work: into the week of `entry_date`, which is made if it is the first entry
    of that week."""
    _learner_check(actor, placement, "logbook.entry_add")
    today = timezone.localdate()
    with transaction.atomic(durable=True):
        # The placement's lock makes the week once, when two entries of a new week come at once.
        placement = (
            Placement.objects.select_for_update(of=("self",))
            .select_related("cohort")
            .get(pk=placement.pk)
        )
        if not placement_running(placement, today):
            raise ValidationError(
                "Your logbook is written while the placement runs: "
                + (
                    f"it starts on {_day(placement.starts_on)}."
                    if placement.status in (PlacementStatus.PROPOSED, PlacementStatus.CONFIRMED)
                    else f"this placement is {placement.get_status_display().lower()}."
                )
            )
        tasks = _entry_clean(
            placement,
            entry_date=entry_date,
            hours=hours,
            tasks=tasks,
            outcomes=outcomes,
            today=today,
        )
        week, created = LogbookWeek.objects.get_or_create(
            placement=placement, week_starts_on=week_monday(entry_date)
        )
        week = _week_lock(week.pk)
        _editable_check(week)
        _day_total_check(week, entry_date, hours)
        entry = LogbookEntry.objects.create(
            week=week, entry_date=entry_date, hours=hours, tasks=tasks
        )
        entry.outcomes.set(outcomes)
        if created:
            audit_record(
                actor=actor,
                action="logbook.week_start",
                entity=week,
                new_values={"placement": placement.pk, "week_starts_on": str(week.week_starts_on)},
            )
        audit_record(
            actor=actor,
            action="logbook.entry_add",
            entity=entry,
            new_values=_entry_values(entry, outcomes),
        )
    return entry


def entry_update(
    *,
    actor: User,
    entry: LogbookEntry,
    entry_date: datetime.date,
    hours: Decimal,
    tasks: str,
    outcomes: list[Outcome],
) -> LogbookEntry:
    """Change an entry of a week being written or returned; it stays in its week."""
    placement = entry.week.placement
    _learner_check(actor, placement, "logbook.entry_update")
    today = timezone.localdate()
    with transaction.atomic(durable=True):
        week = _week_lock(entry.week_id)
        _editable_check(week)
        entry = LogbookEntry.objects.prefetch_related("outcomes").get(pk=entry.pk)
        tasks = _entry_clean(
            week.placement,
            entry_date=entry_date,
            hours=hours,
            tasks=tasks,
            outcomes=outcomes,
            today=today,
        )
        if week_monday(entry_date) != week.week_starts_on:
            raise ValidationError(
                {
                    "entry_date": [
                        f"Choose a day of the week of {_day(week.week_starts_on)}: to log "
                        "another week's work, add a new entry."
                    ]
                }
            )
        _day_total_check(week, entry_date, hours, without=entry.pk)
        old_values = _entry_values(entry, list(entry.outcomes.all()))
        entry.entry_date = entry_date
        entry.hours = hours
        entry.tasks = tasks
        entry.save(update_fields=["entry_date", "hours", "tasks", "updated_at"])
        entry.outcomes.set(outcomes)
        audit_record(
            actor=actor,
            action="logbook.entry_update",
            entity=entry,
            old_values=old_values,
            new_values=_entry_values(entry, outcomes),
        )
    return entry


def entry_delete(*, actor: User, entry: LogbookEntry) -> LogbookWeek:
    """Remove an entry of a week being written or returned, with its evidence files (once the
    removal commits). The week stays, as it was."""
    placement = entry.week.placement
    _learner_check(actor, placement, "logbook.entry_delete")
    with transaction.atomic(durable=True):
        week = _week_lock(entry.week_id)
        _editable_check(week)
        entry = LogbookEntry.objects.prefetch_related("outcomes").get(pk=entry.pk)
        old_values = _entry_values(entry, list(entry.outcomes.all()))
        files = [
            (item.file.storage, item.file.name or "") for item in entry.evidence.all() if item.file
        ]
        audit_record(
            actor=actor, action="logbook.entry_delete", entity=entry, old_values=old_values
        )
        entry.delete()
        for storage, name in files:
            transaction.on_commit(partial(storage.delete, name))
    return week


def entry_evidence_add(
    *, actor: User, entry: LogbookEntry, checked: CheckedUpload, scan_status: str
) -> LogbookEvidence:
    """Keep a photo or document of an entry's work (checked by enrolments.uploads), while its
    week can change. The file is removed again if the change does not commit."""
    placement = entry.week.placement
    _learner_check(actor, placement, "logbook.evidence_add")
    evidence = LogbookEvidence()
    evidence_fill(evidence, checked, actor=actor, scan_status=scan_status)
    with evidence_files_written() as written, transaction.atomic(durable=True):
        week = _week_lock(entry.week_id)
        _editable_check(week)
        evidence.entry = LogbookEntry.objects.get(pk=entry.pk)
        if LogbookEvidence.objects.filter(entry=evidence.entry).count() >= MAX_FILES_PER_ENTRY:
            raise ValidationError(
                f"An entry holds at most {MAX_FILES_PER_ENTRY} files: remove one, or add the "
                "work to another day's entry.",
                code="too_many_files",
            )
        evidence_file_write(evidence, scanned_as="logbook", written=written)
        evidence.save()
        audit_record(
            actor=actor,
            action="logbook.evidence_add",
            entity=evidence,
            new_values={"entry": entry.pk, **evidence_audit_values(evidence, checked)},
        )
    return evidence


# --- Weeks ------------------------------------------------------------------------------------


def current_mentor(placement: Placement) -> User | None:
    """The placement's current mentor, while they still belong to its organisation as an
    active organisation member (else nobody: the week waits for a new mentor)."""
    mentorship = (
        Mentorship.objects.filter(
            placement=placement,
            ended_at__isnull=True,
            mentor__is_active=True,
            mentor__deleted_at__isnull=True,
            mentor__roles__key=SystemRole.ORGANISATION_MEMBER,
            mentor__organisation_memberships__organisation=placement.organisation_id,
        )
        .select_related("mentor")
        .first()
    )
    return mentorship.mentor if mentorship else None


def _week_url(week: LogbookWeek) -> str:
    return institution_url(tenant_connection.tenant, week.get_absolute_url())


def week_submit(*, actor: User, week: LogbookWeek) -> LogbookWeek:
    """The learner hands the week to their mentor (it needs an entry); the mentor is e-mailed."""
    _learner_check(actor, week.placement, "logbook.week_submit")
    with transaction.atomic(durable=True):
        week = _week_lock(week.pk)
        if not week.is_editable:
            raise ValidationError(
                f"The week of {_day(week.week_starts_on)} is "
                f"{week.get_status_display().lower()}: it cannot be handed in again."
            )
        if not week.entries.exists():
            raise ValidationError("Add an entry before handing the week in.")
        old_status = week.status
        week.submit()
        week.submitted_at = timezone.now()
        week.save(update_fields=["status", "submitted_at", "updated_at"])
        audit_record(
            actor=actor,
            action="logbook.week_submit",
            entity=week,
            old_values={"status": old_status},
            new_values={"status": week.status},
        )
        mentor = current_mentor(week.placement)
        if mentor is not None and mentor.is_in_service:
            hours = week.entries.aggregate(total=Sum("hours"))["total"] or Decimal(0)
            email_enqueue(
                recipient=mentor.email,
                template="logbook_week_submitted",
                context={
                    "full_name": mentor.full_name,
                    "learner_name": week.placement.learner.full_name,
                    "week": _day(week.week_starts_on),
                    "hours": hours_text(hours),
                    "again": old_status == LogbookWeekStatus.RETURNED,
                    "url": _week_url(week),
                },
            )
    return week


def _review(
    *, actor: User, week: LogbookWeek, decision: str, comment: str, action: str
) -> LogbookWeek:
    with transaction.atomic(durable=True):
        week = _week_lock(week.pk)
        if week.status != LogbookWeekStatus.SUBMITTED:
            raise ValidationError(
                f"The week of {_day(week.week_starts_on)} is "
                f"{week.get_status_display().lower()}: only a week handed in is confirmed or "
                "returned."
            )
        old_status = week.status
        if decision == LogbookReviewDecision.CONFIRMED:
            week.confirm()
        else:
            week.give_back()
        now = timezone.now()
        week.reviewed_at = now
        week.reviewed_by = actor
        week.save(update_fields=["status", "reviewed_at", "reviewed_by", "updated_at"])
        review = LogbookReview.objects.create(
            week=week, decision=decision, comment=comment, reviewer=actor, reviewed_at=now
        )
        audit_record(
            actor=actor,
            action=action,
            entity=week,
            old_values={"status": old_status},
            new_values={"status": week.status, "review": review.pk, "comment": kept_out(comment)},
        )
        learner = week.placement.learner
        recipient = learner.user.email if learner.user else learner.email
        if recipient:
            email_enqueue(
                recipient=recipient,
                template=f"logbook_week_{decision}",
                context={
                    "full_name": learner.full_name,
                    "mentor_name": actor.full_name,
                    "week": _day(week.week_starts_on),
                    "comment": comment,
                    "url": _week_url(week),
                },
            )
    return week


def week_confirm(*, actor: User, week: LogbookWeek, comment: str = "") -> LogbookWeek:
    """The mentor confirms a handed-in week: it is frozen and its hours count."""
    permission_check(
        actor=actor, action="logbook.week_confirm", allowed=may_review(actor, week.placement)
    )
    return _review(
        actor=actor,
        week=week,
        decision=LogbookReviewDecision.CONFIRMED,
        comment=comment.strip(),
        action="logbook.week_confirm",
    )


def week_return(*, actor: User, week: LogbookWeek, comment: str) -> LogbookWeek:
    """The mentor gives a handed-in week back with a comment saying what to correct."""
    permission_check(
        actor=actor, action="logbook.week_return", allowed=may_review(actor, week.placement)
    )
    comment = comment.strip()
    if not comment:
        raise ValidationError(
            {"comment": ["Say what the learner should correct: they are shown your comment."]}
        )
    return _review(
        actor=actor,
        week=week,
        decision=LogbookReviewDecision.RETURNED,
        comment=comment,
        action="logbook.week_return",
    )
