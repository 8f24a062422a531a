"""Staff's overview of a course run's portfolios: learners against the course's outcomes with
each portfolio's standing, counts per outcome, pages of 25 learners, the same number of
queries for 10 learners as for 200; who reaches it; the links to it (the run's page, the
moderation overview) and the links between the workplace pages (members' placements, mentees,
the logbook, the learner's portfolios)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.roles import permissions_for
from placements.models import Placement, PlacementStatus
from tests.factories import CourseFactory, UserFactory
from tests.workplace.moderation_support import assessed, decisions_make
from tests.workplace.support import member_of, workplace_world
from workplace.models import Decision, Portfolio, PortfolioStatus

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return " ".join(response.content.decode().split())


def url_of(run) -> str:
    return reverse("workplace:run_portfolios", args=[run.pk])


def test_the_grid_shows_each_portfolio_and_the_counts(admin, client_of):
    world = workplace_world(admin, learners=4)
    first, second, third, fourth = world.placed
    a, b, c = world.outcomes
    competent = assessed(first, a, world.assessor).portfolio
    Portfolio.objects.filter(pk=competent.pk).update(final_at=timezone.now())
    awaiting = assessed(second, a, world.assessor).portfolio
    nyc = assessed(third, a, world.assessor, Decision.NOT_YET_COMPETENT).portfolio
    waiting = Portfolio.objects.create(
        course_enrollment=first.course_enrollment, outcome=b, status=PortfolioStatus.SUBMITTED
    )
    draft = Portfolio.objects.create(course_enrollment=second.course_enrollment, outcome=c)

    response = client_of(admin).get(url_of(world.run))

    assert response.status_code == 200
    page = text(response)
    assert "Portfolios of evidence" in page
    assert [row.name for row in response.context["rows"]] == [
        p.learner.full_name for p in world.placed
    ]
    cells = {
        (row.course_enrollment.pk, cell.outcome.pk): cell
        for row in response.context["rows"]
        for cell in row.cells
    }
    assert cells[(first.course_enrollment.pk, a.pk)].final
    assert not cells[(second.course_enrollment.pk, a.pk)].final
    assert cells[(fourth.course_enrollment.pk, a.pk)].label == "Not started"
    assert cells[(first.course_enrollment.pk, b.pk)].label == "Waiting for an assessor"
    assert cells[(second.course_enrollment.pk, c.pk)].label == "Being assembled"
    for portfolio in (competent, awaiting, nyc, waiting, draft):
        assert reverse("workplace:portfolio", args=[portfolio.pk]) in page
    for placed in world.placed:
        assert reverse("workplace:portfolio_pdf", args=[placed.course_enrollment.pk]) in page
    counts = {count.outcome.code: count for count in response.context["counts"]}
    assert (
        counts[a.code].competent_final,
        counts[a.code].awaiting_moderation,
        counts[a.code].not_yet_competent,
        counts[a.code].waiting_for_assessor,
    ) == (1, 2, 1, 0)
    assert counts[b.code].waiting_for_assessor == 1
    assert counts[c.code].competent_final == counts[c.code].awaiting_moderation == 0
    assert "Final" in page
    assert "Awaiting moderation" in page


def test_learners_come_25_to_a_page(admin, client_of):
    world = workplace_world(admin, learners=27)
    client = client_of(admin)
    first = client.get(url_of(world.run))
    assert len(first.context["rows"]) == 25
    second = client.get(url_of(world.run), {"page": 2})
    assert len(second.context["rows"]) == 2
    assert "2 / 2" in text(second)


def test_a_course_without_outcomes_is_explained(admin, client_of):
    world = workplace_world(admin, learners=1)
    world.run.course = CourseFactory(name="Classroom theory", code="TH101")
    world.run.save(update_fields=["course"])
    response = client_of(admin).get(url_of(world.run))
    assert response.status_code == 200
    assert "has no outcomes" in text(response)
    # Nor does the run's page offer it.
    run_page = text(client_of(admin).get(reverse("delivery:run", args=[world.run.pk])))
    assert url_of(world.run) not in run_page


def test_only_staff_who_reach_the_run_see_it(admin, client_of):
    world = workplace_world(admin, learners=1)
    url = url_of(world.run)
    role = Role.objects.create(name="Delivery lead")
    role.permissions.set(permissions_for(["delivery.manage_delivery"]))
    elsewhere = UserFactory(roles=[role])
    for refused in (world.learner.user, world.assessor, world.mentor, elsewhere):
        assert client_of(refused).get(url).status_code == 404, refused
    assert client_of(admin).get(reverse("workplace:run_portfolios", args=[0])).status_code == 404


def test_the_page_queries_the_same_for_10_and_200_learners(admin, client_of):
    counted = []
    for size in (10, 200):
        world = workplace_world(admin, learners=size)
        decisions_make(world, world.placed, nyc=size // 5)
        client = client_of(admin)
        url = url_of(world.run)
        client.get(url)  # the first request warms the session and the role caches
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counted.append(len(queries))
    assert counted[0] == counted[1], counted


def test_the_run_page_and_the_moderation_overview_link_to_it(admin, client_of):
    world = workplace_world(admin, learners=2)
    decisions_make(world, world.placed)
    client = client_of(admin)
    assert url_of(world.run) in text(client.get(reverse("delivery:run", args=[world.run.pk])))
    assert url_of(world.run) in text(client.get(reverse("workplace:moderation")))


# --- Links between the workplace pages --------------------------------------------------------


def test_a_member_names_the_mentor_from_their_placements(admin, client_of):
    world = workplace_world(admin, learners=2)
    member = member_of(world.organisation)
    active, proposed = (p.placement for p in world.placed)
    Placement.objects.filter(pk=proposed.pk).update(status=PlacementStatus.PROPOSED)
    client = client_of(member)
    page = text(client.get(reverse("placements:member_placements")))
    assert reverse("workplace:mentor_assign", args=[active.pk]) in page
    assert reverse("workplace:mentor_assign", args=[proposed.pk]) not in page
    assert client.get(reverse("workplace:mentor_assign", args=[active.pk])).status_code == 200


def test_the_mentor_writes_observations_from_mentees_and_the_logbook(admin, client_of):
    world = workplace_world(admin, learners=1)
    placement = world.learner.placement
    observe = reverse("workplace:observation_add", args=[placement.pk])
    mentor = client_of(world.mentor)
    assert observe in text(mentor.get(reverse("workplace:mentees")))
    assert observe in text(mentor.get(reverse("workplace:logbook", args=[placement.pk])))
    assert mentor.get(observe).status_code == 200
    learner_logbook = text(
        client_of(world.learner.user).get(reverse("workplace:logbook", args=[placement.pk]))
    )
    assert observe not in learner_logbook
    assert reverse("workplace:my_portfolios") in learner_logbook


def test_the_learner_downloads_their_portfolio_and_reaches_their_logbook(admin, client_of):
    world = workplace_world(admin, learners=1)
    placed = world.learner
    pdf = reverse("workplace:portfolio_pdf", args=[placed.course_enrollment.pk])
    client = client_of(placed.user)
    assert pdf in text(client.get(reverse("workplace:my_portfolios")))
    portfolio = Portfolio.objects.create(
        course_enrollment=placed.course_enrollment, outcome=world.outcomes[0]
    )
    page = text(client.get(reverse("workplace:portfolio", args=[portfolio.pk])))
    assert "Download my portfolio (PDF)" in page
    assert pdf in page
    assert reverse("workplace:my_logbooks") in page
    assert client.get(pdf).status_code == 200
    # Staff reading it get neither of the learner's own links.
    staff_page = text(client_of(admin).get(reverse("workplace:portfolio", args=[portfolio.pk])))
    assert "Download my portfolio (PDF)" not in staff_page


def test_the_grid_reads_dropped_learners_too(admin, client_of):
    world = workplace_world(admin, learners=2)
    dropped = world.placed[1].course_enrollment
    dropped.status = "dropped"
    dropped.save(update_fields=["status"])
    page = text(client_of(admin).get(url_of(world.run)))
    assert "Dropped" in page
