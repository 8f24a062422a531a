"""What the attendance pages read: who is on a session's register and how each was marked,
attendance rates per learner (a cohort's, a learner's own) and the institution's threshold.
Each returns its rows in a fixed number of queries, however many learners there are."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FilteredRelation,
    FloatField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncWeek
from django.utils import timezone

from accounts.charts import Chart
from accounts.models import User
from cohorts.models import Cohort, CohortState
from delivery.access import MANAGE, sessions_registered_by
from delivery.models import (
    AttendanceChange,
    AttendanceRecord,
    AttendanceStatus,
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseRun,
    Session,
    SessionStatus,
)
from delivery.selectors.gateway import GatewayStanding, gateway_standing
from enrolments.models import CohortEnrollment, EnrollmentState
from tenants.models import Institution

# Institution.settings key of the attendance rate under which a learner is flagged (percent).
ATTENDANCE_THRESHOLD = "attendance_threshold"
DEFAULT_ATTENDANCE_THRESHOLD = 80
# The statuses a trainer chooses between on the register (unknown is "not marked yet").
MARKS = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.ABSENT,
    AttendanceStatus.EXCUSED,
)


def attendance_threshold(institution: Institution) -> int:
    """The rate (percent) under which a learner's attendance is flagged."""
    return int(institution.settings.get(ATTENDANCE_THRESHOLD, DEFAULT_ATTENDANCE_THRESHOLD))


@dataclass
class RegisterRow:
    """One learner on a register: their course enrolment and their record at the session
    (None until marked), with the record's corrections, newest first."""

    enrolment: CourseEnrollment
    record: AttendanceRecord | None
    changes: list[AttendanceChange] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.record.status if self.record else AttendanceStatus.UNKNOWN

    @property
    def reason(self) -> str:
        return self.record.reason if self.record else ""

    @property
    def name(self) -> str:
        learner = self.enrolment.enrollment.learner
        return learner.full_name or learner.email or self.enrolment.enrollment.user.email

    @property
    def gateway(self) -> GatewayStanding:
        """The record's standing at the training gateway (none sent before sign-off)."""
        record = self.record or AttendanceRecord()
        return gateway_standing(
            sync_status=record.sync_status,
            sync_reference=record.sync_reference,
            sync_error=record.sync_error,
            learner=self.enrolment.enrollment.learner,
        )


def register_enrolments(session: Session) -> QuerySet[CourseEnrollment]:
    """Who is on `session`'s register: the run's learners who have neither dropped the course
    nor withdrawn from the cohort, and anyone already marked at the session (a learner who
    left later stays on the registers that marked them)."""
    marked = AttendanceRecord.objects.filter(session=session, enrolment=OuterRef("pk"))
    left = Q(status=CourseEnrollmentStatus.DROPPED) | Q(enrollment__state=EnrollmentState.WITHDRAWN)
    return (
        CourseEnrollment.objects.filter(course_run_id=session.course_run_id)
        .filter(~left | Exists(marked))
        .order_by("enrollment__learner__last_name", "enrollment__learner__first_name", "pk")
    )


@dataclass(frozen=True)
class RegisterEntry:
    """One learner on a register as the services check and write it: plain values, so that a
    register of 200 learners is read without building 800 model instances."""

    enrolment_id: int
    name: str
    record_id: int | None
    status: str
    reason: str


def register_entries(session: Session) -> list[RegisterEntry]:
    """The register of `session` as values (see RegisterEntry), in one query."""
    rows = (
        register_enrolments(session)
        .annotate(
            session_record=FilteredRelation("attendance", condition=Q(attendance__session=session))
        )
        .values_list(
            "pk",
            "enrollment__learner__first_name",
            "enrollment__learner__last_name",
            "enrollment__user__email",
            "session_record__pk",
            "session_record__status",
            "session_record__reason",
        )
    )
    return [
        RegisterEntry(
            enrolment_id=pk,
            name=" ".join(part for part in (first, last) if part) or email,
            record_id=record_id,
            status=status or AttendanceStatus.UNKNOWN,
            reason=reason or "",
        )
        for pk, first, last, email, record_id, status, reason in rows
    ]


