"""What delivery reports on: attendance rates per course run or per learner in each run, as
the attendance pages work them out (delivery.selectors.attendance.with_attendance_rate), and
assessment outcomes per course run."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Avg, Count, DecimalField, OuterRef, Q, Subquery

from delivery.models import (
    AssessmentResult,
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseRun,
)
from delivery.selectors.attendance import with_attendance_rate
from reports.builtin.common import (
    CHUNK,
    COHORT,
    PROGRAMME,
    YEAR,
    choice_parameter,
    cohort_scope,
    percent,
)
from reports.registry import Column, Report, Rows, register

LEVELS = [("run", "Per course run"), ("learner", "Per learner in each run")]
_RUN_ORDER = ("cohort__start_date", "cohort__name", "start_date", "course_ref", "pk")
_COUNTS = ("present_count", "late_count", "absent_count", "excused_count", "rate")


def _run_label(course_ref: str, title: str) -> str:
    return f"{course_ref} {title}".strip()


def _attendance_cells(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "present": row["present_count"],
        "late": row["late_count"],
        "absent": row["absent_count"],
        "excused": row["excused_count"],
        "rate": percent(row["rate"]),
    }


def attendance_rows(params: Mapping[str, Any]) -> Rows:
    if params.get("level") == "learner":
        places = (
            with_attendance_rate(
                CourseEnrollment.objects.filter(cohort_scope(params, cohort="course_run__cohort")),
                records="attendance",
            )
            .values(
                "enrollment__learner__first_name",
                "enrollment__learner__last_name",
                "course_run__cohort__name",
                "course_run__course_ref",
                "course_run__title",
                *_COUNTS,
            )
            .order_by(
                *(f"course_run__{field}" for field in _RUN_ORDER),
                "enrollment__learner__last_name",
                "enrollment__learner__first_name",
                "pk",
            )
        )
        for row in places.iterator(chunk_size=CHUNK):
            learner = (
                row["enrollment__learner__first_name"],
                row["enrollment__learner__last_name"],
            )
            yield {
                "cohort": row["course_run__cohort__name"],
                "course_run": _run_label(row["course_run__course_ref"], row["course_run__title"]),
                "learner": " ".join(part for part in learner if part),
                **_attendance_cells(row),
            }
        return
    runs = (
        with_attendance_rate(
            CourseRun.objects.filter(cohort_scope(params)), records="enrollments__attendance"
        )
        .values("cohort__name", "course_ref", "title", *_COUNTS)
        .order_by(*_RUN_ORDER)
    )
    for row in runs.iterator(chunk_size=CHUNK):
        yield {
            "cohort": row["cohort__name"],
            "course_run": _run_label(row["course_ref"], row["title"]),
            "learner": "",
            **_attendance_cells(row),
        }


ATTENDANCE = register(
    Report(
        key="attendance",
        title="Attendance rates",
        description="Attendance per course run, or per learner in each run: sessions present, "
        "late, absent and excused, and the rate (present or late, of the sessions that count; "
        "excused absences and cancelled sessions do not count).",
        permission="delivery.manage_delivery",
        area="Delivery",
        parameters=(
            choice_parameter("level", "Rows", LEVELS, "One row per run, or per learner in it."),
            COHORT,
            PROGRAMME,
            YEAR,
        ),
        columns=(
            Column("cohort", "Cohort"),
            Column("course_run", "Course run"),
            Column("learner", "Learner"),
            Column("present", "Present", "int"),
            Column("late", "Late", "int"),
            Column("absent", "Absent", "int"),
            Column("excused", "Excused", "int"),
            Column("rate", "Attendance", "percent"),
        ),
        rows=attendance_rows,
    )
)


def _average_score() -> Subquery:
    """The average final score of the run's learners who have one (a subquery, so that the
    assessments' join does not weigh it)."""
    scores = (
        CourseEnrollment.objects.filter(course_run_id=OuterRef("pk"), score__isnull=False)
        .exclude(status=CourseEnrollmentStatus.DROPPED)
        .order_by()
        .values("course_run_id")
        .annotate(average=Avg("score"))
        .values("average")
    )
    return Subquery(scores, output_field=DecimalField(max_digits=5, decimal_places=2))


def assessment_outcomes_rows(params: Mapping[str, Any]) -> Rows:
    staying = ~Q(enrollments__status=CourseEnrollmentStatus.DROPPED)
    competent = Q(enrollments__status=CourseEnrollmentStatus.COMPLETED)

    def learners(condition: Q) -> Count:
        return Count("enrollments", distinct=True, filter=condition)

    def results(result: str) -> Count:
        return Count(
            "enrollments__assessments", filter=staying & Q(enrollments__assessments__result=result)
        )

    runs = (
        CourseRun.objects.filter(cohort_scope(params))
        .annotate(
            learners=learners(staying),
            competent=learners(competent),
            not_yet=learners(staying & ~competent & Q(moderated_at__isnull=False)),
            awaiting=learners(staying & ~competent & Q(moderated_at__isnull=True)),
            dropped=learners(~staying),
            passes=results(AssessmentResult.PASS),
            fails=results(AssessmentResult.FAIL),
            voids=results(AssessmentResult.VOID),
            average_score=_average_score(),
        )
        .values(
            "cohort__name",
            "course_ref",
            "title",
            "moderated_at",
            "learners",
            "competent",
            "not_yet",
            "awaiting",
            "dropped",
            "passes",
            "fails",
            "voids",
            "average_score",
        )
        .order_by(*_RUN_ORDER)
    )
    for row in runs.iterator(chunk_size=CHUNK):
        average = row["average_score"]
        yield {
            "cohort": row["cohort__name"],
            "course_run": _run_label(row["course_ref"], row["title"]),
            "moderated_at": row["moderated_at"],
            "learners": row["learners"],
            "competent": row["competent"],
            "not_yet_competent": row["not_yet"],
            "awaiting": row["awaiting"],
            "dropped": row["dropped"],
            "passes": row["passes"],
            "fails": row["fails"],
            "voids": row["voids"],
            "average_score": None if average is None else round(average, 1),
        }


ASSESSMENT_OUTCOMES = register(
    Report(
        key="assessment_outcomes",
        title="Assessment outcomes",
        description="Per course run: learners competent, not yet competent (results "
        "moderated, course not passed), still awaiting moderation or dropped; the results "
        "recorded (pass, fail, void), the average final score and when it was moderated.",
        permission="delivery.manage_delivery",
        area="Delivery",
        parameters=(COHORT, PROGRAMME, YEAR),
        columns=(
            Column("cohort", "Cohort"),
            Column("course_run", "Course run"),
            Column("moderated_at", "Moderated", "datetime"),
            Column("learners", "Learners", "int"),
            Column("competent", "Competent", "int"),
            Column("not_yet_competent", "Not yet competent", "int"),
            Column("awaiting", "Awaiting moderation", "int"),
            Column("dropped", "Dropped", "int"),
            Column("passes", "Results passed", "int"),
            Column("fails", "Results failed", "int"),
            Column("voids", "Results void", "int"),
            Column("average_score", "Average score", "percent"),
        ),
        rows=assessment_outcomes_rows,
    )
)
