"""Staff's projects list and portfolio, and a project's Overview and Activity tabs: filters,
search and pages, who reaches what (another learner's and another institution's project are
the audited 404), the reasons shown only to the team and managers, and the timeline."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import SystemRole
from audit.models import AuditEvent
from projects.models import (
    InnovationProject,
    MemberRole,
    MilestoneStatus,
    ProjectMember,
    ProjectStatus,
    ProjectStatusChange,
)
from tests.factories import CohortFactory, ProgrammeFactory, UserFactory
from tests.projects.support import learner_user, project_world

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2027, 3, 10)


@pytest.fixture
def world(admin):
    return project_world(admin)


def _titles(response) -> list[str]:
    return [project.title for project in response.context["page"].object_list]


# --- The list ----------------------------------------------------------------------------------


def test_the_list_filters_by_status_programme_and_cohort(world, client_of):
    other_programme = ProgrammeFactory(name="Hospitality NQF 4")
    other_cohort = CohortFactory(name="Hospitality 2027", programme=other_programme)
    world.project(title="Solar kiosks", status=ProjectStatus.IN_REVIEW)
    world.project(title="Water tanks", status=ProjectStatus.DRAFT, leader=world.other_learner)
    world.project(
        title="Hotel recycling",
        status=ProjectStatus.IN_REVIEW,
        programme=other_programme,
        cohort=other_cohort,
        leader=learner_user(),
    )
    client = client_of(world.admin)
    url = reverse("projects:list")

    assert sorted(_titles(client.get(url))) == ["Hotel recycling", "Solar kiosks", "Water tanks"]
    assert sorted(_titles(client.get(url, {"status": "in_review"}))) == [
        "Hotel recycling",
        "Solar kiosks",
    ]
    assert _titles(client.get(url, {"programme": other_programme.pk})) == ["Hotel recycling"]
    assert sorted(_titles(client.get(url, {"cohort": world.cohort.pk}))) == [
        "Solar kiosks",
        "Water tanks",
    ]
    assert _titles(client.get(url, {"status": "in_review", "programme": world.programme.pk})) == [
        "Solar kiosks"
    ]


def test_the_list_searches_titles_and_the_current_leaders_name(world, client_of):
    world.project(title="Solar kiosks")
    water = world.project(title="Water tanks", leader=world.other_learner)
    client = client_of(world.admin)
    url = reverse("projects:list")

    assert _titles(client.get(url, {"q": "solar"})) == ["Solar kiosks"]
    assert _titles(client.get(url, {"q": "pieter"})) == ["Water tanks"]
    response = client.get(url, {"q": "nothing like it"})
    assert _titles(response) == []
    assert "No project matches these filters." in response.content.decode()

    # A past leader is not searched: the list shows who leads now.
    ProjectMember.objects.filter(project=water).update(left_date=TODAY)
    ProjectMember.objects.create(
        project=water, user=world.learner, role=MemberRole.LEADER, joined_date=TODAY
    )
    assert _titles(client.get(url, {"q": "pieter"})) == []
    assert sorted(_titles(client.get(url, {"q": "thandi"}))) == ["Solar kiosks", "Water tanks"]


def test_the_list_shows_the_leader_milestones_and_last_change(world, client_of):
    project = world.project(title="Solar kiosks", status=ProjectStatus.IN_PROGRESS)
    world.milestone(project, due_date=TODAY, status=MilestoneStatus.COMPLETED)
    world.milestone(project, due_date=TODAY, status=MilestoneStatus.DELAYED)
    world.milestone(project, due_date=TODAY)
    response = client_of(world.admin).get(reverse("projects:list"))
    row = response.context["page"].object_list[0]
    assert (row.leader_name, row.milestones_completed, row.milestones_total) == (
        "Thandi Nkosi",
        1,
        3,
    )
    assert row.milestones_delayed == 1
    text = response.content.decode()
    assert "1 of 3 completed" in text
    assert "1 delayed" in text


def test_the_list_is_newest_change_first_and_paginated_keeping_its_filters(world, client_of):
    for number in range(30):
        world.project(title=f"Project {number:02}", leader=learner_user())
    InnovationProject.objects.filter(title="Project 05").update(
        updated_at=timezone.now() + datetime.timedelta(hours=1)
    )
    client = client_of(world.admin)
    first = client.get(reverse("projects:list"), {"status": "draft"})
    assert _titles(first)[0] == "Project 05"
    assert len(_titles(first)) == 25
    assert "status=draft&amp;page=2" in first.content.decode()
    second = client.get(reverse("projects:list"), {"status": "draft", "page": 2})
    assert len(_titles(second)) == 5


def test_the_empty_list_says_what_projects_are(world, client_of):
    text = client_of(world.admin).get(reverse("projects:list")).content.decode()
    assert "No innovation projects yet." in text
    assert "Learners propose them from My projects" in text


@pytest.mark.parametrize("page", ["projects:list", "projects:portfolio"])
def test_only_managers_open_the_list_and_the_portfolio(world, client_of, page):
    trainer = world.reviewers[0]
    for person in (world.learner, trainer, world.organisation_member):
        assert client_of(person).get(reverse(page)).status_code == 404
    assert AuditEvent.objects.filter(
        action="permission.denied", actor=trainer, entity_id__startswith="view:projects."
    ).exists()
    assert client_of(world.admin).get(reverse(page)).status_code == 200


# --- Overview ----------------------------------------------------------------------------------


def test_the_overview_shows_the_proposal_team_and_milestones(world, client_of):
    project = world.project(
        status=ProjectStatus.IN_PROGRESS,
        objectives="Build two kiosks.\nRun them for a term.",
        start_date=datetime.date(2027, 2, 1),
        end_date=datetime.date(2027, 11, 30),
    )
    ProjectMember.objects.create(
        project=project,
        user=world.organisation_member,
        role=MemberRole.MENTOR,
        joined_date=TODAY,
    )
    ProjectMember.objects.create(
        project=project, user=world.other_learner, role=MemberRole.MEMBER, joined_date=TODAY
    )
    world.milestone(project, due_date=TODAY, status=MilestoneStatus.COMPLETED)
    world.milestone(project, due_date=datetime.date(2027, 2, 20), status=MilestoneStatus.DELAYED)
    world.milestone(project, due_date=datetime.date(2027, 5, 1), title="Second kiosk")

    response = client_of(world.learner).get(reverse("projects:project", args=[project.pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Build two kiosks.<br>Run them for a term." in text
    assert "1 Feb 2027 to 30 Nov 2027" in text
    team = response.context["team"]
    assert (team.leader, team.mentors, team.members) == (
        world.learner,
        [world.organisation_member],
        3,
    )
    milestones = response.context["milestones"]
    assert (milestones.completed, milestones.total, milestones.delayed) == (1, 3, 1)
    assert milestones.next_due == datetime.date(2027, 2, 20)
    # Not a draft: nobody edits the proposal.
    assert not response.context["may_edit"]


def test_the_leader_of_a_draft_may_edit_the_proposal(world, client_of):
    project = world.project(status=ProjectStatus.DRAFT)
    assert client_of(world.learner).get(project.get_absolute_url()).context["may_edit"]
    reviewer = world.reviewers[0]
    project.review_assignments.create(round=project.round, reviewer=reviewer)
    assert not client_of(reviewer).get(project.get_absolute_url()).context["may_edit"]


def test_the_reason_for_sending_back_shows_to_the_team_and_managers_only(world, client_of):
    project = world.project(status=ProjectStatus.DRAFT, round=1)
    reviewer = world.reviewers[0]
    project.review_assignments.create(round=1, reviewer=reviewer)
    ProjectStatusChange.objects.create(
        project=project,
        round=1,
        from_status=ProjectStatus.IN_REVIEW,
        to_status=ProjectStatus.DRAFT,
        reason="Say how the kiosks are paid for.",
        actor=world.admin,
    )
    url = project.get_absolute_url()
    for person in (world.learner, world.admin):
        text = client_of(person).get(url).content.decode()
        assert "Sent back for changes" in text
        assert "Say how the kiosks are paid for." in text
    response = client_of(reviewer).get(url)
    assert response.status_code == 200
    assert "Say how the kiosks are paid for." not in response.content.decode()


def test_the_latest_decision_is_the_one_shown(world, client_of):
    project = world.project(status=ProjectStatus.APPROVED, round=2)
    for from_status, to_status, reason in [
        (ProjectStatus.IN_REVIEW, ProjectStatus.REJECTED, "Too costly."),
        (ProjectStatus.REJECTED, ProjectStatus.DRAFT, ""),
        (ProjectStatus.IN_REVIEW, ProjectStatus.APPROVED, "A clear plan now."),
    ]:
        ProjectStatusChange.objects.create(
            project=project,
            round=2,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            actor=world.admin,
        )
    text = client_of(world.learner).get(project.get_absolute_url()).content.decode()
    assert "A clear plan now." in text
    assert "Too costly." not in text


def test_another_learner_gets_the_audited_404(world, client_of):
    project = world.project()
    for name in ("projects:project", "projects:activity"):
        assert client_of(world.other_learner).get(reverse(name, args=[project.pk])).status_code == (
            404
        )
    assert AuditEvent.objects.filter(
        action="permission.denied", actor=world.other_learner, entity_id="view:projects.project"
    ).exists()
    assert AuditEvent.objects.filter(
        action="permission.denied", actor=world.other_learner, entity_id="view:projects.activity"
    ).exists()
    assert client_of(world.other_learner).get(
        reverse("projects:project", args=[0])
    ).status_code == (404)


def test_another_institutions_project_is_not_found(institution, other_institution, client_of):
    with tenant_context(other_institution):
        theirs = InnovationProject.objects.create(
            title="Beta's secret venture", created_by=UserFactory(roles=[SystemRole.STUDENT])
        )
    connection.set_tenant(institution)
    admin = UserFactory(roles=[SystemRole.ADMIN])
    assert not InnovationProject.objects.filter(pk=theirs.pk).exists()
    for name in ("projects:project", "projects:activity"):
        response = client_of(admin).get(reverse(name, args=[theirs.pk]))
        assert response.status_code == 404
        assert "Beta&#x27;s secret venture" not in response.content.decode()


# --- Activity ----------------------------------------------------------------------------------


def test_the_activity_lists_what_happened_newest_first(world, client_of):
    project = world.project(status=ProjectStatus.IN_PROGRESS)
    change = ProjectStatusChange.objects.create(
        project=project,
        round=1,
        from_status=ProjectStatus.DRAFT,
        to_status=ProjectStatus.SUBMITTED,
        actor=world.learner,
    )
    ProjectStatusChange.objects.filter(pk=change.pk).update(
        at=datetime.datetime(2027, 3, 5, 9, 30, tzinfo=datetime.UTC)
    )
    ProjectMember.objects.create(
        project=project,
        user=world.other_learner,
        role=MemberRole.MEMBER,
        joined_date=datetime.date(2027, 2, 1),
        left_date=datetime.date(2027, 3, 1),
    )
    world.milestone(
        project,
        title="Prototype built",
        due_date=datetime.date(2027, 2, 10),
        completed_date=datetime.date(2027, 2, 8),
        status=MilestoneStatus.COMPLETED,
    )
    world.milestone(
        project,
        title="First sale",
        due_date=datetime.date(2027, 2, 20),
        status=MilestoneStatus.DELAYED,
    )
    world.milestone(project, title="Still pending", due_date=datetime.date(2027, 6, 1))

    response = client_of(world.learner).get(reverse("projects:activity", args=[project.pk]))
    assert response.status_code == 200
    events = list(response.context["page"].object_list)
    assert [event.kind for event in events] == [
        "status",  # 5 Mar
        "left",  # 1 Mar
        "milestone_delayed",  # due 20 Feb
        "milestone_completed",  # 8 Feb
        "joined",  # 1 Feb
        "joined",  # the leader, 15 Jan
    ]
    text = response.content.decode()
    assert "Pieter Other left (was member)" in text
    assert 'Milestone completed: <span class="fw-semibold">Prototype built' in text
    assert "First sale" in text
    assert "Still pending" not in text
    assert "by Thandi Nkosi" in text


def test_the_activity_is_paginated(world, client_of):
    project = world.project(status=ProjectStatus.IN_PROGRESS)
    for number in range(30):
        world.milestone(
            project,
            title=f"Step {number}",
            due_date=TODAY,
            completed_date=TODAY - datetime.timedelta(days=number),
            status=MilestoneStatus.COMPLETED,
        )
    client = client_of(world.admin)
    url = reverse("projects:activity", args=[project.pk])
    assert len(client.get(url).context["page"].object_list) == 25
    assert len(client.get(url, {"page": 2}).context["page"].object_list) == 6
