"""The rules the database itself keeps, whatever a service does: one current leader, a role
held once at a time, dates in order."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from projects.models import MemberRole, ProjectMember, ProjectStatus, ReviewPanel
from tests.projects.support import project_world

DAY = datetime.date(2027, 2, 1)


@pytest.fixture
def world(admin):
    return project_world(admin)


def test_a_second_current_leader_is_refused(world):
    project = world.project()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectMember.objects.create(
            project=project, user=world.other_learner, role=MemberRole.LEADER, joined_date=DAY
        )


def test_a_leader_who_left_leaves_room_for_the_next(world):
    project = world.project()
    ProjectMember.objects.filter(project=project).update(left_date=DAY)
    ProjectMember.objects.create(
        project=project, user=world.other_learner, role=MemberRole.LEADER, joined_date=DAY
    )
    assert project.members.filter(left_date__isnull=True).count() == 1


def test_a_person_holds_a_role_once_at_a_time_and_may_come_back(world):
    project = world.project()
    first = ProjectMember.objects.create(
        project=project, user=world.other_learner, role=MemberRole.MEMBER, joined_date=DAY
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectMember.objects.create(
            project=project, user=world.other_learner, role=MemberRole.MEMBER, joined_date=DAY
        )
    first.left_date = DAY
    first.save()
    ProjectMember.objects.create(
        project=project, user=world.other_learner, role=MemberRole.MEMBER, joined_date=DAY
    )
    assert project.members.filter(user=world.other_learner).count() == 2


def test_leaving_before_joining_is_refused(world):
    project = world.project()
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectMember.objects.create(
            project=project,
            user=world.other_learner,
            role=MemberRole.MENTOR,
            joined_date=DAY,
            left_date=DAY - datetime.timedelta(days=1),
        )


def test_a_project_ends_after_it_starts(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        world.project(start_date=DAY, end_date=DAY - datetime.timedelta(days=1))


def test_one_panel_for_every_programme(world):
    ReviewPanel.objects.create(programme=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewPanel.objects.create(programme=None)


def test_the_world_writes_a_status_as_it_stands(world):
    project = world.project(status=ProjectStatus.IN_REVIEW)
    project.refresh_from_db()
    assert (project.status, project.round) == (ProjectStatus.IN_REVIEW, 1)
