"""Where each learner of a cohort stands in the programme: the courses they must complete (the
programme's core courses and whatever else they are enrolled in), how many are completed and
how many final (moderated), and the outcome that may be recorded. Also the cohort completion
guard: a cohort with a programme completes once every learner's outcome is recorded or the
learner has withdrawn."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from academics.models import Course
from cohorts.models import Cohort
from delivery.models import CourseEnrollment, CourseEnrollmentStatus
from enrolments.models import CohortEnrollment, EnrollmentState, ProgrammeOutcome


@dataclass
class CourseStanding:
    course: Course
    enrolment: CourseEnrollment | None

    @property
    def completed(self) -> bool:
        return (
            self.enrolment is not None and self.enrolment.status == CourseEnrollmentStatus.COMPLETED
        )

    @property
    def final(self) -> bool:
        """The learner's result in the course is moderated."""
        return self.enrolment is not None and self.enrolment.course_run.moderated_at is not None


@dataclass
class LearnerStanding:
    enrollment: CohortEnrollment
    courses: list[CourseStanding]

    @property
    def completed_count(self) -> int:
        return sum(1 for course in self.courses if course.completed)

    @property
    def ready_outcome(self) -> str:
        """The outcome the results allow: completed once every required course is completed,
        not yet competent once all are final but some not passed; "" while results are
        outstanding."""
        if not self.courses:
            return ""
        if all(course.completed for course in self.courses):
            return ProgrammeOutcome.COMPLETED
        if all(course.final for course in self.courses):
            return ProgrammeOutcome.NOT_YET_COMPETENT
        return ""

    @property
    def withdrawn(self) -> bool:
        return self.enrollment.state == EnrollmentState.WITHDRAWN


def learner_standings(
    *, cohort: Cohort, enrollment_ids: list[int] | None = None
) -> list[LearnerStanding]:
    """Every learner of `cohort` (or those of `enrollment_ids`) with their required courses,
    in four queries whatever the size of the cohort."""
    enrollments = CohortEnrollment.objects.filter(cohort=cohort).select_related("learner")
    if enrollment_ids is not None:
        enrollments = enrollments.filter(pk__in=enrollment_ids)
    enrollments = enrollments.order_by("learner__last_name", "learner__first_name", "pk")
    core = (
        list(Course.objects.filter(programme_id=cohort.programme_id, is_core=True, is_active=True))
        if cohort.programme_id
        else []
    )
    taken: dict[int, dict[int, CourseEnrollment]] = {}
    course_enrolments = (
        CourseEnrollment.objects.filter(enrollment__cohort=cohort)
        .exclude(status=CourseEnrollmentStatus.DROPPED)
        .select_related("course", "course_run")
        .order_by("course__code", "-course_run__start_date")
    )
    for enrolment in course_enrolments:
        taken.setdefault(enrolment.enrollment_id, {}).setdefault(enrolment.course_id, enrolment)
    standings = []
    for enrollment in enrollments:
        mine = taken.get(enrollment.pk, {})
        courses = {course.pk: course for course in core}
        courses.update({e.course_id: e.course for e in mine.values()})
        standings.append(
            LearnerStanding(
                enrollment=enrollment,
                courses=[
                    CourseStanding(course, mine.get(pk))
                    for pk, course in sorted(courses.items(), key=lambda item: item[1].code)
                ],
            )
        )
    return standings


def cohort_completion_blockers_outcomes(
    sender: type[Cohort], *, cohort: Cohort, **kwargs: Any
) -> list[str]:
    """A cohort delivering a programme completes once each learner's programme outcome is
    recorded, or the learner has withdrawn. Cohorts without a programme are not held."""
    if cohort.programme_id is None:
        return []
    missing = (
        CohortEnrollment.objects.filter(cohort=cohort, programme_outcome="")
        .exclude(Q(state=EnrollmentState.WITHDRAWN))
        .count()
    )
    if missing:
        return [f"{missing} learner(s) have no programme outcome recorded"]
    return []
