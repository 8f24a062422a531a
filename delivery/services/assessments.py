"""Recording results in a course run's gradebook: a whole grid saved at once (bulk writes, one
audit event), a correction needs a reason and a void needs one too; both keep the earlier value
in AssessmentChange. Once the run's results are moderated nothing changes, except that its
moderator or who manages delivery may void a result found wrong: the learner's course result
follows and the training gateway is told."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from academics.grading import grade_rules_for
from accounts.models import User
from accounts.permissions import may_reach, permission_check
from audit.services import audit_record, personal_values_masked
from delivery.access import MANAGE, may_moderate, teach_check
from delivery.models import (
    Assessment,
    AssessmentChange,
    AssessmentResult,
    Certificate,
    CourseEnrollment,
    CourseRun,
)
from delivery.services.gateway_sync import assessment_sync
from delivery.services.moderation import (
    COURSE_RESULT_FIELDS,
    LEFT_THE_RUN,
    course_grade,
    course_result_set,
)

TYPE_MAX_LENGTH = Assessment._meta.get_field("assessment_type").max_length or 100
PASS_WORDS = frozenset({"pass", "p", "c", "competent"})
FAIL_WORDS = frozenset({"fail", "f", "nyc", "not yet competent"})


@dataclass(frozen=True)
class Mark:
    """What a gradebook cell holds: a percentage (its result follows from the pass mark), or a
    result without one (competent / not yet competent), or `void` as shown for a voided one."""

    score: Decimal | None
    result: str


def mark_parse(text: str, *, pass_mark: Decimal) -> Mark | None:
    """A cell as typed or pasted: "67", "67.5", "67%", "pass"/"C", "fail"/"NYC", "void";
    None for a blank cell. A percentage passes at `pass_mark` or above."""
    value = text.strip().lower().rstrip("%").strip().replace(",", ".")
    if not value:
        return None
    if value == AssessmentResult.VOID:
        return Mark(None, AssessmentResult.VOID)
    if value in PASS_WORDS:
        return Mark(None, AssessmentResult.PASS)
    if value in FAIL_WORDS:
        return Mark(None, AssessmentResult.FAIL)
    try:
        score = Decimal(value)
    except InvalidOperation:
        raise ValidationError(
            "%(text)s is not a result: type a percentage (0 to 100), pass or fail.",
            code="mark_unreadable",
            params={"text": text.strip()},
        ) from None
    if not score.is_finite() or not 0 <= score <= 100:
        raise ValidationError(
            "%(text)s is not a percentage from 0 to 100.",
            code="mark_out_of_range",
            params={"text": text.strip()},
        )
    score = score.quantize(Decimal("0.01"))
    result = AssessmentResult.PASS if score >= pass_mark else AssessmentResult.FAIL
    return Mark(score, result)


def mark_shown(assessment: Assessment) -> str:
    """A recorded result as its gradebook cell shows it (mark_parse reads it back)."""
    if assessment.result == AssessmentResult.VOID:
        return "void"
    if assessment.score is not None:
        return f"{assessment.score.normalize():f}"
    return assessment.result


@dataclass
class GradebookSaved:
    created: int = 0
    corrected: int = 0
    unchanged: int = 0
    corrections: list[dict[str, object]] = field(default_factory=list)


def _not_final(run: CourseRun) -> None:
    if run.moderated_at is not None:
        raise ValidationError(
            "The results of %(run)s were moderated on %(date)s and are final.",
            code="results_final",
            params={"run": run, "date": f"{timezone.localtime(run.moderated_at):%d %b %Y}"},
        )


def _assessment_type(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError("Name the assessment of each column.", code="type_missing")
    if len(name) > TYPE_MAX_LENGTH:
        raise ValidationError(
            "An assessment's name has at most %(n)s characters.",
            code="type_too_long",
            params={"n": TYPE_MAX_LENGTH},
        )
    return name


def _corrections_write(changed: list[Assessment], *, assessor: User, at: datetime) -> None:
    """One UPDATE ... FROM (VALUES ...) for every corrected result: bulk_update's CASE per
    field takes seconds for a whole gradebook of corrections."""
    if not changed:
        return
    rows = ", ".join(["(%s, %s::numeric, %s)"] * len(changed))
    values = [value for a in changed for value in (a.pk, a.score, a.result)]
    table = connection.ops.quote_name(Assessment._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS a SET score = v.score, result = v.result, void_reason = '', "  # noqa: S608 (table name from the model)
            "assessor_id = %s, assessed_at = %s, updated_at = %s "
            f"FROM (VALUES {rows}) AS v(id, score, result) WHERE a.id = v.id",
            [assessor.pk, at, at, *values],
        )


def _assessor(run: CourseRun, actor: User | None) -> User:
    """Who a result is recorded as assessed by: the person saving it, or (the system saving)
    the run's trainer."""
    if actor is not None:
        return actor
    if run.trainer is None:
        raise ValidationError("The run has no trainer to record results for.", code="no_assessor")
    return run.trainer.user