def register_rows(session: Session) -> list[RegisterRow]:
    """The register of `session`, in the order the trainer reads it out (surname first)."""
    enrolments = (
        register_enrolments(session)
        .select_related("enrollment__learner", "enrollment__user")
        .prefetch_related(
            Prefetch(
                "attendance",
                queryset=AttendanceRecord.objects.filter(session=session).prefetch_related(
                    Prefetch(
                        "changes", queryset=AttendanceChange.objects.select_related("changed_by")
                    )
                ),
                to_attr="session_records",
            )
        )
    )
    rows = []
    for enrolment in enrolments:
        record = enrolment.session_records[0] if enrolment.session_records else None
        rows.append(
            RegisterRow(
                enrolment=enrolment,
                record=record,
                changes=list(record.changes.all()) if record else [],
            )
        )
    return rows


def register_session(pk: int) -> Session:
    """A session with what its register page shows around the rows."""
    session: Session = Session.objects.select_related(
        "course_run__cohort", "trainer", "register_signed_off_by"
    ).get(pk=pk)
    return session


def register_counts(statuses: Iterable[str]) -> dict[str, int]:
    """How many learners of a register have each status (unknown: not marked yet)."""
    counts: dict[str, int] = {str(status): 0 for status in (*MARKS, AttendanceStatus.UNKNOWN)}
    for status in statuses:
        counts[status] += 1
    return counts


def _counted(prefix: str, status: str, sessions: Q) -> Count:
    return Count(f"{prefix}pk", filter=Q(**{f"{prefix}status": status}) & sessions)


def with_attendance_rate(queryset: QuerySet, *, records: str) -> QuerySet:
    """`queryset` annotated with its rows' attendance over the records reached by the
    relation path `records` (e.g. "attendance"): present, late, absent and excused counts and
    `rate`, the percentage of sessions attended (present or late) of those that count (present,
    late or absent). Excused absences and unmarked learners count neither way; cancelled
    sessions not at all. `rate` is None before anything counts."""
    prefix = f"{records}__"
    held = Q(**{f"{prefix}session__status": SessionStatus.SCHEDULED})
    annotated = queryset.annotate(
        present_count=_counted(prefix, AttendanceStatus.PRESENT, held),
        late_count=_counted(prefix, AttendanceStatus.LATE, held),
        absent_count=_counted(prefix, AttendanceStatus.ABSENT, held),
        excused_count=_counted(prefix, AttendanceStatus.EXCUSED, held),
    ).annotate(
        attended_count=F("present_count") + F("late_count"),
        counted_count=F("present_count") + F("late_count") + F("absent_count"),
    )
    return annotated.annotate(
        rate=Case(
            When(counted_count=0, then=Value(None)),
            default=Cast(F("attended_count") * 100, output_field=FloatField()) / F("counted_count"),
            output_field=FloatField(),
        )
    )


def cohort_attendance(
    *, cohort: Cohort, threshold: int, flagged_only: bool = False
) -> QuerySet[CohortEnrollment]:
    """The cohort's learners with their attendance over all the cohort's runs (see
    with_attendance_rate) and `flagged`: a rate under `threshold`. Withdrawn learners last."""
    learners = with_attendance_rate(
        CohortEnrollment.objects.filter(cohort=cohort).select_related("learner", "user"),
        records="course_enrollments__attendance",
    ).annotate(
        flagged=Case(
            When(rate__lt=threshold, then=Value(True)),
            default=Value(False),
        ),
        withdrawn=Case(
            When(state=EnrollmentState.WITHDRAWN, then=Value(True)),
            default=Value(False),
        ),
    )
    if flagged_only:
        learners = learners.filter(flagged=True)
    return learners.order_by("withdrawn", "learner__last_name", "learner__first_name", "pk")


