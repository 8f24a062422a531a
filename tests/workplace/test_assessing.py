"""Assessing: only a registered, in-scope, unexpired assessor decides (out of scope, expired,
withdrawn and missing registrations are refused), never the learner's mentor; not yet
competent needs feedback; a resubmission keeps the history; the queue and its standing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import SystemRole
from notifications.models import OutboundEmail
from tests.factories import ProgrammeFactory, UserFactory
from tests.workplace.support import registered, week_logged, workplace_world
from workplace.models import (
    LogbookWeekStatus,
    Mentorship,
    PortfolioStatus,
    PractitionerRegistration,
    PractitionerRole,
)
from workplace.services.portfolios import (
    evidence_add_entry,
    portfolio_assess,
    portfolio_open,
    portfolio_reopen,
    portfolio_submit,
)

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2027, 3, 8)


def handed_in(world, placed=None, monday=MONDAY):
    placed = placed or world.learner
    portfolio = portfolio_open(
        actor=placed.user, course_enrollment=placed.course_enrollment, outcome=world.outcomes[0]
    )
    week = week_logged(
        placed, monday, status=LogbookWeekStatus.CONFIRMED, days=1, outcomes=[world.outcomes[0]]
    )
    evidence_add_entry(actor=placed.user, portfolio=portfolio, entry=week.entries.get())
    portfolio_submit(actor=placed.user, portfolio=portfolio)
    portfolio.refresh_from_db()
    return portfolio


def assessor(*programmes, **registration):
    user = UserFactory(roles=[SystemRole.ASSESSOR])
    if programmes:
        registered(user, PractitionerRole.ASSESSOR, *programmes, **registration)
    return user


def text(response) -> str:
    return " ".join(response.content.decode().split())


def test_a_registered_assessor_decides_and_the_registration_is_recorded(admin):
    world = workplace_world(admin)
    portfolio = handed_in(world)
    submission = portfolio_assess(actor=world.assessor, portfolio=portfolio, decision="competent")
    portfolio.refresh_from_db()
    assert portfolio.status == PortfolioStatus.COMPETENT
    assert submission.assessor == world.assessor
    assert submission.assessor_registration == PractitionerRegistration.objects.get(
        user=world.assessor
    )
    email = OutboundEmail.objects.get(template="workplace_portfolio_assessed")
    assert email.recipient == world.learner.user.email
    assert email.context["decision"] == "Competent"


def test_out_of_scope_expired_withdrawn_and_unregistered_assessors_are_refused(admin):
    world = workplace_world(admin)
    portfolio = handed_in(world)
    other_programme = ProgrammeFactory()
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    expired = assessor(world.programme)
    PractitionerRegistration.objects.filter(user=expired).update(expires_on=yesterday)
    withdrawn = assessor(world.programme)
    PractitionerRegistration.objects.filter(user=withdrawn).update(is_active=False)
    for refused in (assessor(other_programme), expired, withdrawn, assessor()):
        with pytest.raises(ValidationError, match="registration"):
            portfolio_assess(actor=refused, portfolio=portfolio, decision="competent")
    with pytest.raises(PermissionDenied):
        portfolio_assess(actor=world.learner.user, portfolio=portfolio, decision="competent")
    portfolio.refresh_from_db()
    assert portfolio.status == PortfolioStatus.SUBMITTED


def test_the_learners_mentor_does_not_assess(admin):
    world = workplace_world(admin)
    portfolio = handed_in(world)
    Mentorship.objects.filter(placement=world.learner.placement).update(mentor=world.assessor)
    with pytest.raises(ValidationError, match="mentor"):
        portfolio_assess(actor=world.assessor, portfolio=portfolio, decision="competent")


def test_not_yet_competent_needs_feedback_and_resubmission_keeps_the_history(admin, client_of):
    world = workplace_world(admin)
    portfolio = handed_in(world)
    with pytest.raises(ValidationError, match="feedback"):
        portfolio_assess(actor=world.assessor, portfolio=portfolio, decision="not_yet_competent")
    portfolio_assess(
        actor=world.assessor,
        portfolio=portfolio,
        decision="not_yet_competent",
        feedback="Show a lesson you planned yourself.",
    )
    learner = world.learner.user
    portfolio.refresh_from_db()
    portfolio_reopen(actor=learner, portfolio=portfolio)
    week = week_logged(
        world.learner,
        MONDAY + datetime.timedelta(days=7),
        status=LogbookWeekStatus.CONFIRMED,
        days=1,
        outcomes=[world.outcomes[0]],
    )
    evidence_add_entry(actor=learner, portfolio=portfolio, entry=week.entries.get())
    second = portfolio_submit(actor=learner, portfolio=portfolio)
    assert second.number == 2
    portfolio_assess(actor=world.assessor, portfolio=portfolio, decision="competent")
    history = list(portfolio.submissions.order_by("number").values_list("number", "decision"))
    assert history == [(1, "not_yet_competent"), (2, "competent")]
    page = text(client_of(learner).get(reverse("workplace:portfolio", args=[portfolio.pk])))
    assert "Submission 2" in page
    assert "Submission 1" in page
    assert "Show a lesson you planned yourself." in page


def test_the_assess_page_refuses_nyc_without_feedback(admin, client_of):
    world = workplace_world(admin)
    portfolio = handed_in(world)
    client = client_of(world.assessor)
    url = reverse("workplace:portfolio_assess", args=[portfolio.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"decision": "not_yet_competent", "feedback": ""})
    assert response.status_code == 400
    assert "feedback" in text(response)
    response = client.post(url, {"decision": "not_yet_competent", "feedback": "Add more."})
    assert response.status_code == 302
    portfolio.refresh_from_db()
    assert portfolio.status == PortfolioStatus.NOT_YET_COMPETENT


def test_the_queue_lists_portfolios_in_scope_oldest_first(admin, client_of):
    world = workplace_world(admin, learners=3)
    first = handed_in(world, world.placed[1])
    second = handed_in(world, world.placed[0])
    client = client_of(world.assessor)
    response = client.get(reverse("workplace:assess_queue"))
    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    assert [p.pk for p in rows] == [first.pk, second.pk]
    assert rows[0].submission_number == 1
    assert rows[0].evidence_count == 1
    filtered = client.get(reverse("workplace:assess_queue"), {"course_run": world.run.pk})
    assert len(filtered.context["page"].object_list) == 2
    out_of_scope = client_of(assessor(ProgrammeFactory()))
    assert (
        list(out_of_scope.get(reverse("workplace:assess_queue")).context["page"].object_list) == []
    )
    assert (
        out_of_scope.get(reverse("workplace:portfolio_assess", args=[first.pk])).status_code == 404
    )
    assert out_of_scope.get(reverse("workplace:portfolio", args=[first.pk])).status_code == 404


def test_the_queue_says_why_it_is_empty_without_a_valid_registration(admin, client_of):
    world = workplace_world(admin)
    page = text(client_of(assessor()).get(reverse("workplace:assess_queue")))
    assert "no assessor registration" in page
    expired = assessor(world.programme)
    PractitionerRegistration.objects.filter(user=expired).update(
        expires_on=datetime.date.today() - datetime.timedelta(days=1)
    )
    assert "has expired" in text(client_of(expired).get(reverse("workplace:assess_queue")))


def test_people_without_the_assessor_permission_get_not_found(admin, client_of):
    world = workplace_world(admin)
    portfolio = handed_in(world)
    learner = client_of(world.learner.user)
    assert learner.get(reverse("workplace:assess_queue")).status_code == 404
    assert (
        learner.get(reverse("workplace:portfolio_assess", args=[portfolio.pk])).status_code == 404
    )
