"""Moderation: who manages delivery gives a run a moderator (a second person: never someone who
teaches the run, its trainer or the trainer of one of its sessions, nor someone who recorded or
corrected its results); the moderator signs off the run's results, which makes them final and
gives each learner's course enrolment its score, grade, grade points and status from them."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from academics.grading import GradeRules, grade_rules_for
from accounts.models import User
from audit.services import audit_record
from delivery.access import MODERATE, manage_check, moderate_check
from delivery.models import (
    Assessment,
    AssessmentChange,
    AssessmentResult,
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseRun,
)
from delivery.services.gateway_sync import run_results_sync
from enrolments.models import EnrollmentState, ProgrammeOutcome

# Course enrolments out of a run's results: dropped from it, or the learner withdrawn from the
# cohort (or recorded as withdrawn from the programme). Nobody awaits their results.
LEFT_THE_RUN = (
    Q(status=CourseEnrollmentStatus.DROPPED)
    | Q(enrollment__state=EnrollmentState.WITHDRAWN)
    | Q(enrollment__programme_outcome=ProgrammeOutcome.WITHDRAWN)
)

# A course result without a percentage: competent / not yet competent.
COMPETENT, NOT_YET_COMPETENT = "C", "NYC"


@dataclass(frozen=True)
class CourseGrade:
    """A learner's final result in a run, from their results that are not void."""

    score: Decimal | None
    grade: str
    grade_points: Decimal | None
    passed: bool


