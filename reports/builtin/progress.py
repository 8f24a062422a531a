"""Cohort progress: where each enrolment stands, as the cohort page's students table says it
(enrolments.selectors.with_table_statuses) with its course results and attendance
(delivery.selectors.attendance.with_attendance_rate): one query however many rows, read a
chunk at a time."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from delivery.models import CourseEnrollment, CourseEnrollmentStatus
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


def _courses(status: str | None = None) -> Coalesce:
    """How many of the enrolment's course places (dropped ones aside) there are, of `status`
    when given: a subquery, so that the row is not multiplied by a join."""
    places = CourseEnrollment.objects.filter(enrollment_id=OuterRef("pk")).exclude(
        status=CourseEnrollmentStatus.DROPPED
    )
    if status is not None:
        places = places.filter(status=status)
    counted = places.order_by().values("enrollment_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted), 0, output_field=IntegerField())


def _attendance_rate() -> Subquery:
    """The enrolment's attendance rate over all its course runs, worked out as the cohort's
    attendance page does."""
    return Subquery(
        with_attendance_rate(
            CohortEnrollment.objects.filter(pk=OuterRef("pk")),
            records="course_enrollments__attendance",
        ).values("rate")
    )


def progress_enrollments(params: Mapping[str, Any]) -> QuerySet[CohortEnrollment]:
    enrollments = CohortEnrollment.objects.filter(cohort_scope(params))
    if params.get("state"):
        enrollments = enrollments.filter(state=params["state"])
    return enrollments


def cohort_progress_rows(params: Mapping[str, Any]) -> Rows:
    enrollments = (
        with_table_statuses(progress_enrollments(params))
        .annotate(
            courses_taken=_courses(),
            courses_completed=_courses(CourseEnrollmentStatus.COMPLETED),
            attendance_rate=_attendance_rate(),
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
            "attendance_rate",
            "programme_outcome",
            "completion_date",
        )
        .order_by(
            "cohort__start_date", "cohort__name", "learner__last_name", "learner__first_name", "pk"
        )
    )
    for row in enrollments.iterator(chunk_size=CHUNK):
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
            "attendance_rate": percent(row["attendance_rate"]),
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
