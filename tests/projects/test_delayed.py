"""The daily task: milestones of approved or running projects, not done and due before today,
are marked delayed (an audit event without an actor), and the leader and the current mentors
are told once per missed due date, one e-mail per person listing their delayed milestones."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from notifications.models import OutboundEmail
from projects.models import MemberRole, MilestoneStatus, ProjectMember, ProjectStatus
from projects.services.milestones import milestone_edit, milestones_mark_delayed
from projects.tasks import milestones_mark_delayed_all_institutions, milestones_mark_delayed_due
from tests.projects.support import project_world

pytestmark = pytest.mark.django_db


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def world(admin):
    return project_world(admin)


def mentor_of(project, user, *, left: bool = False) -> None:
    ProjectMember.objects.create(
        project=project,
        user=user,
        role=MemberRole.MENTOR,
        joined_date=days(-30),
        left_date=days(-1) if left else None,
    )


def delay_emails():
    return sorted(
        (email.recipient, len(email.context["milestones"]))
        for email in OutboundEmail.objects.filter(template="project_milestones_delayed")
    )


def test_overdue_milestones_are_marked_delayed_and_told_once(world):
    project = world.project(status=ProjectStatus.IN_PROGRESS)
    mentor_of(project, world.reviewers[0])
    mentor_of(project, world.reviewers[1], left=True)
    missed = world.milestone(project, due_date=days(-2), title="Survey")
    started = world.milestone(
        project, due_date=days(-1), title="Pilot", status=MilestoneStatus.IN_PROGRESS
    )
    due_today = world.milestone(project, due_date=days(0), title="Launch")
    done = world.milestone(project, due_date=days(-5), status=MilestoneStatus.COMPLETED)

    assert milestones_mark_delayed_due() == {"delayed": 2}

    for milestone, status in (
        (missed, MilestoneStatus.DELAYED),
        (started, MilestoneStatus.DELAYED),
        (due_today, MilestoneStatus.PENDING),
        (done, MilestoneStatus.COMPLETED),
    ):
        milestone.refresh_from_db()
        assert milestone.status == status
    assert missed.delay_notified_for == missed.due_date
    events = AuditEvent.objects.filter(action="project.milestone_delayed")
    assert events.count() == 2
    assert all(event.actor is None for event in events)
    assert {event.old_values["status"] for event in events} == {"pending", "in_progress"}
    assert delay_emails() == sorted([(world.learner.email, 2), (world.reviewers[0].email, 2)])
    email = OutboundEmail.objects.filter(template="project_milestones_delayed").first()
    titles = [item["title"] for item in email.context["milestones"]]
    assert titles == ["Survey", "Pilot"]
    assert email.context["milestones"][0]["days_late"] == 2

    assert milestones_mark_delayed_due() == {"delayed": 0}
    assert len(delay_emails()) == 2
    assert AuditEvent.objects.filter(action="project.milestone_delayed").count() == 2


def test_one_email_per_person_across_their_projects(world):
    first = world.project(status=ProjectStatus.IN_PROGRESS, title="First")
    second = world.project(status=ProjectStatus.APPROVED, title="Second")
    world.milestone(first, due_date=days(-1))
    world.milestone(second, due_date=days(-3))
    milestones_mark_delayed(today=days(0))
    assert delay_emails() == [(world.learner.email, 2)]


@pytest.mark.parametrize(
    "status",
    [ProjectStatus.DRAFT, ProjectStatus.SUBMITTED, ProjectStatus.REJECTED, ProjectStatus.COMPLETED],
    ids=str,
)
def test_milestones_of_projects_not_running_are_left_alone(world, status):
    project = world.project(status=status)
    milestone = world.milestone(project, due_date=days(-3))
    assert milestones_mark_delayed(today=days(0)) == 0
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.PENDING
    assert delay_emails() == []


def test_a_new_due_date_missed_again_is_told_again(world):
    project = world.project(status=ProjectStatus.IN_PROGRESS)
    milestone = world.milestone(project, due_date=days(-3))
    milestones_mark_delayed(today=days(0))
    milestone.refresh_from_db()
    milestone_edit(actor=world.learner, milestone=milestone, title="Survey", due_date=days(2))
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.PENDING
    assert milestones_mark_delayed(today=days(3)) == 1
    assert delay_emails() == [(world.learner.email, 1), (world.learner.email, 1)]
    milestone.refresh_from_db()
    assert milestone.delay_notified_for == days(2)


def test_the_beat_entry_queues_a_run_per_institution(world, institution, eager):
    project = world.project(status=ProjectStatus.IN_PROGRESS)
    milestone = world.milestone(project, due_date=days(-3))
    milestones_mark_delayed_all_institutions()
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.DELAYED
