"""Course runs: a course of the cohort's programme delivered to the cohort, and the course
enrolments that put the cohort's learners in it. Creating a cohort's runs is one action, which
also enrols every learner in the core courses that need nothing before them; electives and
later courses (those with prerequisites) are enrolled from the run, prerequisites checked."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from academics.models import AcademicSession, Course, CoursePrerequisite, Programme
from accounts.models import User
from audit.services import audit_record, personal_values_masked
from cohorts.models import Cohort
from delivery.access import manage_check
from delivery.models import (
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseRun,
    CourseRunStatus,
    Session,
    SessionStatus,
    Trainer,
)
from delivery.selectors.runs import cohort_learners
from delivery.services.gateway_sync import course_enrolments_sync, runs_sync
from enrolments.models import CohortEnrollment

CLOSED_TO_RUNS = "its course runs can no longer change"


@dataclass(frozen=True)
class RunsCreated:
    """What creating a cohort's runs did: the new runs and how many course enrolments."""

    runs: list[CourseRun]
    enrolments: int


def _current_session() -> AcademicSession | None:
    current: AcademicSession | None = AcademicSession.objects.filter(is_current=True).first()
    return current


def cohort_runs_create(
    *,
    actor: User | None,
    cohort: Cohort,
    trainer: Trainer | None = None,
    academic_session: AcademicSession | None = None,
    delivery_mode: str = "",
    venue: str = "",
) -> RunsCreated:
    """One run per active course of the cohort's programme that has none yet, over the cohort's
    dates, in `academic_session` (the current one by default); every learner of the cohort is
    enrolled in the runs of core courses without prerequisites."""
    manage_check(actor=actor, action="delivery.cohort_runs_create", cohort=cohort)
    with transaction.atomic(durable=True):
        cohort = (
            Cohort.objects.select_for_update(of=("self",))
            .select_related("programme")
            .get(pk=cohort.pk)
        )
        cohort.closed_check(CLOSED_TO_RUNS)
        if cohort.programme is None:
            raise ValidationError(
                "This cohort has no programme: choose its programme on the cohort's form first."
            )
        if trainer is not None and not trainer.active_status:
            raise ValidationError({"trainer": f"{trainer} is not an active trainer."})
        courses = list(
            cohort.programme.courses.filter(is_active=True)
            .exclude(
                pk__in=CourseRun.objects.filter(cohort=cohort)
                .exclude(status=CourseRunStatus.CANCELLED)
                .values("course_id")
            )
            .prefetch_related("prerequisites")
        )
        if not courses:
            raise ValidationError(
                f"Every active course of {cohort.programme} has a run in this cohort already."
                if cohort.programme.courses.filter(is_active=True).exists()
                else f"{cohort.programme} has no active courses: add its courses first."
            )
        session = academic_session or _current_session()
        runs = CourseRun.objects.bulk_create(
            [
                CourseRun(
                    cohort=cohort,
                    course=course,
                    academic_session=session,
                    course_ref=course.code,
                    title=course.name,
                    start_date=cohort.start_date,
                    end_date=cohort.end_date,
                    trainer=trainer,
                    venue=venue,
                    **({"delivery_mode": delivery_mode} if delivery_mode else {}),
                )
                for course in courses
            ]
        )
        first_courses = [
            run
            for run, course in zip(runs, courses, strict=True)
            if course.is_core and not course.prerequisites.all()
        ]
        learners = list(cohort_learners(cohort))
        enrolled = _enrol(runs=first_courses, learners=learners, programme=cohort.programme)
        audit_record(
            actor=actor,
            action="course_runs.created",
            entity=cohort,
            new_values={
                "runs": [run.course_ref for run in runs],
                "academic_session": session.code if session else None,
                "trainer": trainer.pk if trainer else None,
                "course_enrolments": enrolled,
            },
        )
        runs_sync(runs)
        course_enrolments_sync(
            CourseEnrollment.objects.filter(course_run__in=first_courses, enrollment__in=learners)
        )
        return RunsCreated(runs=runs, enrolments=enrolled)


