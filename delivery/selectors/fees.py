"""What the fees pages read: programmes with their fees, the runs finance reaches with their
learner counts, and a run's enrolments with fees and gateway standing, each in one query."""

from django.db.models import Count, Q, QuerySet

from academics.models import Programme
from accounts.models import User
from accounts.permissions import reachable
from cohorts.models import Cohort
from delivery.models import CourseEnrollment, CourseEnrollmentStatus, CourseRun

IN_RUN = ~Q(enrollments__status=CourseEnrollmentStatus.DROPPED)


def fee_programmes() -> QuerySet[Programme]:
    """Active programmes, by name, with how many course runs each has."""
    return (
        Programme.objects.filter(is_active=True)
        .annotate(run_count=Count("courses__runs", distinct=True))
        .order_by("name")
    )


def fee_runs(*, user: User, search: str = "") -> QuerySet[CourseRun]:
    """The runs of the cohorts `user` reaches, newest first, with their programme and the
    number of learners in each (those who left not counted)."""
    runs = (
        CourseRun.objects.filter(cohort__in=reachable(user, Cohort.objects.all()))
        .select_related("cohort", "course__programme")
        .annotate(learner_count=Count("enrollments", filter=IN_RUN))
    )
    if search:
        runs = runs.filter(
            Q(course_ref__icontains=search)
            | Q(title__icontains=search)
            | Q(cohort__name__icontains=search)
        )
    return runs.order_by("-start_date", "course_ref")


def fee_run(*, user: User, pk: int) -> CourseRun:
    """One run of `fee_runs` (DoesNotExist for one `user` does not reach)."""
    return fee_runs(user=user).get(pk=pk)


def fee_enrolments(run: CourseRun) -> QuerySet[CourseEnrollment]:
    """The run's learners with their fees, subsidies and gateway standing, by name."""
    return (
        CourseEnrollment.objects.filter(course_run=run)
        .select_related("enrollment__learner")
        .order_by("enrollment__learner__last_name", "enrollment__learner__first_name", "pk")
    )
