"""Voiding a result after its run's results are moderated: only the run's moderator or who
manages delivery in its cohort, with a reason; the learner's course result follows from their
other results, the change is audited, the training gateway gets the void (with its reason) and
the course enrolment's new standing, and an issued certificate is left alone but named."""

# ruff: noqa: F811 (the fixtures of tests.delivery.results_support are imported by name)

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import SystemRole
from accounts.permissions import ActionRefused
from accounts.services import role_create
from audit.models import AuditEvent
from audit.services import CHANGED
from delivery.gateway import GENERIC_VOID_REASON, void_reason_reference
from delivery.models import (
    Assessment,
    AssessmentResult,
    Certificate,
    CertificateKind,
    CourseEnrollment,
    CourseEnrollmentStatus,
)
from delivery.services.assessments import gradebook_save, moderated_result_void
from delivery.services.gateway_sync import runs_sync
from delivery.services.moderation import run_moderator_assign, run_results_sign_off
from integrations.models import SyncJob, SyncJobType, SyncStatus
from integrations.services import sync_jobs_sweep
from learners.models import ConsentKind
from learners.services import consent_withdraw
from tests.delivery.results_support import moderator, run_with  # noqa: F401 (fixtures)
from tests.factories import UserFactory
from tests.learners.support import consents_give

pytestmark = pytest.mark.django_db


def moderated(course, admin, moderator, results: dict[str, list[str]]):
    """Record `results` (assessment -> one cell per learner) and have `moderator` sign off."""
    course.run = run_moderator_assign(run=course.run, actor=admin, moderator=moderator)
    for name, values in results.items():
        gradebook_save(
            run=course.run,
            actor=course.trainer,
            cells={(e.pk, name): v for e, v in zip(course.enrolments, values, strict=True)},
        )
    run_results_sign_off(run=course.run, actor=moderator)


def result(enrolment: CourseEnrollment, name: str) -> Assessment:
    return enrolment.assessments.get(assessment_type=name)


def course_result(enrolment: CourseEnrollment):
    enrolment.refresh_from_db()
    return (enrolment.score, enrolment.grade, enrolment.grade_points, enrolment.status)


def test_the_moderator_voids_a_result_and_the_course_grade_follows(admin, run_with, moderator):
    course = run_with(1)
    moderated(course, admin, moderator, {"Formative": ["80"], "Summative": ["30"]})
    (enrolment,) = course.enrolments
    assert course_result(enrolment) == (
        Decimal("55.00"),
        "D",
        Decimal("1.00"),
        CourseEnrollmentStatus.ENROLLED,  # the failed summative holds the course back
    )

    done = moderated_result_void(
        assessment=result(enrolment, "Summative"), actor=moderator, reason="Wrong memo used"
    )

    summative = result(enrolment, "Summative")
    assert (summative.result, summative.score, summative.void_reason) == (
        AssessmentResult.VOID,
        Decimal("30.00"),
        "Wrong memo used",
    )
    change = summative.changes.get()
    assert (change.old_result, change.new_result, change.reason, change.changed_by) == (
        AssessmentResult.FAIL,
        AssessmentResult.VOID,
        "Wrong memo used",
        moderator,
    )
    assert course_result(enrolment) == (
        Decimal("80.00"),
        "A",
        Decimal("4.00"),
        CourseEnrollmentStatus.COMPLETED,
    )
    assert (done.regraded, done.certificates) == (True, [])
    event = AuditEvent.objects.get(action="assessment.voided_after_moderation")
    assert (event.actor_id, event.entity_id) == (moderator.pk, str(summative.pk))
    assert event.old_values == {
        "result": "fail",
        "score": "30.00",
        "course_score": "55.00",
        "course_grade": "D",
        "course_status": "enrolled",
    }
    assert event.new_values == {
        "result": "void",
        "void_reason": CHANGED,  # a reason may say something personal
        "course_score": "80.00",
        "course_grade": "A",
        "course_status": "completed",
    }
    assert "memo" not in json.dumps([event.old_values, event.new_values])


