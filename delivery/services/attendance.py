"""Attendance registers: the trainer marks a session's learners (everyone present in one tap,
then the exceptions, with reasons), signs the register off (the gateway gets it then), and from
then on a change is a correction that needs a reason, keeps the earlier value, is audited and
goes to the gateway as an update. Also the institution's
attendance threshold. Writes are bulk, so that a register of 200 learners saves in one
statement."""

from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import CHANGED, audit_record
from delivery.access import ALL_COHORTS, manage_check, register_check
from delivery.models import (
    AttendanceChange,
    AttendanceRecord,
    AttendanceStatus,
    Session,
    SessionStatus,
)
from delivery.selectors.attendance import (
    ATTENDANCE_THRESHOLD,
    RegisterEntry,
    attendance_threshold,
    register_counts,
    register_entries,
)
from delivery.services.gateway_sync import session_attendance_sync
from tenants.models import Institution

REASON_MAX_LENGTH = 500
# The code of the refusal of a correction without its reason (for the form's field).
CHANGE_REASON_NEEDED = "change_reason_needed"


@dataclass(frozen=True)
class Mark:
    """What the trainer chose for one learner: a status (unknown: not marked) and a reason."""

    status: str
    reason: str = ""
    # The status and reason the page showed when it was opened (None: not known).
    seen: tuple[str, str] | None = None


def _as_seen(rows: list[RegisterEntry], marks: Mapping[int, Mark]) -> dict[int, Mark]:
    """The marks the person changed on their page: one left as the page showed it is not
    applied (a save by someone else since then stands), and one changed on a record that
    changed since the page was opened is refused rather than silently undoing that save."""
    by_id = {row.enrolment_id: row for row in rows}
    applied: dict[int, Mark] = {}
    stale = []
    for pk, mark in marks.items():
        row = by_id.get(pk)
        if mark.seen is None or row is None:
            applied[pk] = mark
        elif (mark.status, mark.reason.strip()) == (mark.seen[0], mark.seen[1].strip()):
            continue
        elif (row.status, row.reason.strip()) != (mark.seen[0], mark.seen[1].strip()):
            stale.append(f"{row.name}'s mark changed since you opened the register: reload it.")
        else:
            applied[pk] = mark
    if stale:
        raise ValidationError(" ".join(stale), code="register_stale")
    return applied


def _register_open_check(session: Session) -> None:
    """A register is taken for a session that happens, on its day or after."""
    if session.status == SessionStatus.CANCELLED:
        raise ValidationError("This session was cancelled: it has no register.")
    if session.session_date > timezone.localdate():
        raise ValidationError(
            "This session is on %(date)s: its register opens on the day.",
            params={"date": date_format(session.session_date, "j F Y")},
        )


def _locked(session: Session) -> Session:
    """The session, locked for the rest of the transaction: saves, corrections and the
    sign-off of one register happen one after the other."""
    locked: Session = Session.objects.select_for_update().get(pk=session.pk)
    return locked


def _checked_marks(rows: list[RegisterEntry], marks: Mapping[int, Mark]) -> dict[int, Mark]:
    """`marks` (by course enrolment id) checked against the register: every learner on it,
    a status the register knows, and a reason for an excused absence. The reason of a learner
    marked present is dropped: a reason explains an exception."""
    names = {row.enrolment_id: row.name for row in rows}
    strangers = set(marks) - set(names)
    if strangers:
        raise ValidationError(
            "Not on this register: course enrolment %(ids)s.",
            params={"ids": ", ".join(str(pk) for pk in sorted(strangers))},
        )
    checked: dict[int, Mark] = {}
    problems = []
    for pk, mark in marks.items():
        reason = mark.reason.strip()
        if mark.status not in AttendanceStatus.values:
            problems.append(f"{names[pk]}: “{mark.status}” is not an attendance status.")
        elif mark.status == AttendanceStatus.EXCUSED and not reason:
            problems.append(f"{names[pk]}: an excused absence needs the reason it was accepted.")
        elif len(reason) > REASON_MAX_LENGTH:
            problems.append(f"{names[pk]}: a reason may be at most {REASON_MAX_LENGTH} characters.")
        else:
            keep = "" if mark.status == AttendanceStatus.PRESENT else reason
            checked[pk] = Mark(status=mark.status, reason=keep)
    if problems:
        raise ValidationError(problems)
    return checked


