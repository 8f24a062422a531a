"""The staff portfolio (counts per status and per programme, delayed milestones, projects
ending soon, filtered by programme and cohort), the list's and the portfolio's query counts
(the same at 10 and 200 projects), and the start page's projects panel."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole
from projects.models import (
    MemberRole,
    MilestoneStatus,
    ProjectMember,
    ProjectStatus,
    ReviewAssignment,
)
from projects.selectors.home import projects_home_panel
from tests.factories import CohortFactory, ProgrammeFactory, UserFactory
from tests.projects.support import learner_user, project_world

pytestmark = pytest.mark.django_db

STATUSES = list(ProjectStatus.values)


@pytest.fixture
def world(admin):
    return project_world(admin)


def _days(number: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=number)


def test_the_portfolio_counts_projects_per_status_and_programme(world, client_of):
    hospitality = ProgrammeFactory(name="Hospitality NQF 4")
    for status in (ProjectStatus.DRAFT, ProjectStatus.IN_REVIEW, ProjectStatus.IN_REVIEW):
        world.project(status=status, leader=learner_user())
    world.project(
        status=ProjectStatus.IN_PROGRESS, programme=hospitality, cohort=None, leader=learner_user()
    )
    response = client_of(world.admin).get(reverse("projects:portfolio"))
    portfolio = response.context["portfolio"]
    counts = {status.status: status.count for status in portfolio.statuses}
    assert counts == {
        "draft": 1,
        "submitted": 0,
        "in_review": 2,
        "approved": 0,
        "rejected": 0,
        "in_progress": 1,
        "completed": 0,
    }
    assert portfolio.total == 4
    assert portfolio.chart["datasets"][0]["data"] == [1, 0, 2, 0, 0, 1, 0]
    rows = {
        row.programme: ([count for _, count in row.counts], row.total)
        for row in portfolio.programmes
    }
    assert rows == {
        "Business Practice NQF 4": ([1, 0, 2, 0, 0, 0, 0], 3),
        "Hospitality NQF 4": ([0, 0, 0, 0, 0, 1, 0], 1),
    }
    assert 'id="projects-by-status"' in response.content.decode()


def test_the_portfolio_lists_delayed_milestones_and_projects_ending_soon(world, client_of):
    running = world.project(
        title="Solar kiosks", status=ProjectStatus.IN_PROGRESS, end_date=_days(20)
    )
    world.milestone(running, title="First sale", due_date=_days(-6), status=MilestoneStatus.DELAYED)
    world.milestone(running, title="Pending", due_date=_days(-1))
    world.project(
        title="Later", status=ProjectStatus.IN_PROGRESS, end_date=_days(45), leader=learner_user()
    )
    world.project(
        title="Done", status=ProjectStatus.COMPLETED, end_date=_days(5), leader=learner_user()
    )
    response = client_of(world.admin).get(reverse("projects:portfolio"))
    [delayed] = response.context["page"].object_list
    assert (delayed.title, delayed.days_late, delayed.leader_name) == (
        "First sale",
        6,
        "Thandi Nkosi",
    )
    [ending] = response.context["portfolio"].ending_soon
    assert (ending.title, ending.milestones_open, ending.leader_name) == (
        "Solar kiosks",
        2,
        "Thandi Nkosi",
    )


def test_the_portfolio_filters_by_programme_and_cohort(world, client_of):
    hospitality = ProgrammeFactory(name="Hospitality NQF 4")
    hotel_cohort = CohortFactory(name="Hospitality 2027", programme=hospitality)
    ours = world.project(status=ProjectStatus.IN_PROGRESS)
    theirs = world.project(
        status=ProjectStatus.IN_PROGRESS,
        programme=hospitality,
        cohort=hotel_cohort,
        leader=learner_user(),
    )
    world.milestone(ours, title="Our step", due_date=_days(-2), status=MilestoneStatus.DELAYED)
    world.milestone(theirs, title="Their step", due_date=_days(-2), status=MilestoneStatus.DELAYED)
    client = client_of(world.admin)
    for filters, title in [
        ({"programme": hospitality.pk}, "Their step"),
        ({"cohort": world.cohort.pk}, "Our step"),
    ]:
        response = client.get(reverse("projects:portfolio"), filters)
        assert response.context["portfolio"].total == 1
        assert [milestone.title for milestone in response.context["page"].object_list] == [title]


def test_an_empty_portfolio_says_what_projects_are(world, client_of):
    text = client_of(world.admin).get(reverse("projects:portfolio")).content.decode()
    assert "No innovation projects yet." in text
    assert "No milestone is running late." in text


# --- Query counts -------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def _projects(world, count: int, programmes) -> None:
    """`count` projects across the programmes, every status, each with a mentor and milestones
    (one delayed), some ending soon."""
    people = [learner_user() for _ in range(5)]
    for number in range(count):
        project = world.project(
            title=f"Project {count}-{number}",
            status=STATUSES[number % len(STATUSES)],
            leader=people[number % len(people)],
            programme=programmes[number % len(programmes)],
            start_date=_days(-60),
            end_date=_days(number % 40),
        )
        ProjectMember.objects.create(
            project=project,
            user=world.organisation_member,
            role=MemberRole.MENTOR,
            joined_date=_days(-30),
        )
        world.milestone(project, due_date=_days(-3), status=MilestoneStatus.DELAYED)
        world.milestone(project, due_date=_days(10))


@pytest.mark.parametrize("page", ["projects:list", "projects:portfolio"])
def test_the_list_and_the_portfolio_read_the_same_queries_at_10_and_200_projects(
    world, client_of, page
):
    programmes = [world.programme, ProgrammeFactory(name="Hospitality NQF 4")]
    client = client_of(world.admin)
    url = reverse(page)
    counts = []
    for size in (10, 190):
        _projects(world, size, programmes)
        _queries(client, url)
        counts.append(_queries(client, url))
    assert counts[0] == counts[1]


# --- The start page's panel ---------------------------------------------------------------------


def test_the_panel_counts_what_waits_for_managers(world):
    world.project(status=ProjectStatus.SUBMITTED)
    world.project(status=ProjectStatus.SUBMITTED, leader=learner_user())
    world.project(status=ProjectStatus.IN_REVIEW, leader=learner_user())
    running = world.project(status=ProjectStatus.IN_PROGRESS, leader=learner_user())
    world.milestone(running, due_date=_days(-1), status=MilestoneStatus.DELAYED)
    world.milestone(running, due_date=_days(-2), status=MilestoneStatus.DELAYED)
    panel = projects_home_panel(world.admin)
    assert panel is not None
    assert (panel["submitted"], panel["in_review"], panel["delayed"]) == (2, 1, 1)
    assert panel["manager"]


def test_the_panel_tells_reviewers_what_waits_for_their_scores(world):
    reviewer = world.reviewers[0]
    waiting = world.project(status=ProjectStatus.IN_REVIEW, round=2)
    ReviewAssignment.objects.create(project=waiting, round=2, reviewer=reviewer)
    # An earlier round and a scored proposal do not wait.
    ReviewAssignment.objects.create(project=waiting, round=1, reviewer=world.reviewers[1])
    scored = world.project(status=ProjectStatus.IN_REVIEW, leader=learner_user())
    ReviewAssignment.objects.create(
        project=scored, round=1, reviewer=reviewer, submitted_at=timezone.now()
    )
    panel = projects_home_panel(reviewer)
    assert panel is not None
    assert panel["to_score"] == 1
    assert not panel["manager"]
    assert projects_home_panel(world.reviewers[1]) is None


def test_the_panel_shows_learners_their_projects_that_need_them(world):
    world.project(status=ProjectStatus.DRAFT)
    world.project(status=ProjectStatus.DRAFT, round=1, title="Sent back")
    running = world.project(status=ProjectStatus.IN_PROGRESS, title="Running")
    world.milestone(running, due_date=_days(-1), status=MilestoneStatus.DELAYED)
    world.project(status=ProjectStatus.IN_REVIEW, title="Waiting for the panel")
    panel = projects_home_panel(world.learner)
    assert panel is not None
    assert (panel["drafts"], panel["to_resubmit"], panel["mine_delayed"]) == (1, 1, 1)
    assert "submitted" not in panel
    # Someone on none of them sees no panel; a member who left no longer counts them.
    assert projects_home_panel(world.other_learner) is None
    ProjectMember.objects.create(
        project=running, user=world.other_learner, role=MemberRole.MEMBER, joined_date=_days(-9)
    )
    assert projects_home_panel(world.other_learner)["mine_delayed"] == 1
    ProjectMember.objects.filter(user=world.other_learner).update(left_date=_days(-1))
    assert projects_home_panel(world.other_learner) is None


def test_the_start_page_shows_the_panel(world, client_of):
    """Students' start page is their enrolments; staff on a project see their part here."""
    trainer = UserFactory(roles=[SystemRole.TRAINER], full_name="Tumi Trainer")
    world.project(status=ProjectStatus.DRAFT, round=1, leader=trainer)
    admin_text = client_of(world.admin).get("/").content.decode()
    assert 'data-panel="projects"' not in admin_text
    world.project(status=ProjectStatus.SUBMITTED, leader=learner_user())
    admin_text = client_of(world.admin).get("/").content.decode()
    assert "1 proposal submitted" in admin_text
    trainer_text = client_of(trainer).get("/").content.decode()
    assert 'data-panel="projects"' in trainer_text
    assert "1 proposal</strong> to rework and submit again" in trainer_text
    assert 'data-panel="projects"' not in client_of(world.reviewers[0]).get("/").content.decode()


def test_the_panel_reads_one_query(world, django_assert_num_queries):
    _projects(world, 14, [world.programme])
    for person in (world.admin, world.learner, world.reviewers[0]):
        person.permission_codes  # noqa: B018 (read once, as the request has done by now)
        # The query and the search path django-tenants sets before it.
        with django_assert_num_queries(2):
            projects_home_panel(person)
