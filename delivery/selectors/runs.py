"""What the trainers', runs' and cohort delivery pages read, each with its joins and counts, so
that a page's queries do not grow with its rows."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from cohorts.models import Cohort
from delivery.access import runs_for
from delivery.models import (
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseRun,
    CourseRunStatus,
    SessionStatus,
    Trainer,
)
from delivery.selectors.gateway import enrolments_with_standing
from enrolments.models import CohortEnrollment, EnrollmentState

SCHEDULED = Q(sessions__status=SessionStatus.SCHEDULED)


def cohort_learners(cohort: Cohort) -> QuerySet[CohortEnrollment]:
    """The cohort's enrolments that take part in its courses (everyone not withdrawn)."""
    return (
        CohortEnrollment.objects.filter(cohort=cohort)
        .exclude(state=EnrollmentState.WITHDRAWN)
        .select_related("learner", "user")
    )


def trainer_list(*, user: User, search: str = "", active: bool | None = None) -> QuerySet[Trainer]:
    """The trainers, each with the count of their runs (not cancelled) that `user` may open."""
    trainers = Trainer.objects.select_related("user").annotate(
        run_count=Count(
            "runs",
            filter=~Q(runs__status=CourseRunStatus.CANCELLED) & Q(runs__in=runs_for(user)),
            distinct=True,
        )
    )
    if search:
        trainers = trainers.filter(
            Q(name__icontains=search)
            | Q(email__icontains=search)
            | Q(accreditation_number__icontains=search)
        )
    if active is not None:
        trainers = trainers.filter(active_status=active)
    return trainers.order_by("name")


def trainer_runs(trainer: Trainer, *, user: User) -> QuerySet[CourseRun]:
    """The runs `trainer` teaches (as the run's trainer or in one of its sessions) that `user`
    may open: someone limited to some cohorts sees only theirs."""
    return _with_counts(
        runs_for(user)
        .filter(Q(trainer=trainer) | Q(sessions__trainer=trainer))
        .distinct()
        .select_related("cohort", "course")
    )


def _with_counts(runs: QuerySet[CourseRun]) -> QuerySet[CourseRun]:
    today = timezone.localdate()
    return runs.annotate(
        session_count=Count("sessions", filter=SCHEDULED, distinct=True),
        next_session=Min(
            "sessions__session_date", filter=SCHEDULED & Q(sessions__session_date__gte=today)
        ),
        learner_count=Count(
            "enrollments",
            filter=~Q(enrollments__status=CourseEnrollmentStatus.DROPPED),
            distinct=True,
        ),
    )


def cohort_runs(cohort: Cohort) -> QuerySet[CourseRun]:
    """The cohort's runs, cancelled ones last, with their counts."""
    return _with_counts(
        CourseRun.objects.filter(cohort=cohort).select_related(
            "course", "trainer", "academic_session"
        )
    ).order_by("status", "start_date", "course_ref")


def runs_on_home(user: User) -> QuerySet[CourseRun]:
    """The runs on a person's delivery start page: those they teach, moderate or manage that
    have not finished, soonest first."""
    return (
        _with_counts(runs_for(user).select_related("cohort", "course", "trainer"))
        .exclude(status=CourseRunStatus.CANCELLED)
        .filter(end_date__gte=timezone.localdate())
        .order_by("start_date", "course_ref")
    )


def run_for_page(user: User, pk: int) -> CourseRun:
    """The run `pk` if `user` may open it (CourseRun.DoesNotExist otherwise: a 404)."""
    run: CourseRun = (
        _with_counts(runs_for(user))
        .select_related("cohort__programme", "course", "trainer", "academic_session", "moderator")
        .get(pk=pk)
    )
    return run


def run_learners(run: CourseRun) -> QuerySet[CourseEnrollment]:
    return (
        CourseEnrollment.objects.filter(course_run=run)
        .select_related("enrollment__learner", "enrollment__user")
        .order_by("enrollment__learner__last_name", "enrollment__learner__first_name")
    )


def run_learners_with_standing(run: CourseRun) -> list[CourseEnrollment]:
    """The run's learners, each with its standing at the training gateway (`gateway`)."""
    return enrolments_with_standing(run_learners(run))


def run_candidates(run: CourseRun) -> QuerySet[CohortEnrollment]:
    """The cohort's learners who are not in `run` yet, for the enrol form."""
    return (
        cohort_learners(run.cohort)
        .exclude(course_enrollments__course_run=run)
        .order_by("learner__last_name", "learner__first_name")
    )


@dataclass(frozen=True)
class RunPhase:
    """Whether a run is scheduled, running or finished: from its dates and sessions."""

    label: str
    badge: str


def run_phase(run: CourseRun, *, today: datetime.date | None = None) -> RunPhase:
    today = today or timezone.localdate()
    if run.status == CourseRunStatus.CANCELLED:
        return RunPhase("Cancelled", "text-bg-secondary")
    if not getattr(run, "session_count", None):
        return RunPhase("No sessions yet", "text-bg-warning")
    if today < run.start_date:
        return RunPhase("Scheduled", "text-bg-info")
    if today > run.end_date:
        return RunPhase("Finished", "text-bg-light border")
    return RunPhase("Running", "text-bg-success")
