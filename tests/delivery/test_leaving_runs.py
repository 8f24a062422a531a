"""Learners who leave a run: withdrawn from the cohort (their open runs drop them), recorded as
withdrawn from the programme, or dropped from one run by who manages delivery. Nobody waits
for their results, and a dropped elective no longer counts towards the programme outcome."""

# ruff: noqa: F811 (the fixtures of tests.delivery.results_support are imported by name)

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.permissions import ActionRefused
from audit.models import AuditEvent
from delivery.models import CourseEnrollment, CourseEnrollmentStatus
from delivery.selectors.results import gradebook_for
from delivery.services.assessments import gradebook_save
from delivery.services.moderation import run_moderator_assign, run_results_sign_off
from delivery.services.outcomes import programme_outcome_record
from delivery.services.runs import run_learner_drop
from enrolments.services import enrollment_withdraw
from tests.delivery.results_support import moderator, run_with  # noqa: F401 (fixtures)
from tests.factories import CourseFactory, CourseRunFactory

pytestmark = pytest.mark.django_db


def status_of(enrolment: CourseEnrollment) -> str:
    return CourseEnrollment.objects.get(pk=enrolment.pk).status


def test_a_learner_withdrawn_from_the_cohort_leaves_their_open_runs(admin, run_with, moderator):
    course = run_with(2)
    staying, leaving = course.enrolments
    course.run = run_moderator_assign(run=course.run, actor=admin, moderator=moderator)
    gradebook_save(run=course.run, actor=course.trainer, cells={(staying.pk, "Exam"): "70"})
    enrollment_withdraw(enrollment=leaving.enrollment, actor=admin, reason="Found a job")
    assert status_of(leaving) == CourseEnrollmentStatus.DROPPED
    assert status_of(staying) == CourseEnrollmentStatus.ENROLLED
    event = AuditEvent.objects.get(action="course_enrolments.dropped")
    assert event.new_values["course_enrolments"] == [leaving.pk]
    assert [row.enrolment.pk for row in gradebook_for(course.run).rows] == [staying.pk]
    run_results_sign_off(run=course.run, actor=moderator)
    assert status_of(staying) == CourseEnrollmentStatus.COMPLETED


def test_a_learner_recorded_as_withdrawn_is_not_awaited_by_moderation(admin, run_with, moderator):
    course = run_with(2)
    staying, leaving = course.enrolments
    course.run = run_moderator_assign(run=course.run, actor=admin, moderator=moderator)
    programme_outcome_record(
        enrollment=leaving.enrollment, actor=admin, outcome="withdrawn", completion_date=None
    )
    with pytest.raises(ValidationError, match="not a learner of this run"):
        gradebook_save(run=course.run, actor=course.trainer, cells={(leaving.pk, "Exam"): "70"})
    gradebook_save(run=course.run, actor=course.trainer, cells={(staying.pk, "Exam"): "70"})
    run_results_sign_off(run=course.run, actor=moderator)
    assert status_of(staying) == CourseEnrollmentStatus.COMPLETED


def test_who_manages_delivery_drops_a_learner_from_a_run_with_a_reason(admin, run_with):
    course = run_with(2)
    enrolment = course.enrolments[0]
    with pytest.raises(ActionRefused):
        run_learner_drop(actor=course.trainer, enrolment=enrolment, reason="Changed course")
    with pytest.raises(ValidationError, match="Say why"):
        run_learner_drop(actor=admin, enrolment=enrolment, reason=" ")
    run_learner_drop(actor=admin, enrolment=enrolment, reason="Changed course")
    assert status_of(enrolment) == CourseEnrollmentStatus.DROPPED
    event = AuditEvent.objects.get(action="course_enrolment.dropped")
    assert event.entity_id == str(enrolment.pk)
    assert event.old_values == {"status": "enrolled"}
    assert event.new_values == {"status": "dropped", "reason": "Changed course"}
    with pytest.raises(ValidationError, match="already"):
        run_learner_drop(actor=admin, enrolment=enrolment, reason="Again")


def test_a_core_course_is_not_dropped_once_its_results_are_moderated(admin, run_with, moderator):
    course = run_with(1)
    course.run = run_moderator_assign(run=course.run, actor=admin, moderator=moderator)
    gradebook_save(
        run=course.run, actor=course.trainer, cells={(course.enrolments[0].pk, "E"): "20"}
    )
    run_results_sign_off(run=course.run, actor=moderator)
    with pytest.raises(ValidationError, match="moderated and final"):
        run_learner_drop(actor=admin, enrolment=course.enrolments[0], reason="Failed it")
    assert status_of(course.enrolments[0]) == CourseEnrollmentStatus.ENROLLED


def test_a_failed_elective_once_dropped_no_longer_blocks_completion(admin, run_with, moderator):
    core = run_with(1)
    enrollment = core.enrolments[0].enrollment
    elective_run = CourseRunFactory(
        cohort=core.run.cohort,
        course=CourseFactory(programme=core.run.cohort.programme, is_core=False, code="EL1"),
    )
    elective = CourseEnrollment.objects.create(
        enrollment=enrollment,
        course=elective_run.course,
        course_run=elective_run,
        enrollment_date=elective_run.start_date,
    )
    for run, enrolment, mark in (
        (core.run, core.enrolments[0], "80"),
        (elective_run, elective, "20"),
    ):
        run = run_moderator_assign(run=run, actor=admin, moderator=moderator)
        gradebook_save(run=run, actor=run.trainer.user, cells={(enrolment.pk, "Exam"): mark})
        run_results_sign_off(run=run, actor=moderator)
    day = datetime.date(2025, 12, 1)
    with pytest.raises(ValidationError, match="EL1"):
        programme_outcome_record(
            enrollment=enrollment, actor=admin, outcome="completed", completion_date=day
        )
    run_learner_drop(actor=admin, enrolment=elective, reason="Chose another elective")
    programme_outcome_record(
        enrollment=enrollment, actor=admin, outcome="completed", completion_date=day
    )
    enrollment.refresh_from_db()
    assert enrollment.programme_outcome == "completed"


def test_the_run_page_drops_a_learner_and_others_get_404(admin_client, client_of, run_with):
    course = run_with(2)
    enrolment = course.enrolments[0]
    url = reverse("delivery:run_learner_drop", args=[course.run.pk, enrolment.pk])
    assert url in admin_client.get(reverse("delivery:run", args=[course.run.pk])).content.decode()
    assert client_of(course.trainer).get(url).status_code == 404
    refused = admin_client.post(url, {"reason": ""})
    assert refused.status_code == 400
    response = admin_client.post(url, {"reason": "Moved to the evening run"})
    assert response.status_code == 302
    assert status_of(enrolment) == CourseEnrollmentStatus.DROPPED
    assert admin_client.get(url).status_code == 404