def _enrol(
    *, runs: Iterable[CourseRun], learners: Sequence[CohortEnrollment], programme: Programme
) -> int:
    """Course enrolments of `learners` in `runs` (those they are not in already), each with the
    programme's fee and subsidy to start with."""
    today = timezone.localdate()
    made = CourseEnrollment.objects.bulk_create(
        [
            CourseEnrollment(
                enrollment=learner,
                course_id=run.course_id,
                academic_session_id=run.academic_session_id,
                course_run=run,
                enrollment_date=today,
                fee_amount=programme.fee_amount,
                fee_currency=programme.fee_currency,
                subsidy_info=programme.subsidy_info,
            )
            for run in runs
            for learner in learners
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    return len(made)


def prerequisites_missing(
    *, course: Course, learners: Sequence[CohortEnrollment]
) -> dict[int, list[Course]]:
    """For each of `learners` (by enrolment id) the prerequisites of `course` they have not
    completed, in any cohort; learners with none missing are left out. Two queries."""
    required = [
        link.prerequisite_course
        for link in CoursePrerequisite.objects.filter(course=course).select_related(
            "prerequisite_course"
        )
    ]
    if not required:
        return {}
    completed: dict[int, set[int]] = defaultdict(set)
    for learner_id, course_id in CourseEnrollment.objects.filter(
        enrollment__learner__in=[learner.learner_id for learner in learners],
        course__in=required,
        status=CourseEnrollmentStatus.COMPLETED,
    ).values_list("enrollment__learner_id", "course_id"):
        completed[learner_id].add(course_id)
    missing = {}
    for learner in learners:
        lacking = [prior for prior in required if prior.pk not in completed[learner.learner_id]]
        if lacking:
            missing[learner.pk] = lacking
    return missing


def run_learners_enrol(
    *, actor: User | None, run: CourseRun, learners: Sequence[CohortEnrollment]
) -> int:
    """Enrol `learners` (of the run's cohort) in `run`, all or none: refused, naming each
    learner and what they lack, when one has not completed a prerequisite of the course, and
    when the run would go past its capacity. How many were enrolled."""
    manage_check(actor=actor, action="delivery.run_learners_enrol", cohort=run.cohort)
    with transaction.atomic(durable=True):
        run = (
            CourseRun.objects.select_for_update(of=("self",))
            .select_related("cohort", "course__programme")
            .get(pk=run.pk)
        )
        run.cohort.closed_check(CLOSED_TO_RUNS)
        if run.status == CourseRunStatus.CANCELLED:
            raise ValidationError("This run is cancelled: nobody can be enrolled in it.")
        learners = list(
            cohort_learners(run.cohort)
            .filter(pk__in=[learner.pk for learner in learners])
            .exclude(course_enrollments__course_run=run)
        )
        if not learners:
            raise ValidationError("Choose at least one learner who is not in this run yet.")
        missing = prerequisites_missing(course=run.course, learners=learners)
        if missing:
            by_id = {learner.pk: learner for learner in learners}
            raise ValidationError(
                [
                    f"{by_id[pk].learner.full_name} has not completed "
                    f"{', '.join(str(course) for course in lacking)}, which {run.course_ref} "
                    "requires."
                    for pk, lacking in missing.items()
                ]
            )
        if run.capacity is not None:
            taken = run.enrollments.exclude(status=CourseEnrollmentStatus.DROPPED).count()
            if taken + len(learners) > run.capacity:
                raise ValidationError(
                    f"This run takes {run.capacity} learners and has {taken}: "
                    f"{len(learners)} more would be too many."
                )
        enrolled = _enrol(runs=[run], learners=learners, programme=run.course.programme)
        audit_record(
            actor=actor,
            action="course_enrolments.created",
            entity=run,
            new_values={"enrolments": sorted(learner.pk for learner in learners)},
        )
        course_enrolments_sync(
            CourseEnrollment.objects.filter(course_run=run, enrollment__in=learners)
        )
        return enrolled


def run_learner_drop(*, actor: User | None, enrolment: CourseEnrollment, reason: str) -> None:
    """Take a learner out of a run (their results stay, and stop counting). Refused once the
    run's results are moderated, except for an elective the learner did not pass: dropped, it
    no longer stands between them and their programme outcome."""
    run = enrolment.course_run
    manage_check(actor=actor, action="delivery.run_learner_drop", cohort=run.cohort)
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {"reason": "Say why the learner leaves the run."}, code="drop_reason_missing"
        )
    with transaction.atomic(durable=True):
        run = CourseRun.objects.select_for_update(of=("self",)).get(pk=run.pk)
        enrolment = (
            CourseEnrollment.objects.select_for_update(of=("self",))
            .select_related("course", "enrollment__learner")
            .get(pk=enrolment.pk)
        )
        who = enrolment.enrollment.learner.full_name
        if enrolment.status == CourseEnrollmentStatus.DROPPED:
            raise ValidationError(f"{who} has left this run already.", code="dropped_already")
        if run.moderated_at is not None and (
            enrolment.course.is_core or enrolment.status == CourseEnrollmentStatus.COMPLETED
        ):
            raise ValidationError(
                f"The results of {run.course_ref} are moderated and final: only an elective "
                f"{who} did not pass can still be dropped.",
                code="results_final",
            )
        old_status = enrolment.status
        enrolment.status = CourseEnrollmentStatus.DROPPED
        enrolment.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="course_enrolment.dropped",
            entity=enrolment,
            old_values={"status": old_status},
            new_values={"status": CourseEnrollmentStatus.DROPPED, "reason": reason},
        )
        course_enrolments_sync(CourseEnrollment.objects.filter(pk=enrolment.pk))