def _changes(
    rows: list[RegisterEntry], wanted: dict[int, Mark]
) -> list[tuple[RegisterEntry, Mark]]:
    """The learners whose mark differs from their record (leaving a learner unmarked is no
    change)."""
    return [
        (row, mark)
        for row in rows
        if (mark := wanted.get(row.enrolment_id)) is not None
        and (mark.status, mark.reason) != (row.status, row.reason)
        and not (row.record_id is None and mark.status == AttendanceStatus.UNKNOWN)
    ]


def register_save(
    *,
    session: Session,
    actor: User | None,
    marks: Mapping[int, Mark],
    rest_present: bool = False,
) -> int:
    """Save the trainer's marks (by course enrolment id) on a register not yet signed off;
    with `rest_present`, every learner still unmarked after them is marked present (the one
    tap). Only what changed is written, in one statement. Returns how many records changed."""
    register_check(actor=actor, session=session, action="attendance.register_save")
    _register_open_check(session)
    with transaction.atomic(durable=True):
        session = _locked(session)
        _register_open_check(session)  # cancelled or moved meanwhile
        if session.is_signed_off:
            raise ValidationError(
                "This register is signed off: a change now is a correction, with its reason."
            )
        rows = register_entries(session)
        wanted = _checked_marks(rows, _as_seen(rows, marks))
        if rest_present:
            for row in rows:
                if (
                    wanted.get(row.enrolment_id, Mark(row.status)).status
                    == AttendanceStatus.UNKNOWN
                ):
                    wanted[row.enrolment_id] = Mark(status=AttendanceStatus.PRESENT)
        changed = [
            AttendanceRecord(
                session=session,
                enrolment_id=row.enrolment_id,
                status=mark.status,
                reason=mark.reason,
                recorded_by=actor,
            )
            for row, mark in _changes(rows, wanted)
        ]
        AttendanceRecord.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["session", "enrolment"],
            update_fields=["status", "reason", "recorded_by", "recorded_at"],
        )
        if changed:
            audit_record(
                actor=actor,
                action="attendance.register_saved",
                entity=session,
                new_values={
                    "changed": len(changed),
                    "everyone_else_present": rest_present,
                    **register_counts(
                        wanted[row.enrolment_id].status
                        if row.enrolment_id in wanted
                        else row.status
                        for row in rows
                    ),
                },
            )
    return len(changed)


def register_sign_off(*, session: Session, actor: User | None) -> Session:
    """Sign the register off once every learner on it is marked: from now on a change needs a
    reason and keeps the earlier value (register_correct)."""
    register_check(actor=actor, session=session, action="attendance.register_sign_off")
    _register_open_check(session)
    with transaction.atomic(durable=True):
        session = _locked(session)
        _register_open_check(session)  # cancelled or moved meanwhile
        if session.is_signed_off:
            raise ValidationError("This register is signed off already.")
        rows = register_entries(session)
        if not rows:
            raise ValidationError("Nobody is on this register: there is nothing to sign off.")
        unmarked = [row.name for row in rows if row.status == AttendanceStatus.UNKNOWN]
        if unmarked:
            raise ValidationError(
                "Mark everyone before signing off; not marked yet: %(names)s.",
                params={"names": ", ".join(unmarked)},
            )
        now = timezone.now()
        session.register_signed_off_at, session.register_signed_off_by = now, actor
        session.save(update_fields=["register_signed_off_at", "register_signed_off_by"])
        AttendanceRecord.objects.filter(session=session).update(signed_off_at=now)
        audit_record(
            actor=actor,
            action="attendance.register_signed_off",
            entity=session,
            new_values={
                "signed_off_at": now.isoformat(),
                **register_counts(row.status for row in rows),
            },
        )
        session_attendance_sync(session)
    return session


