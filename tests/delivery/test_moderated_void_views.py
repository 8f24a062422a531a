"""The pages that void a moderated result: the moderator (or who manages delivery) finds a Void
action by each result that counts, gives a reason (refused in words without one) and is told
the learner's course result now, and of a certificate issued on the earlier one; the trainer
sees no such action and is refused."""

# ruff: noqa: F811 (the fixtures of tests.delivery.results_support are imported by name)

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from delivery.models import AssessmentResult, Certificate, CertificateKind
from delivery.services.assessments import gradebook_save
from delivery.services.moderation import run_moderator_assign, run_results_sign_off
from tests.delivery.results_support import moderator, run_with  # noqa: F401 (fixtures)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def course(admin, run_with, moderator):
    """A moderated run of two learners: Learner 000 has 80 and 30, Learner 001 has 65 and 70."""
    course = run_with(2)
    course.run = run_moderator_assign(run=course.run, actor=admin, moderator=moderator)
    first, second = course.enrolments
    gradebook_save(
        run=course.run,
        actor=course.trainer,
        cells={
            (first.pk, "Formative"): "80",
            (first.pk, "Summative"): "30",
            (second.pk, "Formative"): "65",
            (second.pk, "Summative"): "70",
        },
    )
    run_results_sign_off(run=course.run, actor=moderator)
    return course


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_moderator_finds_a_void_action_by_each_result_that_counts(client_of, course, moderator):
    first = course.enrolments[0]
    summative = first.assessments.get(assessment_type="Summative")
    page = client_of(moderator).get(reverse("delivery:moderation", args=[course.run.pk]))
    text = page.content.decode()
    assert text.count(">Void<span") == 4
    learner_url = reverse("delivery:gradebook_learner", args=[course.run.pk, first.pk])
    assert f'href="{learner_url}#result-{summative.pk}"' in text
    assert "Learner 000, Summative" in text

    page = client_of(moderator).get(learner_url).content.decode()
    action = reverse("delivery:moderated_result_void", args=[summative.pk])
    assert f'action="{action}"' in page
    assert "works out Learner 000's course result again" in page

    trainer_page = client_of(course.trainer).get(learner_url).content.decode()
    assert "Void result" not in trainer_page
    moderation = client_of(course.trainer).get(reverse("delivery:moderation", args=[course.run.pk]))
    assert ">Void<span" not in moderation.content.decode()


def test_a_void_without_a_reason_is_refused_in_words_then_done_with_one(
    client_of, course, moderator
):
    first = course.enrolments[0]
    summative = first.assessments.get(assessment_type="Summative")
    client = client_of(moderator)
    url = reverse("delivery:moderated_result_void", args=[summative.pk])
    refused = client.post(url, {"reason": "  "})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "Say why the result is voided: the reason stays in its history." in body
    assert f'aria-describedby="void-error-{summative.pk} void-help-{summative.pk}"' in body
    summative.refresh_from_db()
    assert summative.result == AssessmentResult.FAIL

    done = client.post(url, {"reason": "Marked against the wrong memo"})
    assert done.status_code == 302
    assert done["Location"] == reverse("delivery:gradebook_learner", args=[course.run.pk, first.pk])
    assert said(done) == [
        "Summative voided; it stays in the history. Learner 000's course result is now "
        "80% A (completed)."
    ]
    page = client.get(done["Location"]).content.decode()
    assert "Marked against the wrong memo" in page
    again = client.post(url, {"reason": "Twice"})
    assert again.status_code == 400
    assert "This result is void already." in again.content.decode()


def test_who_manages_delivery_voids_and_hears_of_the_certificate(admin_client, course):
    second = course.enrolments[1]
    Certificate.objects.create(
        enrollment=second.enrollment,
        kind=CertificateKind.CERTIFICATE,
        verification_code="AAAA-BBBB-CCCC-DDDD",
        pdf="certificates/a.pdf",
        sha256="0" * 64,
        issued_at=timezone.now(),
    )
    for name in ("Formative", "Summative"):
        response = admin_client.post(
            reverse(
                "delivery:moderated_result_void",
                args=[second.assessments.get(assessment_type=name).pk],
            ),
            {"reason": "Not this learner's paper"},
        )
        assert response.status_code == 302
        messages = said(admin_client.get(response["Location"]))
    assert messages[0] == (
        "Summative voided; it stays in the history. Learner 001 has no result that counts any "
        "more: no course grade."
    )
    assert "Learner 001's certificate issued on" in messages[1]
    assert "whoever issues certificates revokes or reissues it" in messages[1]


def test_the_trainer_and_other_moderators_are_refused(client_of, course):
    summative = course.enrolments[0].assessments.get(assessment_type="Summative")
    url = reverse("delivery:moderated_result_void", args=[summative.pk])
    other = UserFactory(roles=["moderator"])
    for person in (course.trainer, other):
        response = client_of(person).post(url, {"reason": "x"})
        assert response.status_code == 404, person
    summative.refresh_from_db()
    assert summative.result == AssessmentResult.FAIL