def gradebook_save(
    *,
    run: CourseRun,
    actor: User | None,
    cells: dict[tuple[int, str], str],
    reason: str = "",
    seen: dict[tuple[int, str], str] | None = None,
) -> GradebookSaved:
    """Save a gradebook: `cells` maps (course enrolment id, assessment type) to the text of
    its cell. New results are created, changed ones corrected (which needs `reason`); a
    blank cell of a recorded result is refused (void it instead). With `seen` (what the
    cells showed when the page was opened), a cell left as shown is not applied and a cell
    changed on a result that changed since is refused. All or nothing."""
    teach_check(actor=actor, run=run, action="gradebook.save")
    reason = reason.strip()
    with transaction.atomic(durable=True):
        run = (
            CourseRun.objects.select_for_update(of=("self",))
            .select_related("cohort__programme", "trainer__user")
            .get(pk=run.pk)
        )
        _not_final(run)
        assessor = _assessor(run, actor)
        rules = grade_rules_for(run.cohort.programme)
        # Only what the save reads: whole rows (the learner's enrolment with its state machine,
        # every result's timestamps) cost more than the writes for a gradebook of 200.
        learner_names = {
            pk: " ".join(part for part in (first, last) if part)
            for pk, first, last in CourseEnrollment.objects.filter(course_run=run)
            .exclude(LEFT_THE_RUN)
            .values_list("pk", "enrollment__learner__first_name", "enrollment__learner__last_name")
        }
        existing = {
            (assessment.enrolment_id, assessment.assessment_type): assessment
            for assessment in Assessment.objects.filter(enrolment__course_run=run).only(
                "enrolment_id", "assessment_type", "score", "result"
            )
        }
        now = timezone.now()
        saved = GradebookSaved()
        new: list[Assessment] = []
        changed: list[Assessment] = []
        changes: list[AssessmentChange] = []
        problems: list[str] = []
        for (enrolment_id, raw_type), text in cells.items():
            who = learner_names.get(enrolment_id)
            if who is None:
                raise ValidationError(
                    "A row of the gradebook is not a learner of this run.", code="not_in_run"
                )
            assessment_type = _assessment_type(raw_type)
            shown = (seen or {}).get((enrolment_id, raw_type))
            if shown is not None:
                if text.strip() == shown.strip():
                    saved.unchanged += 1
                    continue
                now_shown = existing.get((enrolment_id, assessment_type))
                if (mark_shown(now_shown) if now_shown else "") != shown.strip():
                    problems.append(
                        f"{who}, {assessment_type}: the result changed since you opened the "
                        "gradebook: reload it."
                    )
                    continue
            try:
                mark = mark_parse(text, pass_mark=rules.pass_mark)
            except ValidationError as error:
                problems.append(f"{who}, {assessment_type}: {error.messages[0]}")
                continue
            current = existing.get((enrolment_id, assessment_type))
            if current is None:
                if mark is None:
                    continue
                if mark.result == AssessmentResult.VOID:
                    problems.append(f"{who}, {assessment_type}: there is no result to void.")
                    continue
                new.append(
                    Assessment(
                        enrolment_id=enrolment_id,
                        assessment_type=assessment_type,
                        score=mark.score,
                        result=mark.result,
                        assessed_at=now,
                        assessor=assessor,
                    )
                )
                continue
            if mark is None:
                problems.append(
                    f"{who}, {assessment_type}: a recorded result cannot be blanked; void it "
                    "with a reason from the learner's results."
                )
                continue
            if (mark.score, mark.result) == (current.score, current.result) or (
                mark.result == current.result == AssessmentResult.VOID
            ):
                # A void cell shows "void" without its score: as shown, it is unchanged.
                saved.unchanged += 1
                continue
            if mark.result == AssessmentResult.VOID:
                problems.append(
                    f"{who}, {assessment_type}: void a result from the learner's results, "
                    "with a reason."
                )
                continue
            changes.append(
                AssessmentChange(
                    assessment=current,
                    old_score=current.score,
                    old_result=current.result,
                    new_score=mark.score,
                    new_result=mark.result,
                    reason=reason,
                    changed_by=actor,
                )
            )
            saved.corrections.append(
                {
                    "assessment": current.pk,
                    "old": mark_shown(current),
                    "new": f"{mark.score}" if mark.score is not None else mark.result,
                }
            )
            current.score, current.result, current.void_reason = mark.score, mark.result, ""
            current.assessor, current.assessed_at, current.updated_at = assessor, now, now
            changed.append(current)
        if problems:
            raise ValidationError(problems, code="marks_refused")
        if changed and not reason:
            raise ValidationError(
                "%(n)s recorded result(s) changed: say why they are corrected.",
                code="correction_reason_missing",
                params={"n": len(changed)},
            )
        Assessment.objects.bulk_create(new)
        _corrections_write(changed, assessor=assessor, at=now)
        AssessmentChange.objects.bulk_create(changes)
        saved.created, saved.corrected = len(new), len(changed)
        if new or changed:
            # The reason is the corrections' (AssessmentChange.reason): recorded as changed.
            _old, values = personal_values_masked(
                AssessmentChange,
                None,
                {
                    "created": saved.created,
                    "corrected": saved.corrections,
                    **({"reason": reason} if changes else {}),
                    "assessment_types": sorted({a.assessment_type for a in [*new, *changed]}),
                },
            )
            audit_record(actor=actor, action="gradebook.saved", entity=run, new_values=values)
    return saved


