"""What a partner's contact reads about the learners their partner brought: each one's name
and e-mail address and their progress (cohorts and where they stand, course runs with their
status and results, placements with the organisation and dates), never special personal
information (no ID number, date of birth, gender, race, disability, language, address or
phone). Only the partner's own candidates: another learner is not there (DoesNotExist)."""

from django.db.models import Count, Prefetch, Q, QuerySet

from delivery.models import AssessmentResult, CourseEnrollment
from enrolments.models import CohortEnrollment
from learners.models import Learner
from partners.access import candidates_of
from partners.models import Partner
from placements.models import Placement


def _placements() -> Prefetch:
    return Prefetch(
        "placements",
        queryset=Placement.objects.select_related("organisation").order_by("-starts_on", "-pk"),
        to_attr="placement_list",
    )


def portal_candidates(partner: Partner) -> QuerySet[Learner]:
    """The partner's candidates by name, each with `cohort_places` (cohort enrolments, their
    cohorts) and `placement_list` (placements, their organisations)."""
    return (
        candidates_of(partner)
        .prefetch_related(
            Prefetch(
                "enrollments",
                queryset=CohortEnrollment.objects.select_related("cohort").order_by(
                    "-invited_at", "pk"
                ),
                to_attr="cohort_places",
            ),
            _placements(),
        )
        .order_by("last_name", "first_name", "pk")
    )


def portal_candidate(partner: Partner, *, learner_pk: int) -> Learner:
    """One of the partner's candidates with their cohort enrolments, each with its course runs
    (`courses`: status, score, grade, `assessed` and `passed` counts of results), and their
    placements."""
    courses = (
        CourseEnrollment.objects.select_related("course_run")
        .annotate(
            assessed=Count("assessments", filter=~Q(assessments__result=AssessmentResult.VOID)),
            passed=Count("assessments", filter=Q(assessments__result=AssessmentResult.PASS)),
        )
        .order_by("course_run__start_date", "pk")
    )
    learner: Learner = (
        candidates_of(partner)
        .prefetch_related(
            Prefetch(
                "enrollments",
                queryset=CohortEnrollment.objects.select_related("cohort")
                .prefetch_related(
                    Prefetch("course_enrollments", queryset=courses, to_attr="courses")
                )
                .order_by("-invited_at", "pk"),
                to_attr="cohort_places",
            ),
            _placements(),
        )
        .get(pk=learner_pk)
    )
    return learner