def enrollment_withdrawn_drop_runs(
    sender: type[CohortEnrollment],
    *,
    enrollment: CohortEnrollment,
    actor: User | None,
    **kwargs: Any,
) -> None:
    """A learner withdrawn from their cohort leaves the runs whose results are not final, so
    that nobody waits for their results (a final result stays as it is)."""
    leaving = list(
        CourseEnrollment.objects.filter(
            enrollment=enrollment,
            status=CourseEnrollmentStatus.ENROLLED,
            course_run__moderated_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    if not leaving:
        return
    CourseEnrollment.objects.filter(pk__in=leaving).update(
        status=CourseEnrollmentStatus.DROPPED, updated_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action="course_enrolments.dropped",
        entity=enrollment,
        new_values={"course_enrolments": leaving, "reason": "Withdrawn from the cohort."},
    )
    course_enrolments_sync(CourseEnrollment.objects.filter(pk__in=leaving))


@dataclass(frozen=True)
class RunChanges:
    """What an admin may change on a run."""

    title: str
    start_date: date
    end_date: date
    delivery_mode: str
    venue: str
    capacity: int | None
    trainer: Trainer | None


def _run_locked_open(run: CourseRun) -> CourseRun:
    """The run locked for a change, refused while its cohort is closed to runs."""
    run = CourseRun.objects.select_for_update(of=("self",)).select_related("cohort").get(pk=run.pk)
    run.cohort.closed_check(CLOSED_TO_RUNS)
    return run


def run_update(*, actor: User | None, run: CourseRun, changes: RunChanges) -> CourseRun:
    """Change a run's dates, mode, venue, capacity or trainer. Refused when a scheduled
    session would fall outside the new dates, naming it."""
    manage_check(actor=actor, action="delivery.run_update", cohort=run.cohort)
    with transaction.atomic(durable=True):
        run = _run_locked_open(run)
        new: dict[str, Any] = {
            "title": changes.title,
            "start_date": changes.start_date,
            "end_date": changes.end_date,
            "delivery_mode": changes.delivery_mode,
            "venue": changes.venue,
            "capacity": changes.capacity,
            "trainer_id": changes.trainer.pk if changes.trainer else None,
        }
        old = {name: getattr(run, name) for name in new}
        changed = [name for name in new if old[name] != new[name]]
        if not changed:
            return run
        if changes.end_date < changes.start_date:
            raise ValidationError({"end_date": "The run cannot end before it starts."})
        outside = (
            Session.objects.filter(course_run=run, status=SessionStatus.SCHEDULED)
            .exclude(session_date__range=(changes.start_date, changes.end_date))
            .order_by("session_date")
            .first()
        )
        if outside is not None:
            raise ValidationError(
                f"The session on {outside.session_date:%d %b %Y} falls outside these dates: "
                "move or cancel it first."
            )
        for name in changed:
            setattr(run, name, new[name])
        run.full_clean(exclude=["cohort", "course"])
        run.save(update_fields=[*changed, "updated_at"])
        audit_record(
            actor=actor,
            action="course_run.changed",
            entity=run,
            old_values={name: old[name] for name in changed},
            new_values={name: new[name] for name in changed},
        )
        runs_sync([run])
        return run


def run_cancel(*, actor: User | None, run: CourseRun, reason: str) -> CourseRun:
    """Cancel a run with a reason: its scheduled sessions whose registers are not signed off
    are cancelled with it, and the gateway is told to cancel the run's registration (a run it
    never had is not sent). Refused once the run's results are moderated: they are final."""
    manage_check(actor=actor, action="delivery.run_cancel", cohort=run.cohort)
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {"reason": "Say why the run is cancelled: the gateway is told the reason."},
            code="cancel_reason_missing",
        )
    with transaction.atomic(durable=True):
        run = _run_locked_open(run)
        if run.status == CourseRunStatus.CANCELLED:
            raise ValidationError("This run is cancelled already.", code="cancelled_already")
        if run.moderated_at is not None:
            raise ValidationError(
                f"The results of {run.course_ref} are moderated and final: the run took place "
                "and cannot be cancelled.",
                code="results_final",
            )
        old_status = run.status
        run.cancel()
        run.cancellation_reason = reason
        run.save(update_fields=["status", "cancellation_reason", "updated_at"])
        sessions = Session.objects.filter(
            course_run=run, status=SessionStatus.SCHEDULED, register_signed_off_at__isnull=True
        )
        cancelled_sessions = sorted(sessions.values_list("pk", flat=True))
        sessions.update(
            status=SessionStatus.CANCELLED, cancellation_reason=reason, updated_at=timezone.now()
        )
        # The reason, which the run's sessions take, may say something personal (as theirs).
        old_values, new_values = personal_values_masked(
            Session,
            {"status": old_status},
            {
                "status": CourseRunStatus.CANCELLED,
                "cancellation_reason": reason,
                "sessions_cancelled": cancelled_sessions,
            },
        )
        audit_record(
            actor=actor,
            action="course_run.cancelled",
            entity=run,
            old_values=old_values,
            new_values=new_values,
        )
        runs_sync([run])
        return run
