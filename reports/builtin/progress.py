"""Cohort progress: where each enrolment stands, as the cohort page's students table says it
(enrolments.selectors.with_table_statuses), with its courses and its attendance
(delivery.selectors.attendance.with_attendance_rate): one query, grouped per enrolment over
its course places and their attendance, read through a server-side cursor a chunk at a
time."""

from collections.abc import Iterator, Mapping
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet

from delivery.models import CourseEnrollmentStatus
from delivery.selectors.attendance import with_attendance_rate
from enrolments.models import (
    AgreementStatus,
    CohortEnrollment,
    DocumentsStatus,
    EnrollmentState,
    ProgrammeOutcome,
)
from enrolments.selectors import with_table_statuses
from reports.builtin.common import (
    CHUNK,
    COHORT,
    PROGRAMME,
    YEAR,
    choice_parameter,
    cohort_scope,
    label_of,
    percent,
)
from reports.registry import Column, Report, Rows, register

# The course places that count (dropped ones aside), reached from the enrolment.
_KEPT = ~Q(course_enrollments__status=CourseEnrollmentStatus.DROPPED)
_COMPLETED = Q(course_enrollments__status=CourseEnrollmentStatus.COMPLETED)


def _without_jit(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """`rows` read with PostgreSQL's JIT compilation off: the planner prices this query's many
    correlated subqueries so high that it compiles them, which over 100,000 enrolments took
    longer (6 s) than running the whole query without it. Set for this connection while the
    rows are read, and reset after."""
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield from rows
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


def progress_enrollments(params: Mapping[str, Any]) -> QuerySet[CohortEnrollment]:
    enrollments = CohortEnrollment.objects.filter(cohort_scope(params))
    if params.get("state"):
        enrollments = enrollments.filter(state=params["state"])
    return enrollments


def cohort_progress_rows(params: Mapping[str, Any]) -> Rows:
    # Each attendance record joins once, and the course places are counted distinct: the
    # join does not multiply what is counted.
    enrollments = (
        with_attendance_rate(
            with_table_statuses(progress_enrollments(params)),
            records="course_enrollments__attendance",
        )
        .annotate(
            courses_taken=Count("course_enrollments", distinct=True, filter=_KEPT),
            courses_completed=Count("course_enrollments", distinct=True, filter=_COMPLETED),
        )
        .values(
            "learner__first_name",
            "learner__last_name",
            "cohort__name",
            "state",
            "documents_status",
            "agreement_status",
            "courses_taken",
            "courses_completed",
            "rate",
            "programme_outcome",
            "completion_date",
        )
        .order_by(
            "cohort__start_date", "cohort__name", "learner__last_name", "learner__first_name", "pk"
        )
    )
    for row in _without_jit(enrollments.iterator(chunk_size=CHUNK)):
        yield {
            "learner": " ".join(
                part for part in (row["learner__first_name"], row["learner__last_name"]) if part
            ),
            "cohort": row["cohort__name"],
            "state": label_of(EnrollmentState, row["state"]),
            "documents": label_of(DocumentsStatus, row["documents_status"]),
            "agreement": label_of(AgreementStatus, row["agreement_status"]),
            "courses_completed": row["courses_completed"],
            "courses_taken": row["courses_taken"],
            "attendance_rate": percent(row["rate"]),
            "outcome": label_of(ProgrammeOutcome, row["programme_outcome"])
            if row["programme_outcome"]
            else "",
            "completion_date": row["completion_date"],
        }


def cohort_progress_count(params: Mapping[str, Any]) -> int:
    return progress_enrollments(params).count()


COHORT_PROGRESS = register(
    Report(
        key="cohort_progress",
        title="Cohort progress",
        description="Each learner of a cohort (or of every cohort, a programme or a year): "
        "their enrolment, documents, agreement, courses completed, attendance and outcome.",
        permission="cohorts.access_all_cohorts",
        parameters=(
            COHORT,
            PROGRAMME,
            YEAR,
            choice_parameter(
                "state",
                "Enrolment",
                EnrollmentState.choices,
                "Only enrolments in this state.",
                any_label="Any state",
            ),
        ),
        columns=(
            Column("learner", "Learner"),
            Column("cohort", "Cohort"),
            Column("state", "Enrolment"),
            Column("documents", "Documents"),
            Column("agreement", "Agreement"),
            Column("courses_completed", "Courses completed", "int"),
            Column("courses_taken", "Courses taken", "int"),
            Column("attendance_rate", "Attendance", "percent"),
            Column("outcome", "Outcome"),
            Column("completion_date", "Completed on", "date"),
        ),
        rows=cohort_progress_rows,
        count=cohort_progress_count,
    )
)
