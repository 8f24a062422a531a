"""The results pages: who reaches them (everyone else gets 404), what the gradebook, the void
form, moderation, the grading scales, programme outcomes and a learner's own results do, and
the gradebook's query count at 10 and 200 learners."""

# ruff: noqa: F811 (the fixtures of tests.delivery.results_support are imported by name)

import datetime

import pytest
from django.urls import reverse

from academics.models import GradingScale
from accounts.models import SystemRole
from audit.models import AuditEvent
from delivery.models import Assessment
from delivery.services.assessments import assessment_void, gradebook_save
from tests.delivery.page_forms import form_as_posted
from tests.delivery.results_support import moderator, run_with  # noqa: F401 (fixtures)
from tests.factories import CourseRunFactory, TrainerFactory, UserFactory

pytestmark = pytest.mark.django_db

# The gradebook of a trainer, whatever the number of learners and results (the search path
# included): the session and person, the run and who may open it, the scale, the learners
# with their results.
GRADEBOOK_QUERIES = 24


def grid(course, column: str, *values: str) -> dict[str, str]:
    return {
        "type-new": column,
        **{f"cell-{e.pk}-new": v for e, v in zip(course.enrolments, values, strict=True)},
    }


def gradebook_as_posted(page) -> dict[str, str]:
    return form_as_posted(page.content.decode(), "data-gradebook")