def _void_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            {"reason": "Say why the result is voided: the reason stays in its history."},
            code="void_reason_missing",
        )
    return reason


def _voided(
    assessment: Assessment, *, actor: User | None, reason: str
) -> tuple[Assessment, dict[str, str]]:
    """Void `assessment` (inside the caller's transaction, its run locked), keeping its value
    in its history; returns it voided, with its earlier result and score for the audit event."""
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.result == AssessmentResult.VOID:
        raise ValidationError("This result is void already.", code="already_void")
    AssessmentChange.objects.create(
        assessment=assessment,
        old_score=assessment.score,
        old_result=assessment.result,
        new_score=assessment.score,
        new_result=AssessmentResult.VOID,
        reason=reason,
        changed_by=actor,
    )
    old = {"result": assessment.result, "score": str(assessment.score)}
    assessment.result, assessment.void_reason = AssessmentResult.VOID, reason
    assessment.save(update_fields=["result", "void_reason", "updated_at"])
    return assessment, old


def assessment_void(*, assessment: Assessment, actor: User | None, reason: str) -> Assessment:
    """Void a result before moderation, with a reason; the voided value stays in its history
    and on the page."""
    run = assessment.enrolment.course_run
    teach_check(actor=actor, run=run, action="assessment.void")
    reason = _void_reason(reason)
    with transaction.atomic(durable=True):
        run = CourseRun.objects.select_for_update().get(pk=run.pk)
        _not_final(run)
        assessment, old = _voided(assessment, actor=actor, reason=reason)
        audit_record(
            actor=actor,
            action="assessment.voided",
            entity=assessment,
            old_values=old,
            new_values={"result": AssessmentResult.VOID, "void_reason": reason},
        )
    return assessment


def may_void_moderated(user: User, run: CourseRun) -> bool:
    """Whether `user` may void a result of `run` once moderated: its moderator, or someone who
    manages delivery in its cohort."""
    return may_moderate(user, run) or (user.may(MANAGE) and may_reach(user, run.cohort))


@dataclass(frozen=True)
class ModeratedVoid:
    """A result voided after moderation, the learner's course enrolment with the course result
    their other results now give, and the certificates issued to the learner (left as they
    are: whoever issues certificates revokes or reissues them)."""

    assessment: Assessment
    enrolment: CourseEnrollment
    regraded: bool  # False for a learner who left the run (they have no course result)
    certificates: list[Certificate]


def moderated_result_void(
    *, assessment: Assessment, actor: User | None, reason: str
) -> ModeratedVoid:
    """Void a result of a moderated run, with a reason (a result found wrong after sign-off):
    the learner's course result is worked out again from their other results, and the training
    gateway is told of the void and of the course enrolment's new result."""
    # Read afresh: who moderates the run is what is asked, not what a caller's copy says.
    run = CourseRun.objects.select_related("cohort").get(pk=assessment.enrolment.course_run_id)
    permission_check(
        actor=actor,
        action="assessment.void_moderated",
        allowed=actor is None or may_void_moderated(actor, run),
    )
    reason = _void_reason(reason)
    with transaction.atomic(durable=True):
        run = (
            CourseRun.objects.select_for_update(of=("self",))
            .select_related("cohort__programme")
            .get(pk=run.pk)
        )
        if run.moderated_at is None:
            raise ValidationError(
                "The results of %(run)s are not moderated yet: the trainer voids a result from "
                "the learner's results.",
                code="results_open",
                params={"run": run},
            )
        assessment, old = _voided(assessment, actor=actor, reason=reason)
        enrolment = CourseEnrollment.objects.select_for_update().get(pk=assessment.enrolment_id)
        course_old = _course_result(enrolment)
        # A learner who left the run was given no course result at sign-off: none to redo.
        regraded = CourseEnrollment.objects.filter(pk=enrolment.pk).exclude(LEFT_THE_RUN).exists()
        if regraded:
            grade = course_grade(
                list(enrolment.assessments.all()), grade_rules_for(run.cohort.programme)
            )
            course_result_set(enrolment, grade, at=timezone.now())
            enrolment.save(update_fields=COURSE_RESULT_FIELDS)
        audit_record(
            actor=actor,
            action="assessment.voided_after_moderation",
            entity=assessment,
            old_values={**old, **course_old},
            new_values={
                "result": AssessmentResult.VOID,
                "void_reason": reason,
                **_course_result(enrolment),
            },
        )
        assessment_sync(assessment)
        certificates = list(
            Certificate.objects.filter(enrollment_id=enrolment.enrollment_id, revoked_at=None)
        )
    return ModeratedVoid(
        assessment=assessment, enrolment=enrolment, regraded=regraded, certificates=certificates
    )


def _course_result(enrolment: CourseEnrollment) -> dict[str, str]:
    """The course result of `enrolment` as the audit trail records it."""
    return {
        "course_score": str(enrolment.score),
        "course_grade": enrolment.grade,
        "course_status": enrolment.status,
    }