def test_with_no_result_left_that_counts_the_course_has_no_grade(admin, run_with, moderator):
    course = run_with(1)
    moderated(course, admin, moderator, {"Exam": ["90"]})
    (enrolment,) = course.enrolments
    assert course_result(enrolment)[3] == CourseEnrollmentStatus.COMPLETED
    moderated_result_void(assessment=result(enrolment, "Exam"), actor=admin, reason="Cheating")
    assert course_result(enrolment) == (None, "", None, CourseEnrollmentStatus.ENROLLED)


def test_only_the_runs_moderator_or_who_manages_its_cohort_may_void(
    admin, run_with, moderator, super_admin
):
    course = run_with(1)
    moderated(course, admin, moderator, {"A": ["70"], "B": ["60"], "C": ["50"]})
    (enrolment,) = course.enrolments
    other_moderator = UserFactory(roles=[SystemRole.MODERATOR])
    manager_elsewhere = UserFactory(
        roles=[
            role_create(
                actor=super_admin,
                name="Delivery lead",
                description="Manages delivery in the cohorts they are given.",
                permission_codes=["delivery.manage_delivery"],
            )
        ]
    )
    assign_perm("cohorts.review_cohort", manager_elsewhere, run_with(1).run.cohort)
    for refused in (course.trainer, other_moderator, manager_elsewhere):
        with pytest.raises(ActionRefused):
            moderated_result_void(assessment=result(enrolment, "A"), actor=refused, reason="x")
    assert (
        AuditEvent.objects.filter(
            action="permission.denied", entity_id="assessment.void_moderated"
        ).count()
        == 3
    )
    assert result(enrolment, "A").result == AssessmentResult.PASS

    assign_perm("cohorts.review_cohort", manager_elsewhere, course.run.cohort)
    manager_elsewhere.__dict__.pop("_grant_checker", None)
    for allowed, name in ((moderator, "A"), (admin, "B"), (manager_elsewhere, "C")):
        moderated_result_void(assessment=result(enrolment, name), actor=allowed, reason="Mix-up")
        assert result(enrolment, name).result == AssessmentResult.VOID


def test_a_void_needs_a_reason_a_result_that_counts_and_moderated_results(
    admin, run_with, moderator
):
    course = run_with(1)
    (enrolment,) = course.enrolments
    course.run = run_moderator_assign(run=course.run, actor=admin, moderator=moderator)
    gradebook_save(run=course.run, actor=course.trainer, cells={(enrolment.pk, "Exam"): "72"})
    with pytest.raises(ValidationError, match="not moderated yet"):
        moderated_result_void(assessment=result(enrolment, "Exam"), actor=moderator, reason="x")
    run_results_sign_off(run=course.run, actor=moderator)
    with pytest.raises(ValidationError, match="Say why the result is voided"):
        moderated_result_void(assessment=result(enrolment, "Exam"), actor=moderator, reason=" ")
    assert result(enrolment, "Exam").result == AssessmentResult.PASS
    moderated_result_void(assessment=result(enrolment, "Exam"), actor=moderator, reason="Late")
    with pytest.raises(ValidationError, match="void already"):
        moderated_result_void(assessment=result(enrolment, "Exam"), actor=moderator, reason="Y")
    assert AuditEvent.objects.filter(action="assessment.voided_after_moderation").count() == 1


def test_an_issued_certificate_is_left_alone_and_named(admin, run_with, moderator):
    course = run_with(1)
    moderated(course, admin, moderator, {"Exam": ["90"], "Project": ["70"]})
    (enrolment,) = course.enrolments
    now = timezone.now()
    issued = Certificate.objects.create(
        enrollment=enrolment.enrollment,
        kind=CertificateKind.CERTIFICATE,
        verification_code="AAAA-BBBB-CCCC-DDDD",
        pdf="certificates/a.pdf",
        sha256="0" * 64,
        issued_at=now,
    )
    Certificate.objects.create(
        enrollment=enrolment.enrollment,
        kind=CertificateKind.STATEMENT_OF_RESULTS,
        verification_code="EEEE-FFFF-GGGG-HHHH",
        pdf="certificates/b.pdf",
        sha256="0" * 64,
        issued_at=now,
        revoked_at=now,
        revocation_reason="Reissued",
    )
    done = moderated_result_void(
        assessment=result(enrolment, "Exam"), actor=moderator, reason="Wrong paper"
    )
    assert done.certificates == [issued]
    issued.refresh_from_db()
    assert issued.revoked_at is None