def cohort_registers(cohort: Cohort) -> QuerySet[CourseRun]:
    """The cohort's runs with how their registers stand: sessions held so far (today
    included), and of those the registers signed off and still open."""
    held = Q(
        sessions__status=SessionStatus.SCHEDULED,
        sessions__session_date__lte=timezone.localdate(),
    )
    runs: QuerySet[CourseRun] = (
        CourseRun.objects.filter(cohort=cohort)
        .select_related("trainer")
        .annotate(
            held_count=Count("sessions", filter=held),
            signed_off_count=Count(
                "sessions", filter=held & Q(sessions__register_signed_off_at__isnull=False)
            ),
        )
        .annotate(open_count=F("held_count") - F("signed_off_count"))
        .order_by("start_date", "course_ref")
    )
    return runs


def learner_course_attendance(user: User) -> QuerySet[CourseEnrollment]:
    """The signed-in learner's course enrolments with their attendance in each (see
    with_attendance_rate), newest run first; withdrawn enrolments are gone from their view."""
    enrolments: QuerySet[CourseEnrollment] = with_attendance_rate(
        CourseEnrollment.objects.filter(enrollment__user=user)
        .exclude(enrollment__state=EnrollmentState.WITHDRAWN)
        .select_related("course_run__cohort"),
        records="attendance",
    ).order_by("-course_run__start_date", "course_run__course_ref")
    return enrolments


def learner_attendance_records(user: User) -> QuerySet[AttendanceRecord]:
    """The signed-in learner's records, newest session first (cancelled sessions left out)."""
    records: QuerySet[AttendanceRecord] = (
        AttendanceRecord.objects.filter(enrolment__enrollment__user=user)
        .exclude(enrolment__enrollment__state=EnrollmentState.WITHDRAWN)
        .exclude(session__status=SessionStatus.CANCELLED)
        .select_related("session__course_run")
        .order_by("-session__session_date", "-session__start_time")
    )
    return records


def registers_to_take(user: User) -> QuerySet[Session]:
    """The sessions whose registers `user` takes (those of the runs they teach or manage, and
    those they stand in for), held up to today and not yet signed off, oldest first: what is
    left to do."""
    sessions: QuerySet[Session] = (
        sessions_registered_by(user)
        .filter(
            status=SessionStatus.SCHEDULED,
            session_date__lte=timezone.localdate(),
            register_signed_off_at__isnull=True,
        )
        .select_related("course_run__cohort")
        .order_by("session_date", "start_time")
    )
    return sessions


def cohort_weekly_attendance_chart(*, cohort: Cohort) -> Chart:
    """The cohort's attendance rate per week (of its sessions' dates) over all its runs, as
    with_attendance_rate counts it, for the weeks in which any attendance counts: one query."""
    weeks = (
        with_attendance_rate(
            Session.objects.filter(course_run__cohort=cohort)
            .annotate(week=TruncWeek("session_date"))
            .values("week"),
            records="attendance",
        )
        .filter(counted_count__gt=0)
        .order_by("week")
        .values_list("week", "rate")
    )
    rows = list(weeks)
    return {
        "id": "attendance-chart",
        "type": "line",
        "title": "Attendance rate per week",
        "labels": [f"Week of {week:%-d %b %Y}" for week, _ in rows],
        "datasets": [{"label": "Attended", "data": [round(rate, 1) for _, rate in rows]}],
        "stacked": False,
        "unit": "%",
    }


def cohort_attendance_panel(cohort: Cohort, user: User) -> dict[str, Any] | None:
    """The cohort page's attendance chart (cohorts.panels), once the cohort is under way."""
    if cohort.state == CohortState.DRAFT:
        return None
    return {"chart": cohort_weekly_attendance_chart(cohort=cohort), "may_manage": user.may(MANAGE)}
