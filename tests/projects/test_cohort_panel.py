"""The cohort page's innovation projects panel: counts per status and the delayed milestones of
the cohort's projects, for those who manage projects only, in a number of queries that does not
grow with the projects."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import SystemRole
from projects.models import MilestoneStatus, ProjectStatus
from projects.selectors.cohort import DELAYED_SHOWN, cohort_projects_panel
from tests.factories import CohortFactory, UserFactory
from tests.projects.support import project_world

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _page(client, cohort) -> str:
    response = client.get(f"/cohorts/{cohort.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _panel(page: str) -> str:
    start = page.index('data-panel="projects"')
    return page[start : page.index("</section>", start)]


def test_the_panel_counts_the_cohorts_projects_per_status_and_lists_delayed_milestones(
    admin, client_of
):
    world = project_world(admin)
    running = world.project(status=ProjectStatus.IN_PROGRESS)
    world.project(title="Water tanks", status=ProjectStatus.IN_PROGRESS, leader=world.other_learner)
    world.project(title="Recycling depot", status=ProjectStatus.SUBMITTED)
    world.milestone(
        running,
        title="Prototype built",
        due_date=TODAY - datetime.timedelta(days=5),
        status=MilestoneStatus.DELAYED,
    )
    world.milestone(running, title="Launch", due_date=TODAY + datetime.timedelta(days=5))
    other_cohort = CohortFactory(name="Another cohort", programme=world.programme, active=True)
    elsewhere = world.project(title="Not this cohort", cohort=other_cohort)
    world.milestone(
        elsewhere,
        title="Elsewhere late",
        due_date=TODAY - datetime.timedelta(days=9),
        status=MilestoneStatus.DELAYED,
    )

    panel = cohort_projects_panel(world.cohort, admin)
    assert panel is not None
    assert [(count.status, count.count) for count in panel["counts"]] == [
        ("submitted", 1),
        ("in_progress", 2),
    ]
    assert (panel["total"], panel["delayed_total"], panel["delayed_more"]) == (3, 1, 0)
    [delayed] = panel["delayed"]
    assert (delayed.title, delayed.project_title, delayed.days_late) == (
        "Prototype built",
        "Solar kiosks for taxi ranks",
        5,
    )

    shown = _panel(_page(client_of(admin), world.cohort))
    assert "Innovation projects" in shown
    assert "Prototype built" in shown
    assert "5 days late" in shown
    assert "Elsewhere late" not in shown
    assert re.search(r"In progress</span>\s+(<a[^>]*>)?2<", shown)
    assert re.search(r"Submitted</span>\s+(<a[^>]*>)?1<", shown)


def test_only_those_who_manage_projects_see_the_panel(admin):
    world = project_world(admin)
    world.project(status=ProjectStatus.SUBMITTED)
    ops = UserFactory(roles=[SystemRole.OPS_ADMIN])
    assert cohort_projects_panel(world.cohort, ops) is None
    assert cohort_projects_panel(world.cohort, world.learner) is None
    assert cohort_projects_panel(world.cohort, world.reviewers[0]) is None


def test_a_cohort_without_projects_says_what_happens_next(admin, client_of):
    world = project_world(admin)
    shown = _panel(_page(client_of(admin), world.cohort))
    assert "No innovation project names this cohort yet." in shown


def test_only_the_first_delayed_milestones_are_listed_and_the_rest_counted(admin):
    world = project_world(admin)
    project = world.project(status=ProjectStatus.IN_PROGRESS)
    for number in range(DELAYED_SHOWN + 3):
        world.milestone(
            project,
            title=f"Step {number}",
            due_date=TODAY - datetime.timedelta(days=30 - number),
            status=MilestoneStatus.DELAYED,
        )
    panel = cohort_projects_panel(world.cohort, admin)
    assert panel is not None
    assert [milestone.title for milestone in panel["delayed"]] == [
        f"Step {number}" for number in range(DELAYED_SHOWN)
    ]
    assert (panel["delayed_total"], panel["delayed_more"]) == (DELAYED_SHOWN + 3, 3)


def test_the_cohort_page_reads_the_same_queries_for_2_and_20_projects(admin, client_of):
    world = project_world(admin)
    client = client_of(admin)

    def add(count: int, start: int) -> None:
        for number in range(start, start + count):
            project = world.project(
                title=f"Project {number}",
                leader=world.learner if number % 2 else world.other_learner,
                status=ProjectStatus.IN_PROGRESS if number % 3 else ProjectStatus.SUBMITTED,
            )
            world.milestone(
                project,
                title=f"Late {number}",
                due_date=TODAY - datetime.timedelta(days=1),
                status=MilestoneStatus.DELAYED,
            )

    def queries() -> int:
        _page(client, world.cohort)
        with CaptureQueriesContext(connection) as captured:
            _page(client, world.cohort)
        return len(captured)

    add(2, 0)
    few = queries()
    add(18, 2)
    assert queries() == few