def test_a_learner_who_left_the_run_keeps_no_course_result(admin, run_with, moderator):
    course = run_with(2)
    moderated(course, admin, moderator, {"Exam": ["90", "40"]})
    left = course.enrolments[1]
    CourseEnrollment.objects.filter(pk=left.pk).update(status=CourseEnrollmentStatus.DROPPED)
    before = course_result(left)
    done = moderated_result_void(assessment=result(left, "Exam"), actor=moderator, reason="x")
    assert not done.regraded
    assert course_result(left) == before


def test_the_gateway_gets_the_void_with_its_reason_and_the_new_standing(
    admin, run_with, moderator, connected
):
    course = run_with(1)
    runs_sync([course.run])
    (enrolment,) = course.enrolments
    consents_give(enrolment.enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)
    moderated(course, admin, moderator, {"Formative": ["80"], "Summative": ["30"]})
    sync_jobs_sweep()
    summative = result(enrolment, "Summative")
    reference = f"assessment-{summative.pk}"
    assert connected.record("assessment", reference).status == "active"
    held = connected.record("enrolment", f"course-enrolment-{enrolment.pk}")
    assert held.body["status"] == "Enrolled"

    before = SyncJob.objects.latest("pk").pk

    moderated_result_void(assessment=summative, actor=moderator, reason="Wrong memo used")

    queued = SyncJob.objects.filter(pk__gt=before)
    assert sorted(queued.values_list("job_type", "entity_id")) == sorted(
        [
            (SyncJobType.ASSESSMENT_VOID, str(summative.pk)),
            (SyncJobType.ENROLMENT_UPDATE, str(enrolment.pk)),
        ]
    )
    sync_jobs_sweep()
    voided = connected.record("assessment", reference)
    assert voided.status == "void"
    assert voided.body["voidReason"] == "Wrong memo used"
    assert connected.record("enrolment", f"course-enrolment-{enrolment.pk}").body["status"] == (
        "Completed"
    )
    summative.refresh_from_db()
    assert summative.sync_status == SyncStatus.CANCELLED
    formative = result(enrolment, "Formative")
    assert connected.record("assessment", f"assessment-{formative.pk}").version == 1


def test_a_void_of_a_learner_who_withdrew_consent_goes_with_a_generic_reason(
    admin, run_with, moderator, connected
):
    course = run_with(1)
    runs_sync([course.run])
    (enrolment,) = course.enrolments
    learner = enrolment.enrollment.learner
    consents_give(learner, ConsentKind.FUNDING_BODY_SHARING)
    moderated(course, admin, moderator, {"Summative": ["30"]})
    sync_jobs_sweep()
    summative = result(enrolment, "Summative")

    moderated_result_void(assessment=summative, actor=moderator, reason="Caught copying")
    void = SyncJob.objects.get(job_type=SyncJobType.ASSESSMENT_VOID)
    assert "Caught copying" not in json.dumps(void.payload)
    consent_withdraw(learner=learner, kind=ConsentKind.FUNDING_BODY_SHARING, actor=learner.user)
    sync_jobs_sweep()

    voided = connected.record("assessment", f"assessment-{summative.pk}")
    assert voided.status == "void"
    assert voided.body["voidReason"] == GENERIC_VOID_REASON
    summative.refresh_from_db()
    assert summative.sync_status == SyncStatus.CANCELLED


def test_a_changed_void_reason_makes_a_new_version_of_the_void(run_with):
    (enrolment,) = run_with(1).enrolments
    voided = Assessment(pk=1, enrolment=enrolment, void_reason="Wrong memo")
    first = void_reason_reference(voided)
    voided.void_reason = "Marked twice"
    assert void_reason_reference(voided) != first
    assert "Marked twice" not in json.dumps(void_reason_reference(voided))
