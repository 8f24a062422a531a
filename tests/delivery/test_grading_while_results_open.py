"""How a programme is graded stays put while its results wait for moderation: each result's
pass or fail follows the pass mark at entry, and the moderator grades on the scale of the day.
A scale's name may still change; once the results are moderated, anything may."""

# ruff: noqa: F811 (the fixtures of tests.delivery.results_support are imported by name)

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from academics.grading import (
    Band,
    grade_rules_for,
    grading_scale_create,
    grading_scale_make_default,
    grading_scale_update,
    programme_grading_scale_set,
)
from delivery.services.assessments import gradebook_save
from delivery.services.moderation import run_moderator_assign, run_results_sign_off
from tests.delivery.results_support import moderator, run_with  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

BANDS = [Band(Decimal("50"), "P", Decimal("1")), Band(Decimal("0"), "F", Decimal("0"))]


def test_scales_do_not_change_under_results_waiting_for_moderation(admin, run_with, moderator):
    default = grading_scale_create(
        actor=admin, name="Default", pass_mark=Decimal("50"), bands=BANDS
    )
    other = grading_scale_create(actor=admin, name="Other", pass_mark=Decimal("60"), bands=BANDS)
    course = run_with(1)
    programme = course.run.cohort.programme
    gradebook_save(
        run=course.run, actor=course.trainer, cells={(course.enrolments[0].pk, "Exam"): "55"}
    )
    where = f"{course.run.course_ref} of {course.run.cohort.name} has results not yet moderated"
    with pytest.raises(ValidationError, match=where):
        grading_scale_update(
            scale=default, actor=admin, name="Default", pass_mark=Decimal("60"), bands=BANDS
        )
    with pytest.raises(ValidationError, match="programme's scale cannot change"):
        programme_grading_scale_set(programme=programme, actor=admin, scale=other)
    with pytest.raises(ValidationError, match="default scale cannot change"):
        grading_scale_make_default(scale=other, actor=admin)
    grading_scale_update(
        scale=default, actor=admin, name="Renamed", pass_mark=Decimal("50"), bands=BANDS
    )
    grading_scale_update(
        scale=other, actor=admin, name="Other", pass_mark=Decimal("70"), bands=BANDS
    )
    assert grade_rules_for(programme).pass_mark == Decimal("50")

    course.run = run_moderator_assign(run=course.run, actor=admin, moderator=moderator)
    run_results_sign_off(run=course.run, actor=moderator)
    programme = programme_grading_scale_set(programme=programme, actor=admin, scale=other)
    assert grade_rules_for(programme).pass_mark == Decimal("70")


def test_the_scales_page_says_why_a_programmes_scale_stays(admin_client, admin, run_with):
    grading_scale_create(actor=admin, name="Default", pass_mark=Decimal("50"), bands=BANDS)
    other = grading_scale_create(actor=admin, name="Other", pass_mark=Decimal("60"), bands=BANDS)
    course = run_with(1)
    gradebook_save(
        run=course.run, actor=course.trainer, cells={(course.enrolments[0].pk, "Exam"): "55"}
    )
    programme = course.run.cohort.programme
    url = reverse("academics:programme_grading_scale", args=[programme.pk])
    response = admin_client.post(url, {"grading_scale": other.pk}, follow=True)
    assert "has results not yet moderated" in response.content.decode()
    programme.refresh_from_db()
    assert programme.grading_scale is None
