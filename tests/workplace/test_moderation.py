"""Moderation: the sample's size and spread, drawing (who may moderate, a second draw covers
only new decisions), verdicts (a change needs reasons and the other decision), completing
(changes applied to latest submissions only, every covered result final), and the pages (who
reaches what, the draw form, a verdict refused without reasons)."""

import datetime
import random
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from tests.factories import ProgrammeFactory, UserFactory
from tests.workplace.moderation_support import assessed, decisions_make
from tests.workplace.support import member_of, registered, workplace_world
from workplace.models import (
    Decision,
    Mentorship,
    ModerationItem,
    ModerationPolicy,
    ModerationSample,
    Portfolio,
    PortfolioStatus,
    PortfolioSubmission,
    PractitionerRole,
    SampleStatus,
    Verdict,
)
from workplace.services.moderation import (
    Candidate,
    moderation_policy_set,
    sample_choose,
    sample_complete,
    sample_draw,
    sample_size,
    sample_verdict_record,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return workplace_world(admin, learners=4)


def draw(world, *, moderator=None, rng=None):
    return sample_draw(
        actor=world.admin,
        course_run=world.run,
        assessor=world.assessor,
        moderator=moderator or world.moderator,
        rng=rng or random.Random(7),
    )


def text(response) -> str:
    return " ".join(response.content.decode().split())


# --- The sample's size and spread -------------------------------------------------------------


def test_the_minimum_applies_when_the_share_is_smaller_and_the_share_when_larger():
    assert sample_size(12, share_percent=25, minimum=5) == 5
    assert sample_size(40, share_percent=25, minimum=5) == 10
    assert sample_size(41, share_percent=25, minimum=5) == 11  # rounded up
    assert sample_size(3, share_percent=25, minimum=5) == 3  # capped at the population


def _population(learners: int, each: int, *, nyc: int = 0) -> list[Candidate]:
    candidates = [
        Candidate(submission_id=learner * 100 + n, learner_key=learner, decision=Decision.COMPETENT)
        for learner in range(learners)
        for n in range(each)
    ]
    for n in range(nyc):
        candidates.append(
            Candidate(submission_id=9000 + n, learner_key=n, decision=Decision.NOT_YET_COMPETENT)
        )
    return candidates


def test_every_not_yet_competent_is_in_the_sample_even_beyond_its_size():
    population = _population(4, 2, nyc=8)
    chosen = sample_choose(population, share_percent=10, minimum=3, rng=random.Random(1))
    assert {9000 + n for n in range(8)} == chosen  # 8 > the size of 3: no competent added
    chosen = sample_choose(population, share_percent=50, minimum=3, rng=random.Random(1))
    assert {9000 + n for n in range(8)} <= chosen
    assert len(chosen) == 8  # 50% of 16


@pytest.mark.parametrize("seed", range(6))
def test_competent_picks_spread_across_learners_before_anyone_twice(seed):
    population = _population(5, 4)
    chosen = sample_choose(population, share_percent=35, minimum=1, rng=random.Random(seed))
    assert len(chosen) == 7
    per_learner = Counter(pk // 100 for pk in chosen)
    assert set(per_learner) == set(range(5))
    assert max(per_learner.values()) - min(per_learner.values()) <= 1


@pytest.mark.parametrize("seed", range(6))
def test_a_learner_sampled_for_a_not_yet_competent_comes_after_the_others(seed):
    population = _population(3, 2, nyc=1)  # learner 0 also has the NYC
    chosen = sample_choose(population, share_percent=1, minimum=3, rng=random.Random(seed))
    assert 9000 in chosen
    per_learner = Counter(pk // 100 for pk in chosen - {9000})
    assert per_learner == {1: 1, 2: 1}


def test_the_same_random_source_chooses_the_same_sample():
    population = _population(6, 3)
    first = sample_choose(population, share_percent=30, minimum=2, rng=random.Random(3))
    again = sample_choose(population, share_percent=30, minimum=2, rng=random.Random(3))
    assert first == again


# --- The policy -------------------------------------------------------------------------------


def test_the_policy_reads_defaults_until_set_and_is_audited(admin):
    with pytest.raises(ValidationError) as refused:
        moderation_policy_set(actor=admin, share_percent=0, minimum=1001)
    assert set(refused.value.message_dict) == {"share_percent", "minimum"}
    policy = moderation_policy_set(actor=admin, share_percent=40, minimum=3)
    assert (policy.pk, policy.share_percent, policy.minimum) == (1, 40, 3)
    moderation_policy_set(actor=admin, share_percent=50, minimum=3)
    assert ModerationPolicy.objects.get().share_percent == 50
    assert AuditEvent.objects.filter(action="moderation_policy.set").count() == 2


def test_only_who_manages_delivery_sets_the_policy(world):
    with pytest.raises(PermissionDenied):
        moderation_policy_set(actor=world.moderator, share_percent=40, minimum=3)


# --- Drawing ----------------------------------------------------------------------------------


def test_a_draw_covers_every_decision_and_samples_by_the_policy(world):
    submissions = decisions_make(world, world.placed, nyc=2)  # 12 decisions, 2 NYC
    sample = draw(world)
    items = ModerationItem.objects.filter(sample=sample)
    assert items.count() == 12
    sampled = items.filter(in_sample=True)
    assert sampled.count() == 5  # max(5, 25% of 12 = 3)
    nyc = {s.pk for s in submissions if s.decision == Decision.NOT_YET_COMPETENT}
    assert nyc <= set(sampled.values_list("submission_id", flat=True))
    assert (sample.share_percent, sample.minimum) == (25, 5)
    assert sample.moderator_registration.user == world.moderator
    assert sample.status == SampleStatus.OPEN
    email = OutboundEmail.objects.get(template="moderation_sample_given")
    assert email.recipient == world.moderator.email
    assert email.context["count"] == 5
    assert AuditEvent.objects.filter(action="moderation_sample.draw").exists()


def test_the_share_decides_when_larger_and_the_policy_values_are_kept(world):
    decisions_make(world, world.placed)  # 12
    moderation_policy_set(actor=world.admin, share_percent=50, minimum=2)
    sample = draw(world)
    assert sample.items.filter(in_sample=True).count() == 6
    assert (sample.share_percent, sample.minimum) == (50, 2)


def test_a_second_draw_covers_only_decisions_made_since(world):
    decisions_make(world, world.placed[:2])
    first = draw(world)
    assert first.items.count() == 6
    with pytest.raises(ValidationError, match="no decisions"):
        draw(world)
    later = assessed(world.placed[3], world.outcomes[0], world.assessor)
    second = draw(world)
    assert list(second.items.values_list("submission_id", "in_sample")) == [(later.pk, True)]


def _refused_moderator(world, moderator, message):
    decisions_make(world, world.placed[:1])
    with pytest.raises(ValidationError, match=message) as refused:
        draw(world, moderator=moderator)
    assert "moderator" in refused.value.message_dict
    assert not ModerationSample.objects.exists()


def test_the_moderator_must_be_registered(world):
    unregistered = UserFactory(roles=[SystemRole.MODERATOR])
    _refused_moderator(world, unregistered, "no active, unexpired moderator registration")


def test_the_moderator_must_be_registered_for_the_programme(world):
    elsewhere = UserFactory(roles=[SystemRole.MODERATOR])
    registered(elsewhere, PractitionerRole.MODERATOR, ProgrammeFactory())
    _refused_moderator(world, elsewhere, "no active, unexpired moderator registration")


def test_the_moderator_registration_must_not_have_expired(world):
    expired = UserFactory(roles=[SystemRole.MODERATOR])
    registered(
        expired,
        PractitionerRole.MODERATOR,
        world.programme,
        expires_on=timezone.localdate() - datetime.timedelta(days=1),
    )
    _refused_moderator(world, expired, "no active, unexpired moderator registration")


def test_the_moderator_must_hold_the_role(world):
    no_role = UserFactory(roles=[SystemRole.TRAINER])
    registered(no_role, PractitionerRole.MODERATOR, world.programme)
    _refused_moderator(world, no_role, "does not hold the moderator's role")


def test_the_assessor_cannot_moderate_their_own_decisions(world):
    registered(world.assessor, PractitionerRole.MODERATOR, world.programme)
    world.assessor.roles.add(*UserFactory(roles=[SystemRole.MODERATOR]).roles.all())
    _refused_moderator(world, world.assessor, "cannot moderate their own")


def test_a_mentor_of_a_learner_of_the_run_cannot_moderate_it(world):
    mentor = member_of(world.organisation, full_name="Mentor Moderator")
    mentor.roles.add(*UserFactory(roles=[SystemRole.MODERATOR]).roles.all())
    registered(mentor, PractitionerRole.MODERATOR, world.programme)
    # A past mentorship counts too.
    Mentorship.objects.create(
        placement=world.placed[2].placement, mentor=mentor, ended_at=timezone.now()
    )
    _refused_moderator(world, mentor, "mentors a learner")


def test_only_who_manages_delivery_draws(world):
    decisions_make(world, world.placed[:1])
    with pytest.raises(PermissionDenied):
        sample_draw(
            actor=world.moderator,
            course_run=world.run,
            assessor=world.assessor,
            moderator=world.moderator,
        )


# --- Verdicts and completing ------------------------------------------------------------------


@pytest.fixture
def sampled(world):
    """A sample of all 6 decisions of two learners (minimum 6): learner 0's first outcome not
    yet competent."""
    decisions_make(world, world.placed[:2], nyc=1)
    moderation_policy_set(actor=world.admin, share_percent=10, minimum=6)
    return draw(world)


def items_of(sample):
    return list(
        sample.items.select_related("submission__portfolio").order_by("submission__portfolio_id")
    )


def test_a_change_needs_reasons_and_the_other_decision(world, sampled):
    item = items_of(sampled)[1]
    assert item.submission.decision == Decision.COMPETENT
    with pytest.raises(ValidationError) as refused:
        sample_verdict_record(
            actor=world.moderator,
            item=item,
            verdict=Verdict.CHANGED,
            moderated_decision=Decision.NOT_YET_COMPETENT,
            reasons="  ",
        )
    assert set(refused.value.message_dict) == {"reasons"}
    with pytest.raises(ValidationError) as refused:
        sample_verdict_record(
            actor=world.moderator,
            item=item,
            verdict=Verdict.CHANGED,
            moderated_decision=Decision.COMPETENT,
            reasons="Same again.",
        )
    assert set(refused.value.message_dict) == {"verdict"}
    item.refresh_from_db()
    assert item.verdict == Verdict.PENDING


def test_only_the_samples_moderator_records_verdicts(world, sampled):
    other = UserFactory(roles=[SystemRole.MODERATOR])
    registered(other, PractitionerRole.MODERATOR, world.programme)
    item = items_of(sampled)[0]
    for actor in (other, world.admin):
        with pytest.raises(PermissionDenied):
            sample_verdict_record(actor=actor, item=item, verdict=Verdict.AGREED)
        with pytest.raises(PermissionDenied):
            sample_complete(actor=actor, sample=sampled)


def test_a_moderator_whose_registration_expired_can_no_longer_moderate(world, sampled):
    world.moderator.practitioner_registrations.update(
        expires_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    with pytest.raises(ValidationError, match="no longer valid"):
        sample_verdict_record(
            actor=world.moderator, item=items_of(sampled)[0], verdict=Verdict.AGREED
        )


def test_completing_is_refused_while_sampled_decisions_are_pending(world, sampled):
    items = items_of(sampled)
    sample_verdict_record(actor=world.moderator, item=items[0], verdict=Verdict.AGREED)
    with pytest.raises(ValidationError, match="5 sampled decisions are not moderated"):
        sample_complete(actor=world.moderator, sample=sampled)
    assert not Portfolio.objects.filter(final_at__isnull=False).exists()


def _all_agreed(world, sample, changes=None):
    changes = changes or {}
    for item in items_of(sample):
        if item.in_sample and item.pk not in changes:
            sample_verdict_record(actor=world.moderator, item=item, verdict=Verdict.AGREED)
    for pk, decision in changes.items():
        sample_verdict_record(
            actor=world.moderator,
            item=ModerationItem.objects.get(pk=pk),
            verdict=Verdict.CHANGED,
            moderated_decision=decision,
            reasons="The evidence does not show the learner planned the lesson alone.",
        )


def test_completing_applies_a_change_and_makes_every_covered_result_final(world):
    decisions_make(world, world.placed, nyc=1)  # 12 decisions, 5 sampled
    sample = draw(world)
    changed = sample.items.filter(in_sample=True, submission__decision=Decision.COMPETENT).first()
    nyc = sample.items.get(submission__decision=Decision.NOT_YET_COMPETENT)
    _all_agreed(
        world,
        sample,
        {changed.pk: Decision.NOT_YET_COMPETENT, nyc.pk: Decision.COMPETENT},
    )
    sample_complete(actor=world.moderator, sample=sample)
    sample.refresh_from_db()
    assert sample.status == SampleStatus.COMPLETED
    assert sample.completed_at
    assert Portfolio.objects.filter(final_at__isnull=False).count() == 12
    assert (
        Portfolio.objects.get(submissions=changed.submission).status
        == PortfolioStatus.NOT_YET_COMPETENT
    )
    assert Portfolio.objects.get(submissions=nyc.submission).status == PortfolioStatus.COMPETENT
    assert Portfolio.objects.filter(status=PortfolioStatus.COMPETENT).count() == 11
    told = OutboundEmail.objects.filter(template="moderation_decision_changed")
    assert told.count() == 2
    assert AuditEvent.objects.filter(action="portfolio.moderated").count() == 12
    with pytest.raises(ValidationError, match="completed"):
        sample_verdict_record(actor=world.moderator, item=changed, verdict=Verdict.AGREED)


def test_a_superseded_submission_is_only_recorded(world, sampled):
    items = items_of(sampled)
    nyc = next(item for item in items if item.submission.decision == Decision.NOT_YET_COMPETENT)
    # The learner reopened and handed in again meanwhile: submission 2 waits for an assessor.
    portfolio = nyc.submission.portfolio
    PortfolioSubmission.objects.create(
        portfolio=portfolio, number=2, submitted_at=timezone.now(), submitted_by=world.learner.user
    )
    Portfolio.objects.filter(pk=portfolio.pk).update(status=PortfolioStatus.SUBMITTED)
    _all_agreed(world, sampled, {nyc.pk: Decision.COMPETENT})
    sample_complete(actor=world.moderator, sample=sampled)
    portfolio.refresh_from_db()
    assert portfolio.status == PortfolioStatus.SUBMITTED
    assert portfolio.final_at is None
    assert Portfolio.objects.filter(final_at__isnull=False).count() == 5
    assert not OutboundEmail.objects.filter(template="moderation_decision_changed").exists()


# --- Pages ------------------------------------------------------------------------------------


def test_staff_see_the_pairs_awaiting_moderation_and_draw_a_sample(world, client_of):
    decisions_make(world, world.placed, nyc=1)
    client = client_of(world.admin)
    response = client.get(reverse("workplace:moderation"))
    assert response.status_code == 200
    page = text(response)
    assert "Andile Assessor" in page
    assert f'<option value="{world.moderator.pk}">Mpho Moderator</option>' in page
    assert f'<option value="{world.assessor.pk}">' not in page
    assert "No samples drawn yet" in page
    response = client.post(
        reverse("workplace:sample_draw"),
        {"course_run": world.run.pk, "assessor": world.assessor.pk, "moderator": ""},
    )
    assert response.status_code == 302
    assert not ModerationSample.objects.exists()
    response = client.post(
        reverse("workplace:sample_draw"),
        {
            "course_run": world.run.pk,
            "assessor": world.assessor.pk,
            "moderator": world.moderator.pk,
        },
    )
    sample = ModerationSample.objects.get()
    assert response.url == reverse("workplace:sample", args=[sample.pk])
    page = text(client.get(reverse("workplace:moderation")))
    assert "No decisions are waiting for moderation" in page
    assert reverse("workplace:sample", args=[sample.pk]) in page
    # Staff read the sample without forms.
    page = text(client.get(reverse("workplace:sample", args=[sample.pk])))
    assert "Only Mpho Moderator records verdicts" in page
    assert "Record the verdict" not in page


def test_the_moderator_sees_their_samples_and_others_get_not_found(world, sampled, client_of):
    url = reverse("workplace:sample", args=[sampled.pk])
    moderator = client_of(world.moderator)
    page = text(moderator.get(reverse("workplace:moderation")))
    assert "Your moderation samples" in page
    assert url in page
    response = moderator.get(url)
    assert response.status_code == 200
    item = items_of(sampled)[0]
    assert (
        f'href="{reverse("workplace:portfolio", args=[item.submission.portfolio_id])}"'
        in response.content.decode()
    )
    other = UserFactory(roles=[SystemRole.MODERATOR])
    registered(other, PractitionerRole.MODERATOR, world.programme)
    outsider = client_of(other)
    assert outsider.get(url).status_code == 404
    assert outsider.get(reverse("workplace:sample_complete", args=[sampled.pk])).status_code == 404
    response = outsider.post(
        reverse("workplace:sample_item", args=[item.pk]), {f"item-{item.pk}-verdict": "agreed"}
    )
    assert response.status_code == 404
    learner = client_of(world.learner.user)
    assert learner.get(url).status_code == 404
    assert learner.get(reverse("workplace:moderation")).status_code == 404
    # Staff may read, not complete.
    admin = client_of(world.admin)
    assert admin.get(reverse("workplace:sample_complete", args=[sampled.pk])).status_code == 404


def test_a_verdict_form_refuses_a_change_without_reasons_then_records_it(world, sampled, client_of):
    client = client_of(world.moderator)
    item = items_of(sampled)[1]
    url = reverse("workplace:sample_item", args=[item.pk])
    response = client.post(url, {f"item-{item.pk}-verdict": "changed"})
    assert response.status_code == 400
    assert "Give your reasons for changing" in text(response)
    response = client.post(
        url,
        {f"item-{item.pk}-verdict": "changed", f"item-{item.pk}-reasons": "No lesson plan."},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.verdict, item.moderated_decision) == (
        Verdict.CHANGED,
        Decision.NOT_YET_COMPETENT,
    )


def test_completing_from_the_page(world, sampled, client_of):
    client = client_of(world.moderator)
    url = reverse("workplace:sample_complete", args=[sampled.pk])
    assert "still to moderate" in text(client.get(url))
    client.post(url)
    sampled.refresh_from_db()
    assert sampled.status == SampleStatus.OPEN
    _all_agreed(world, sampled)
    assert "Complete this sample?" in text(client.get(url))
    assert client.post(url).status_code == 302
    sampled.refresh_from_db()
    assert sampled.status == SampleStatus.COMPLETED
    page = text(client.get(reverse("workplace:sample", args=[sampled.pk])))
    assert "Completed on" in page
    assert page.count('data-final="yes"') == 6


def test_the_policy_page(world, client_of):
    client = client_of(world.admin)
    url = reverse("workplace:moderation_policy")
    assert client.get(url).status_code == 200
    response = client.post(url, {"share_percent": 0, "minimum": 5})
    assert response.status_code == 400
    response = client.post(url, {"share_percent": 30, "minimum": 4})
    assert response.status_code == 302
    assert ModerationPolicy.objects.get().share_percent == 30
    assert client_of(world.moderator).get(url).status_code == 404