def test_a_trainer_records_results_in_the_gradebook(client_of, run_with):
    course = run_with(2)
    client = client_of(course.trainer)
    url = reverse("delivery:gradebook", args=[course.run.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Learner 000, new assessment" in page.content.decode()
    response = client.post(url, grid(course, "Summative", "81", "C"))
    assert response.status_code == 302
    assert sorted(Assessment.objects.values_list("result", flat=True)) == ["pass", "pass"]
    page = client.get(url).content.decode()
    assert 'value="81"' in page
    assert "Summative" in page


def test_a_refused_gradebook_shows_what_was_typed_and_saves_nothing(client_of, run_with):
    course = run_with(2)
    response = client_of(course.trainer).post(
        reverse("delivery:gradebook", args=[course.run.pk]), grid(course, "Test", "81", "eighty")
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Learner 001, Test: eighty is not a result" in body
    assert 'value="eighty"' in body
    assert not Assessment.objects.exists()


def test_a_void_without_a_reason_is_refused_on_the_page(client_of, run_with):
    course = run_with(1)
    gradebook_save(
        run=course.run, actor=course.trainer, cells={(course.enrolments[0].pk, "Test"): "70"}
    )
    assessment = Assessment.objects.get()
    client = client_of(course.trainer)
    url = reverse("delivery:result_void", args=[assessment.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert "Say why the result is voided" in response.content.decode()
    response = client.post(url, {"reason": "Wrong learner"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Wrong learner" in page
    assert "70%" in page


def test_the_gradebook_saves_again_after_a_void(client_of, run_with):
    course = run_with(2)
    first, second = course.enrolments
    gradebook_save(
        run=course.run,
        actor=course.trainer,
        cells={(first.pk, "Test"): "72", (second.pk, "Test"): "55"},
    )
    client = client_of(course.trainer)
    voided = Assessment.objects.get(enrolment=first)
    client.post(reverse("delivery:result_void", args=[voided.pk]), {"reason": "Wrong paper"})
    url = reverse("delivery:gradebook", args=[course.run.pk])
    data = gradebook_as_posted(client.get(url))
    assert f"cell-{first.pk}-0" not in data
    data.update({f"cell-{second.pk}-0": "58", "reason": "Re-marked"})
    response = client.post(url, data)
    assert response.status_code == 302
    assert Assessment.objects.get(enrolment=second).score == 58
    assert Assessment.objects.get(enrolment=first).result == "void"


def test_a_void_shown_as_void_is_unchanged_in_a_save(run_with):
    course = run_with(1)
    cell = (course.enrolments[0].pk, "Test")
    gradebook_save(run=course.run, actor=course.trainer, cells={cell: "72"})
    assessment_void(assessment=Assessment.objects.get(), actor=course.trainer, reason="Mix-up")
    saved = gradebook_save(run=course.run, actor=course.trainer, cells={cell: "void"})
    assert (saved.unchanged, saved.corrected) == (1, 0)


def test_a_stale_gradebook_leaves_another_save_alone_and_refuses_a_clash(client_of, run_with):
    course = run_with(2)
    first, second = course.enrolments
    gradebook_save(
        run=course.run,
        actor=course.trainer,
        cells={(first.pk, "Test"): "70", (second.pk, "Test"): "50"},
    )
    client = client_of(course.trainer)
    url = reverse("delivery:gradebook", args=[course.run.pk])
    opened = gradebook_as_posted(client.get(url))
    assert opened[f"was-cell-{first.pk}-0"] == "70"
    gradebook_save(
        run=course.run,
        actor=course.trainer,
        cells={(first.pk, "Test"): "75"},
        reason="Added up again",
    )
    response = client.post(url, {**opened, f"cell-{second.pk}-0": "55", "reason": "Re-marked"})
    assert response.status_code == 302
    scores = dict(Assessment.objects.values_list("enrolment_id", "score"))
    assert scores == {first.pk: 75, second.pk: 55}
    refused = client.post(url, {**opened, f"cell-{first.pk}-0": "72", "reason": "Typo"})
    assert refused.status_code == 400
    assert "Learner 000, Test: the result changed since you opened the gradebook: reload it" in (
        refused.content.decode()
    )
    assert Assessment.objects.get(enrolment=first).score == 75


def test_people_outside_a_run_get_404_everywhere(client_of, run_with, moderator):
    course = run_with(1)
    gradebook_save(
        run=course.run, actor=course.trainer, cells={(course.enrolments[0].pk, "Test"): "70"}
    )
    assessment = Assessment.objects.get()
    other_trainer = TrainerFactory().user
    CourseRunFactory(trainer=other_trainer.trainer)
    learner = course.enrolments[0].enrollment.user
    urls = [
        ("get", reverse("delivery:gradebook", args=[course.run.pk])),
        (
            "get",
            reverse("delivery:gradebook_learner", args=[course.run.pk, course.enrolments[0].pk]),
        ),
        ("get", reverse("delivery:moderation", args=[course.run.pk])),
        ("post", reverse("delivery:result_void", args=[assessment.pk])),
        ("post", reverse("delivery:run_moderator", args=[course.run.pk])),
        ("get", reverse("delivery:cohort_outcomes", args=[course.run.cohort.pk])),
    ]
    for person in (other_trainer, moderator, learner):
        client = client_of(person)
        for method, url in urls:
            response = getattr(client, method)(url, {"reason": "x"} if method == "post" else None)
            assert response.status_code == 404, (person, url)
    assert AuditEvent.objects.filter(action="permission.denied").count() >= 3 * len(urls) - 1


def test_the_moderator_signs_off_from_the_moderation_page(
    client_of, admin_client, run_with, moderator
):
    course = run_with(1)
    url = reverse("delivery:moderation", args=[course.run.pk])
    response = admin_client.post(
        reverse("delivery:run_moderator", args=[course.run.pk]), {"moderator": course.trainer.pk}
    )
    assert response.status_code == 400
    admin_client.post(
        reverse("delivery:run_moderator", args=[course.run.pk]), {"moderator": moderator.pk}
    )
    client = client_of(moderator)
    response = client.post(url)
    assert response.status_code == 400
    assert "1 learner(s) have no result yet" in response.content.decode()
    gradebook_save(
        run=course.run, actor=course.trainer, cells={(course.enrolments[0].pk, "Test"): "90"}
    )
    assert client.post(url).status_code == 302
    course.enrolments[0].refresh_from_db()
    assert course.enrolments[0].grade == "A"
    page = client_of(course.trainer).get(reverse("delivery:gradebook", args=[course.run.pk]))
    assert "Results can no longer change" in page.content.decode()
    assert 'name="type-new"' not in page.content.decode()


def test_a_learner_sees_only_their_own_results(client_of, run_with):
    course = run_with(2)
    gradebook_save(
        run=course.run,
        actor=course.trainer,
        cells={(course.enrolments[0].pk, "Quiz"): "64", (course.enrolments[1].pk, "Quiz"): "12"},
    )
    page = client_of(course.enrolments[0].enrollment.user).get(reverse("delivery:my_results"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "64%" in body
    assert "12%" not in body
    assert "Provisional" in body


def test_grading_scales_are_set_up_by_who_manages_the_catalogue(admin_client, client_of, run_with):
    programme = run_with(1).run.cohort.programme
    url = reverse("academics:grading_scales")
    assert "Standard percentage scale" in admin_client.get(url).content.decode()
    form = admin_client.get(reverse("academics:grading_scale_new"))
    assert form.status_code == 200
    data = {
        "name": "Occupational",
        "pass_mark": "60",
        "bands-TOTAL_FORMS": "3",
        "bands-INITIAL_FORMS": "0",
        "bands-0-min_percentage": "60",
        "bands-0-symbol": "C",
        "bands-0-grade_points": "1",
        "bands-1-min_percentage": "0",
        "bands-1-symbol": "NYC",
        "bands-1-grade_points": "0",
    }
    assert admin_client.post(reverse("academics:grading_scale_new"), data).status_code == 302
    scale = GradingScale.objects.get(name="Occupational")
    assert scale.is_default
    refused = admin_client.post(
        reverse("academics:grading_scale_new"),
        {**data, "name": "Gap", "bands-1-min_percentage": "5"},
    )
    assert refused.status_code == 400
    assert "The lowest band must start at 0%" in refused.content.decode()
    admin_client.post(
        reverse("academics:programme_grading_scale", args=[programme.pk]),
        {"grading_scale": scale.pk},
    )
    programme.refresh_from_db()
    assert programme.grading_scale == scale
    trainer = client_of(UserFactory(roles=[SystemRole.TRAINER]))
    assert trainer.get(url).status_code == 404


def test_outcomes_are_recorded_from_the_cohort_page(admin_client, run_with):
    course = run_with(1)
    enrollment = course.enrolments[0].enrollment
    url = reverse("delivery:cohort_outcomes", args=[course.run.cohort.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        reverse("delivery:outcome_record", args=[enrollment.pk]),
        {
            f"e{enrollment.pk}-outcome": "completed",
            f"e{enrollment.pk}-completion_date": "2025-01-01",
        },
    )
    assert response.status_code == 400
    assert "Not every required course is completed" in response.content.decode()
    response = admin_client.post(
        reverse("delivery:outcome_record", args=[enrollment.pk]),
        {f"e{enrollment.pk}-outcome": "withdrawn"},
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.programme_outcome == "withdrawn"
    assert enrollment.completion_date == datetime.date.today()


@pytest.mark.parametrize("learners", [10, 200])
def test_the_gradebook_asks_the_same_number_of_queries_at_any_size(
    client_of, run_with, django_assert_num_queries, learners
):
    course = run_with(learners)
    gradebook_save(
        run=course.run,
        actor=course.trainer,
        cells={(e.pk, kind): "65" for e in course.enrolments for kind in ("Quiz", "Exam")},
    )
    client = client_of(course.trainer)
    url = reverse("delivery:gradebook", args=[course.run.pk])
    client.get(url)
    with django_assert_num_queries(GRADEBOOK_QUERIES):
        assert client.get(url).status_code == 200


def test_a_gradebook_that_changed_while_typing_is_refused(client_of, run_with):
    course = run_with(2)
    first, second = course.enrolments  # Learner 000, Learner 001 (the grid's order)
    gradebook_save(run=course.run, actor=course.trainer, cells={(second.pk, "Test"): "60"})
    client = client_of(course.trainer)
    url = reverse("delivery:gradebook", args=[course.run.pk])
    assert 'name="type-0" value="Test"' in client.get(url).content.decode()
    # Meanwhile a Quiz is recorded for the first learner: it becomes the grid's first column.
    gradebook_save(run=course.run, actor=course.trainer, cells={(first.pk, "Quiz"): "50"})

    response = client.post(url, {"type-0": "Test", f"cell-{second.pk}-0": "80", "reason": "x"})

    assert response.status_code == 400
    assert "The gradebook changed while you were typing: reload it." in response.content.decode()
    assert not Assessment.objects.filter(enrolment=second, assessment_type="Quiz").exists()
    assert Assessment.objects.get(enrolment=second, assessment_type="Test").score == 60
    # A cell posted without its column's name is refused too.
    response = client.post(url, {f"cell-{second.pk}-0": "80", "reason": "x"})
    assert response.status_code == 400
    assert not Assessment.objects.filter(enrolment=second, assessment_type="Quiz").exists()
    # The current columns save.
    response = client.post(url, {"type-0": "Quiz", "type-1": "Test", f"cell-{second.pk}-0": "70"})
    assert response.status_code == 302
    assert Assessment.objects.get(enrolment=second, assessment_type="Quiz").score == 70