def course_grade(results: list[Assessment], rules: GradeRules) -> CourseGrade | None:
    """The mean of the percentages, graded on `rules`; passed when every result passes and the
    mean reaches the pass mark. None without a result that counts."""
    counted = [result for result in results if result.result != AssessmentResult.VOID]
    if not counted:
        return None
    scores = [result.score for result in counted if result.score is not None]
    all_pass = all(result.result == AssessmentResult.PASS for result in counted)
    if not scores:
        return CourseGrade(None, COMPETENT if all_pass else NOT_YET_COMPETENT, None, all_pass)
    score = (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.01"))
    band = rules.band_for(score)
    return CourseGrade(score, band.symbol, band.grade_points, all_pass and rules.passes(score))


COURSE_RESULT_FIELDS = ["score", "grade", "grade_points", "status", "updated_at"]


def course_result_set(
    enrolment: CourseEnrollment, grade: CourseGrade | None, *, at: datetime
) -> None:
    """Give `enrolment` (unsaved: the caller saves COURSE_RESULT_FIELDS) the course result of
    its moderated results: a pass completes the course; with no result that counts any more
    (the last one voided) it has no grade and the learner is enrolled again."""
    enrolment.updated_at = at
    if grade is None:
        enrolment.score, enrolment.grade, enrolment.grade_points = None, "", None
        enrolment.status = CourseEnrollmentStatus.ENROLLED
        return
    enrolment.score, enrolment.grade = grade.score, grade.grade
    enrolment.grade_points = grade.grade_points
    enrolment.status = (
        CourseEnrollmentStatus.COMPLETED if grade.passed else CourseEnrollmentStatus.ENROLLED
    )


def _involved(run: CourseRun) -> Q:
    """The people who took part in `run`'s results and so cannot moderate them: its trainer,
    the trainer of any of its sessions, and whoever recorded, corrected or voided a result."""
    results = Assessment.objects.filter(enrolment__course_run=run)
    return (
        Q(trainer__runs=run)
        | Q(trainer__sessions__course_run=run)
        | Q(pk__in=results.values("assessor"))
        | Q(
            pk__in=AssessmentChange.objects.filter(
                assessment__in=results, changed_by__isnull=False
            ).values("changed_by")
        )
    )


def is_involved(run: CourseRun, user: User) -> bool:
    return User.objects.filter(_involved(run), pk=user.pk).exists()


def moderator_candidates(run: CourseRun) -> QuerySet[User]:
    """Who may be given `run` to moderate: active people whose roles allow moderating, other
    than those who took part in its results (_involved)."""
    app_label, codename = MODERATE.split(".")
    people = User.objects.filter(
        is_active=True,
        deleted_at__isnull=True,
        roles__permissions__content_type__app_label=app_label,
        roles__permissions__codename=codename,
    ).exclude(pk__in=User.objects.filter(_involved(run)).values("pk"))
    return people.distinct().order_by("full_name")


def run_moderator_assign(*, run: CourseRun, actor: User | None, moderator: User) -> CourseRun:
    """Give `run` to `moderator`: someone who may moderate and who does not teach it."""
    manage_check(actor=actor, action="run.moderator_assign", cohort=run.cohort)
    if not moderator.may(MODERATE):
        raise ValidationError(
            {"moderator": f"{moderator} may not moderate results: give them the moderator role."},
            code="not_a_moderator",
        )
    with transaction.atomic(durable=True):
        run = (
            CourseRun.objects.select_for_update(of=("self",))
            .select_related("trainer")
            .get(pk=run.pk)
        )
        if run.moderated_at is not None:
            raise ValidationError("The run's results are moderated already.", code="results_final")
        if run.trainer is not None and run.trainer.user_id == moderator.pk:
            raise ValidationError(
                {"moderator": "The run's trainer cannot moderate it: choose a second person."},
                code="moderator_is_trainer",
            )
        if is_involved(run, moderator):
            raise ValidationError(
                {
                    "moderator": f"{moderator} teaches a session of this run or recorded its "
                    "results: choose a second person."
                },
                code="moderator_involved",
            )
        old = run.moderator_id
        run.moderator = moderator
        run.save(update_fields=["moderator", "updated_at"])
        audit_record(
            actor=actor,
            action="run.moderator_assigned",
            entity=run,
            old_values={"moderator": old},
            new_values={"moderator": moderator.pk},
        )
    return run


def run_results_sign_off(*, run: CourseRun, actor: User | None) -> CourseRun:
    """The moderator signs off the run's results: every learner of the run needs a result that
    counts, and the moderator must have taken no part in them (_involved). The results become
    final and each course enrolment gets its score, grade and grade points; a learner who passed
    has completed the course."""
    moderate_check(actor=actor, run=run, action="run.results_sign_off")
    with transaction.atomic(durable=True):
        run = (
            CourseRun.objects.select_for_update(of=("self",))
            .select_related("cohort__programme", "trainer")
            .get(pk=run.pk)
        )
        if run.moderated_at is not None:
            raise ValidationError(
                "The run's results were signed off already.", code="results_final"
            )
        if actor is not None and run.trainer is not None and run.trainer.user_id == actor.pk:
            raise ValidationError(
                "The run's trainer cannot moderate it.", code="moderator_is_trainer"
            )
        if actor is not None and is_involved(run, actor):
            raise ValidationError(
                "You teach a session of this run or recorded or corrected its results: a second "
                "person moderates them.",
                code="moderator_assessed",
            )
        enrolments = list(
            CourseEnrollment.objects.filter(course_run=run)
            .exclude(LEFT_THE_RUN)
            .select_related("enrollment__learner")
            .prefetch_related("assessments")
        )
        if not enrolments:
            raise ValidationError("The run has no learners to moderate.", code="no_learners")
        rules = grade_rules_for(run.cohort.programme)
        grades = {e.pk: course_grade(list(e.assessments.all()), rules) for e in enrolments}
        missing = [e.enrollment.learner.full_name for e in enrolments if grades[e.pk] is None]
        if missing:
            raise ValidationError(
                "%(n)s learner(s) have no result yet: %(names)s.",
                code="results_missing",
                params={"n": len(missing), "names": ", ".join(missing[:10])},
            )
        now = timezone.now()
        for enrolment in enrolments:
            course_result_set(enrolment, grades[enrolment.pk], at=now)
        CourseEnrollment.objects.bulk_update(enrolments, COURSE_RESULT_FIELDS)
        run.moderated_at, run.moderated_by = now, actor
        run.save(update_fields=["moderated_at", "moderated_by", "updated_at"])
        passed = sum(1 for grade in grades.values() if grade and grade.passed)
        audit_record(
            actor=actor,
            action="run.results_moderated",
            entity=run,
            new_values={
                "learners": len(enrolments),
                "passed": passed,
                "not_yet_competent": len(enrolments) - passed,
                "grading_scale": rules.name,
            },
        )
        run_results_sync(run)
    return run
