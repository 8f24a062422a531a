"""The results rules: grading scales, the gradebook (bulk save, corrections and voids with their
history), moderation, course grades from moderated results, programme outcomes and the cohort
completion guard. Each write is checked for its audit event and each refusal for its reason."""

# ruff: noqa: F811 (the fixtures of tests.delivery.results_support are imported by name)

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from academics.grading import (
    BUILT_IN,
    Band,
    grade_rules_for,
    grading_scale_create,
    grading_scale_delete,
    grading_scale_make_default,
    programme_grading_scale_set,
)
from academics.models import GradingScale
from accounts.models import SystemRole
from accounts.permissions import ActionRefused
from audit.models import AuditEvent
from audit.services import CHANGED
from cohorts.selectors import cohort_completion_blockers
from delivery.models import AssessmentChange, AssessmentResult, CourseEnrollmentStatus
from delivery.services.assessments import Mark, assessment_void, gradebook_save, mark_parse
from delivery.services.moderation import run_moderator_assign, run_results_sign_off
from delivery.services.outcomes import cohort_outcomes_record, programme_outcome_record
from enrolments.models import CohortEnrollment, ProgrammeOutcome
from learners.models import LearnerStatus
from tests.delivery.results_support import moderator, run_with  # noqa: F401 (fixtures)
from tests.factories import (
    CohortFactory,
    CourseFactory,
    CourseRunFactory,
    TrainerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TEN_BANDS = [
    Band(Decimal("80"), "A", Decimal("4")),
    Band(Decimal("65"), "B", Decimal("3")),
    Band(Decimal("50"), "C", Decimal("2")),
    Band(Decimal("0"), "F", Decimal("0")),
]


def last_event(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("pk")


def cells(run_with_learners, column: str, *values: str) -> dict[tuple[int, str], str]:
    return {
        (enrolment.pk, column): value
        for enrolment, value in zip(run_with_learners.enrolments, values, strict=True)
    }


# Grading scales


def test_results_are_graded_on_the_built_in_scale_until_the_institution_has_one(institution):
    assert grade_rules_for(None) == BUILT_IN
    assert BUILT_IN.band_for(Decimal("74.99")).symbol == "B"
    assert not BUILT_IN.passes(Decimal("49.99"))


def test_the_first_scale_becomes_the_default_and_programmes_may_name_their_own(admin, run_with):
    first = grading_scale_create(
        actor=admin, name="Strict", pass_mark=Decimal("60"), bands=TEN_BANDS
    )
    assert first.is_default
    event = last_event("grading_scale.created")
    assert event.actor_id == admin.pk
    assert event.new_values["bands"][0] == ["80.00", "A", "4.00"]
    run = run_with(1).run
    programme = run.cohort.programme
    assert grade_rules_for(programme).pass_mark == Decimal("60")

    own = grading_scale_create(
        actor=admin, name="Lenient", pass_mark=Decimal("40"), bands=TEN_BANDS
    )
    assert not own.is_default
    programme = programme_grading_scale_set(programme=programme, actor=admin, scale=own)
    assert grade_rules_for(programme).name == "Lenient"
    assert last_event("programme.grading_scale_set").new_values == {"grading_scale": "Lenient"}

    grading_scale_make_default(scale=own, actor=admin)
    first.refresh_from_db()
    assert not first.is_default
    assert GradingScale.objects.get(is_default=True) == own
    assert last_event("grading_scale.made_default").old_values == {"default_scale": "Strict"}


@pytest.mark.parametrize(
    ("bands", "code"),
    [
        ([Band(Decimal("50"), "P", Decimal("1"))], "no_zero_band"),
        (
            [Band(Decimal("50"), "P", Decimal("1")), Band(Decimal("0"), "p", Decimal("0"))],
            "symbol_repeated",
        ),
        (
            [Band(Decimal("50"), "P", Decimal("0")), Band(Decimal("0"), "F", Decimal("1"))],
            "points_not_ordered",
        ),
        ([], "no_bands"),
    ],
)
def test_a_scale_that_leaves_percentages_ungraded_is_refused(admin, bands, code):
    with pytest.raises(ValidationError) as refused:
        grading_scale_create(actor=admin, name="Odd", pass_mark=Decimal("50"), bands=bands)
    assert refused.value.code == code
    assert not GradingScale.objects.filter(name="Odd").exists()


def test_a_scale_a_programme_uses_is_not_deleted(admin, run_with):
    scale = grading_scale_create(actor=admin, name="Used", pass_mark=Decimal("50"), bands=TEN_BANDS)
    programme = run_with(1).run.cohort.programme
    programme_grading_scale_set(programme=programme, actor=admin, scale=scale)
    with pytest.raises(ValidationError, match=programme.code):
        grading_scale_delete(scale=scale, actor=admin)
    programme_grading_scale_set(programme=programme, actor=admin, scale=None)
    grading_scale_delete(scale=scale, actor=admin)
    assert not GradingScale.objects.filter(name="Used").exists()
    assert last_event("grading_scale.deleted").old_values["name"] == "Used"


def test_only_who_manages_the_catalogue_sets_up_scales(institution):
    trainer = UserFactory(roles=[SystemRole.TRAINER])
    with pytest.raises(ActionRefused):
        grading_scale_create(actor=trainer, name="Mine", pass_mark=Decimal("50"), bands=TEN_BANDS)
    assert last_event("permission.denied").entity_id == "grading_scale.create"


# The gradebook


@pytest.mark.parametrize(
    ("text", "score", "result"),
    [
        ("67", Decimal("67.00"), "pass"),
        ("49,5%", Decimal("49.50"), "fail"),
        (" C ", None, "pass"),
        ("NYC", None, "fail"),
        ("void", None, "void"),
    ],
)
def test_a_cell_is_read_as_a_percentage_or_a_result(text, score, result):
    assert mark_parse(text, pass_mark=Decimal("50")) == Mark(score, result)


@pytest.mark.parametrize("text", ["101", "abc", "-1", "NaN"])
def test_a_cell_that_is_not_a_result_is_refused(text):
    with pytest.raises(ValidationError):
        mark_parse(text, pass_mark=Decimal("50"))


def test_a_trainer_saves_a_gradebook_in_one_go(run_with):
    course = run_with(3)
    saved = gradebook_save(
        run=course.run,
        actor=course.trainer,
        cells=cells(course, "Summative", "72", "40", ""),
    )
    assert (saved.created, saved.corrected) == (2, 0)
    first, second = (e.assessments.get() for e in course.enrolments[:2])
    assert (first.score, first.result, first.assessor) == (Decimal("72"), "pass", course.trainer)
    assert second.result == AssessmentResult.FAIL
    event = last_event("gradebook.saved")
    assert event.entity_id == str(course.run.pk)
    assert event.new_values["created"] == 2
    assert event.new_values["assessment_types"] == ["Summative"]


def test_a_correction_needs_a_reason_and_keeps_the_earlier_result(run_with):
    course = run_with(2)
    gradebook_save(run=course.run, actor=course.trainer, cells=cells(course, "Test", "72", "40"))
    with pytest.raises(ValidationError, match="say why"):
        gradebook_save(
            run=course.run, actor=course.trainer, cells=cells(course, "Test", "72", "45")
        )
    saved = gradebook_save(
        run=course.run,
        actor=course.trainer,
        cells=cells(course, "Test", "72", "55"),
        reason="Marked page 4 again",
    )
    assert (saved.corrected, saved.unchanged) == (1, 1)
    assessment = course.enrolments[1].assessments.get()
    assert (assessment.score, assessment.result) == (Decimal("55"), "pass")
    change = AssessmentChange.objects.get(assessment=assessment)
    assert (change.old_score, change.old_result, change.new_result) == (
        Decimal("40"),
        "fail",
        "pass",
    )
    assert change.reason == "Marked page 4 again"
    event = last_event("gradebook.saved")
    assert event.new_values["corrected"] == [
        {"assessment": assessment.pk, "old": "40", "new": "55.00"}
    ]
    assert event.new_values["reason"] == CHANGED  # a reason may say something personal
    assert "Marked page" not in json.dumps(event.new_values)


def test_a_gradebook_with_a_bad_cell_saves_nothing_and_names_it(run_with):
    course = run_with(2)
    gradebook_save(run=course.run, actor=course.trainer, cells=cells(course, "Test", "72", ""))
    with pytest.raises(ValidationError) as refused:
        gradebook_save(
            run=course.run,
            actor=course.trainer,
            cells={**cells(course, "Test", "", "lots"), (course.enrolments[0].pk, "Quiz"): "60"},
        )
    messages = " ".join(refused.value.messages)
    assert "Learner 000, Test: a recorded result cannot be blanked" in messages
    assert "Learner 001, Test: lots is not a result" in messages
    assert not course.enrolments[0].assessments.filter(assessment_type="Quiz").exists()


def test_a_trainer_of_another_run_cannot_record_results(run_with):
    course = run_with(1)
    stranger = TrainerFactory().user
    CourseRunFactory(trainer=stranger.trainer)
    with pytest.raises(ActionRefused):
        gradebook_save(run=course.run, actor=stranger, cells=cells(course, "Test", "80"))
    assert last_event("permission.denied").entity_id == "gradebook.save"
    assert not course.enrolments[0].assessments.exists()


def test_a_void_needs_a_reason_and_leaves_the_result_in_the_history(run_with):
    course = run_with(1)
    gradebook_save(run=course.run, actor=course.trainer, cells=cells(course, "Test", "72"))
    assessment = course.enrolments[0].assessments.get()
    with pytest.raises(ValidationError, match="Say why"):
        assessment_void(assessment=assessment, actor=course.trainer, reason="  ")
    assessment_void(assessment=assessment, actor=course.trainer, reason="Copied answers")
    assessment.refresh_from_db()
    assert (assessment.result, assessment.score, assessment.void_reason) == (
        "void",
        Decimal("72"),
        "Copied answers",
    )
    change = assessment.changes.get()
    assert (change.old_result, change.new_result, change.reason) == (
        "pass",
        "void",
        "Copied answers",
    )
    event = last_event("assessment.voided")
    assert event.old_values == {"result": "pass", "score": "72.00"}
    assert event.new_values["void_reason"] == CHANGED  # a reason may say something personal
    assert "Copied" not in json.dumps([event.old_values, event.new_values])
    with pytest.raises(ValidationError, match="void already"):
        assessment_void(assessment=assessment, actor=course.trainer, reason="Again")


def test_a_voided_result_is_replaced_by_a_correction(run_with):
    course = run_with(1)
    gradebook_save(run=course.run, actor=course.trainer, cells=cells(course, "Test", "72"))
    assessment = course.enrolments[0].assessments.get()
    assessment_void(assessment=assessment, actor=course.trainer, reason="Wrong paper")
    gradebook_save(
        run=course.run, actor=course.trainer, cells=cells(course, "Test", "64"), reason="Resit"
    )
    assessment.refresh_from_db()
    assert (assessment.result, assessment.void_reason) == ("pass", "")
    assert [c.new_result for c in assessment.changes.order_by("pk")] == ["void", "pass"]


# Moderation


def test_who_manages_delivery_assigns_a_second_person_as_moderator(admin, run_with, moderator):
    course = run_with(1)
    with pytest.raises(ValidationError, match="may not moderate"):
        run_moderator_assign(run=course.run, actor=admin, moderator=course.trainer)
    course.trainer.roles.add(*moderator.roles.all())
    course.trainer.__dict__.pop("permission_codes", None)
    with pytest.raises(ValidationError, match="trainer cannot moderate"):
        run_moderator_assign(run=course.run, actor=admin, moderator=course.trainer)
    with pytest.raises(ActionRefused):
        run_moderator_assign(run=course.run, actor=moderator, moderator=moderator)
    course.run = run_moderator_assign(run=course.run, actor=admin, moderator=moderator)
    course.run.refresh_from_db()
    assert course.run.moderator == moderator
    assert last_event("run.moderator_assigned").new_values == {"moderator": moderator.pk}


def test_the_moderator_signs_off_and_the_course_grades_follow(admin, run_with, moderator):
    course = run_with(3)
    course.run = run_moderator_assign(run=course.run, actor=admin, moderator=moderator)
    gradebook_save(
        run=course.run, actor=course.trainer, cells=cells(course, "Formative", "80", "60", "c")
    )
    gradebook_save(
        run=course.run, actor=course.trainer, cells=cells(course, "Summative", "70", "30", "nyc")
    )
    run_results_sign_off(run=course.run, actor=moderator)
    course.run.refresh_from_db()
    assert course.run.moderated_by == moderator
    grades = [
        (e.score, e.grade, e.grade_points, e.status)
        for e in (e.__class__.objects.get(pk=e.pk) for e in course.enrolments)
    ]
    assert grades == [
        (Decimal("75.00"), "A", Decimal("4.00"), CourseEnrollmentStatus.COMPLETED),
        (Decimal("45.00"), "F", Decimal("0.00"), CourseEnrollmentStatus.ENROLLED),
        (None, "NYC", None, CourseEnrollmentStatus.ENROLLED),
    ]
    event = last_event("run.results_moderated")
    assert event.new_values == {
        "learners": 3,
        "passed": 1,
        "not_yet_competent": 2,
        "grading_scale": BUILT_IN.name,
    }


def test_moderated_results_are_final(admin, run_with, moderator):
    course = run_with(1)
    course.run = run_moderator_assign(run=course.run, actor=admin, moderator=moderator)
    gradebook_save(run=course.run, actor=course.trainer, cells=cells(course, "Test", "90"))
    run_results_sign_off(run=course.run, actor=moderator)
    with pytest.raises(ValidationError, match="are final"):
        gradebook_save(
            run=course.run, actor=course.trainer, cells=cells(course, "Test", "91"), reason="x"
        )
    with pytest.raises(ValidationError, match="are final"):
        assessment_void(
            assessment=course.enrolments[0].assessments.get(), actor=course.trainer, reason="x"
        )
    with pytest.raises(ValidationError, match="signed off already"):
        run_results_sign_off(run=course.run, actor=moderator)


def test_sign_off_needs_every_learners_result_and_the_runs_own_moderator(
    admin, run_with, moderator
):
    course = run_with(2)
    course.run = run_moderator_assign(run=course.run, actor=admin, moderator=moderator)
    gradebook_save(run=course.run, actor=course.trainer, cells=cells(course, "Test", "90", ""))
    other = UserFactory(roles=[SystemRole.MODERATOR])
    with pytest.raises(ActionRefused):
        run_results_sign_off(run=course.run, actor=other)
    with pytest.raises(ValidationError, match="1 learner\\(s\\) have no result yet: Learner 001"):
        run_results_sign_off(run=course.run, actor=moderator)
    assert not AuditEvent.objects.filter(action="run.results_moderated").exists()


def test_whoever_assessed_results_cannot_moderate_them(admin, run_with, moderator):
    course = run_with(1)
    moderator.roles.add(*admin.roles.all())
    moderator.__dict__.pop("permission_codes", None)
    course.run = run_moderator_assign(run=course.run, actor=admin, moderator=moderator)
    gradebook_save(run=course.run, actor=moderator, cells=cells(course, "Test", "90"))
    with pytest.raises(ValidationError, match="second person"):
        run_results_sign_off(run=course.run, actor=moderator)


# Programme outcomes and the cohort completion guard


def moderated(course, admin, moderator, *values: str) -> None:
    course.run = run_moderator_assign(run=course.run, actor=admin, moderator=moderator)
    gradebook_save(run=course.run, actor=course.trainer, cells=cells(course, "Exam", *values))
    run_results_sign_off(run=course.run, actor=moderator)


def test_an_outcome_is_recorded_once_the_results_allow_it(admin, run_with, moderator):
    course = run_with(2)
    passed, failed = (e.enrollment for e in course.enrolments)
    day = datetime.date(2025, 11, 30)
    with pytest.raises(ValidationError, match=course.run.course.code):
        programme_outcome_record(
            enrollment=passed, actor=admin, outcome="completed", completion_date=day
        )
    with pytest.raises(ValidationError, match="not final"):
        programme_outcome_record(
            enrollment=failed, actor=admin, outcome="not_yet_competent", completion_date=day
        )
    moderated(course, admin, moderator, "80", "20")
    programme_outcome_record(
        enrollment=passed, actor=admin, outcome="completed", completion_date=day
    )
    passed.refresh_from_db()
    assert (passed.programme_outcome, passed.completion_date) == ("completed", day)
    event = last_event("enrollment.programme_outcome_recorded")
    assert event.new_values == {"programme_outcome": "completed", "completion_date": "2025-11-30"}
    with pytest.raises(ValidationError, match="Not every required course"):
        programme_outcome_record(
            enrollment=failed, actor=admin, outcome="completed", completion_date=day
        )
    programme_outcome_record(
        enrollment=failed, actor=admin, outcome="not_yet_competent", completion_date=day
    )
    passed.learner.refresh_from_db()
    failed.learner.refresh_from_db()
    assert passed.learner.status == LearnerStatus.ALUMNI
    assert last_event("learner.graduated").entity_id == str(passed.learner.pk)
    assert failed.learner.status != LearnerStatus.ALUMNI


def test_every_core_course_counts_even_without_a_run_yet(admin, run_with, moderator):
    course = run_with(1)
    CourseFactory(programme=course.run.cohort.programme, code="ZZ9")
    moderated(course, admin, moderator, "80")
    with pytest.raises(ValidationError, match="ZZ9"):
        programme_outcome_record(
            enrollment=course.enrolments[0].enrollment,
            actor=admin,
            outcome="completed",
            completion_date=datetime.date(2025, 1, 1),
        )


def test_a_withdrawal_is_recorded_at_any_time_and_a_future_date_refused(admin, run_with):
    enrollment = run_with(1).enrolments[0].enrollment
    with pytest.raises(ValidationError, match="future"):
        programme_outcome_record(
            enrollment=enrollment,
            actor=admin,
            outcome="withdrawn",
            completion_date=datetime.date(2999, 1, 1),
        )
    programme_outcome_record(
        enrollment=enrollment, actor=admin, outcome="withdrawn", completion_date=None
    )
    enrollment.refresh_from_db()
    assert enrollment.programme_outcome == ProgrammeOutcome.WITHDRAWN
    assert enrollment.completion_date is not None


def test_a_trainer_cannot_record_outcomes(run_with):
    course = run_with(1)
    with pytest.raises(ActionRefused):
        programme_outcome_record(
            enrollment=course.enrolments[0].enrollment,
            actor=course.trainer,
            outcome="withdrawn",
            completion_date=None,
        )


def test_a_cohort_completes_only_once_every_outcome_is_recorded(admin, run_with, moderator):
    course = run_with(3)
    cohort = course.run.cohort
    assert "3 learner(s) have no programme outcome recorded" in cohort_completion_blockers(cohort)
    moderated(course, admin, moderator, "80", "20", "70")
    recorded = cohort_outcomes_record(
        cohort=cohort, actor=admin, completion_date=datetime.date(2025, 12, 1)
    )
    assert recorded == 3
    outcomes = sorted(
        CohortEnrollment.objects.filter(cohort=cohort).values_list("programme_outcome", flat=True)
    )
    assert outcomes == ["completed", "completed", "not_yet_competent"]
    assert not [b for b in cohort_completion_blockers(cohort) if "outcome" in b]
    assert AuditEvent.objects.filter(action="enrollment.programme_outcome_recorded").count() == 3


def test_a_cohort_without_a_programme_is_not_held_by_outcomes(institution):
    assert not [b for b in cohort_completion_blockers(CohortFactory()) if "outcome" in b]