def register_correct(
    *,
    session: Session,
    actor: User | None,
    marks: Mapping[int, Mark],
    change_reason: str,
) -> int:
    """Correct a signed-off register: each record that changes keeps its earlier status and
    reason in its history (AttendanceChange) with `change_reason`, and is audited. Nothing is
    written without a reason. Returns how many records changed."""
    register_check(actor=actor, session=session, action="attendance.register_correct")
    change_reason = change_reason.strip()
    with transaction.atomic(durable=True):
        session = _locked(session)
        _register_open_check(session)  # cancelled or moved meanwhile
        if not session.is_signed_off:
            raise ValidationError("This register is not signed off yet: save it as usual.")
        rows = register_entries(session)
        wanted = _checked_marks(rows, _as_seen(rows, marks))
        changing = _changes(rows, wanted)
        if not changing:
            return 0
        if not change_reason:
            raise ValidationError(
                "Say why the signed-off register changes: a correction needs its reason.",
                code=CHANGE_REASON_NEEDED,
            )
        if any(mark.status == AttendanceStatus.UNKNOWN for _row, mark in changing):
            raise ValidationError("A signed-off register marks everyone: choose a status.")
        _corrections_write(session, changing, actor=actor, change_reason=change_reason)
        session_attendance_sync(session)
    return len(changing)


def _corrections_write(
    session: Session,
    changing: list[tuple[RegisterEntry, Mark]],
    *,
    actor: User | None,
    change_reason: str,
) -> None:
    """Write the corrected records, their history and one audit event each. Reasons stay out
    of the events: they may say why someone was ill."""
    now = timezone.now()
    records = []
    for row, mark in changing:
        old_status, old_reason = row.status, row.reason
        record = AttendanceRecord(
            pk=row.record_id,
            session=session,
            enrolment_id=row.enrolment_id,
            signed_off_at=session.register_signed_off_at,
        )
        record.status, record.reason = mark.status, mark.reason
        record.recorded_by, record.recorded_at = actor, now
        records.append((record, old_status, old_reason))
    AttendanceRecord.objects.bulk_create(record for record, *_old in records if record.pk is None)
    AttendanceRecord.objects.bulk_update(
        [record for record, *_old in records], ["status", "reason", "recorded_by", "recorded_at"]
    )
    AttendanceChange.objects.bulk_create(
        AttendanceChange(
            record=record,
            old_status=old_status,
            old_reason=old_reason,
            new_status=record.status,
            change_reason=change_reason,
            changed_by=actor,
        )
        for record, old_status, old_reason in records
    )
    for record, old_status, old_reason in records:
        audit_record(
            actor=actor,
            action="attendance.corrected",
            entity=record,
            old_values={"status": old_status},
            new_values={
                "status": record.status,
                **({"reason": CHANGED} if old_reason != record.reason else {}),
                "change_reason": CHANGED,
            },
        )


def attendance_threshold_set(*, institution: Institution, actor: User | None, percent: int) -> int:
    """Set the attendance rate (percent) under which the institution's learners are flagged: for
    who manages delivery in every cohort."""
    manage_check(actor=actor, action="attendance.threshold_set")
    permission_check(actor=actor, action="attendance.threshold_set", permission=ALL_COHORTS)
    if not 1 <= percent <= 100:
        raise ValidationError("The threshold is a percentage from 1 to 100.")
    with transaction.atomic(durable=True):
        institution = Institution.objects.select_for_update().get(pk=institution.pk)
        old = attendance_threshold(institution)
        if old != percent:
            institution.settings = {**institution.settings, ATTENDANCE_THRESHOLD: percent}
            institution.save(update_fields=["settings"])
            audit_record(
                actor=actor,
                action="attendance.threshold_changed",
                entity=institution,
                old_values={ATTENDANCE_THRESHOLD: old},
                new_values={ATTENDANCE_THRESHOLD: percent},
            )
    return percent
