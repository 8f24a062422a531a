"""Reads the catalogue's pages use, with the joins and counts they show."""

import datetime

from django.db.models import Count, Prefetch, Q, QuerySet

from academics.calendar import working_calendar
from academics.models import (
    AcademicSession,
    AcademicYear,
    Closure,
    Course,
    Department,
    Faculty,
    Programme,
)


def programme_list(*, q: str = "", active: str = "") -> QuerySet[Programme]:
    programmes = Programme.objects.select_related("department__faculty").annotate(
        course_count=Count("courses", distinct=True), cohort_count=Count("cohorts", distinct=True)
    )
    if q:
        programmes = programmes.filter(Q(name__icontains=q) | Q(code__icontains=q))
    if active:
        programmes = programmes.filter(is_active=active == "yes")
    return programmes.order_by("-is_active", "name")


def programme_detail(pk: int) -> Programme:
    """A programme with its courses, each with its prerequisites (codes shown on the page)."""
    return (
        Programme.objects.select_related("department__faculty", "grading_scale")
        .annotate(cohort_count=Count("cohorts"))
        .prefetch_related(
            Prefetch(
                "courses",
                queryset=Course.objects.prefetch_related("prerequisites").order_by(
                    "-is_core", "code"
                ),
            )
        )
        .get(pk=pk)
    )


def course_detail(pk: int) -> Course:
    return (
        Course.objects.select_related("programme")
        .prefetch_related("prerequisites", "required_for", "outcomes")
        .get(pk=pk)
    )


def faculty_list() -> QuerySet[Faculty]:
    return Faculty.objects.prefetch_related(
        Prefetch(
            "departments",
            queryset=Department.objects.select_related("head_of_department").annotate(
                programme_count=Count("programmes")
            ),
        )
    )


def academic_years() -> QuerySet[AcademicYear]:
    return AcademicYear.objects.prefetch_related(
        Prefetch("sessions", queryset=AcademicSession.objects.order_by("start_date"))
    )


def closures_and_holidays(
    year: int,
) -> tuple[QuerySet[Closure], list[tuple[datetime.date, str]]]:
    """The closures overlapping `year`, and the weekdays off in it (public holidays, with those
    on a Sunday observed on the Monday, and closures), as the schedules see them."""
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    closures = Closure.objects.filter(starts_on__lte=last, ends_on__gte=first)
    return closures, list(working_calendar().days_off_between(first, last))
