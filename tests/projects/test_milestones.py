"""Milestones: planning (title, due date within the project's dates), editing (a delayed one
given a date to come is pending again), deleting only pending ones, starting and completing
with evidence (a file through the safe upload path, a link, or both), the evidence file served
only to who reaches the project; starting and completing the project. Each with its audit
event; anyone else gets the 404."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import kept_out
from enrolments.evidence import evidence_document_type
from enrolments.uploads import document_upload_check
from projects.models import (
    MemberRole,
    MilestoneEvidence,
    MilestoneStatus,
    ProjectMember,
    ProjectStatus,
)
from projects.services import milestones as milestone_services
from projects.services.milestones import (
    milestone_add,
    milestone_complete,
    milestone_delete,
    milestone_edit,
    milestone_start,
    project_complete,
    project_start,
)
from tests.files import PDF_BYTES, png_bytes
from tests.projects.support import learner_user, project_world

pytestmark = pytest.mark.django_db


def today():
    return timezone.localdate()


def days(n: int) -> datetime.date:
    return today() + datetime.timedelta(days=n)


@pytest.fixture
def world(admin):
    return project_world(admin)


@pytest.fixture
def project(world):
    return world.project(status=ProjectStatus.IN_PROGRESS)


def refusals(action):
    return AuditEvent.objects.filter(action="permission.denied", entity_id=action).count()


def checked_png():
    return document_upload_check(
        upload=SimpleUploadedFile("prototype.png", png_bytes()),
        document_type=evidence_document_type("Milestone evidence"),
    )


# --- Planning ---------------------------------------------------------------------------------


def test_the_leader_plans_a_milestone(world, project):
    milestone = milestone_add(
        actor=world.learner, project=project, title=" Prototype ", due_date=days(10)
    )
    assert (milestone.title, milestone.status) == ("Prototype", MilestoneStatus.PENDING)
    event = AuditEvent.objects.get(action="project.milestone_add")
    assert event.new_values["due_date"] == days(10).isoformat()


def test_a_title_is_required_and_the_due_date_within_the_projects_dates(world):
    project = world.project(status=ProjectStatus.APPROVED, start_date=days(1), end_date=days(30))
    with pytest.raises(ValidationError) as refused:
        milestone_add(actor=world.learner, project=project, title=" ", due_date=days(5))
    assert "title" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        milestone_add(actor=world.learner, project=project, title="Early", due_date=days(0))
    assert "on or after the project's start" in refused.value.message_dict["due_date"][0]
    with pytest.raises(ValidationError) as refused:
        milestone_add(actor=world.learner, project=project, title="Late", due_date=days(31))
    assert "on or before the project's end" in refused.value.message_dict["due_date"][0]
    assert not AuditEvent.objects.filter(action="project.milestone_add").exists()


def test_a_member_or_another_learner_may_not_plan(world, project):
    ProjectMember.objects.create(
        project=project, user=world.other_learner, role=MemberRole.MEMBER, joined_date=today()
    )
    for actor in (world.other_learner, learner_user()):
        with pytest.raises(PermissionDenied):
            milestone_add(actor=actor, project=project, title="Mine", due_date=days(3))
    assert refusals("project.milestone_add") == 2


def test_editing_a_delayed_milestone_to_a_date_to_come_reschedules_it(world, project):
    milestone = world.milestone(project, due_date=days(-3), status=MilestoneStatus.DELAYED)
    milestone_edit(actor=world.learner, milestone=milestone, title="Later", due_date=days(-1))
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.DELAYED
    milestone_edit(actor=world.learner, milestone=milestone, title="Later", due_date=days(7))
    milestone.refresh_from_db()
    assert (milestone.status, milestone.due_date) == (MilestoneStatus.PENDING, days(7))
    last = AuditEvent.objects.filter(action="project.milestone_edit").order_by("pk").last()
    assert last.old_values["status"] == "delayed"
    assert last.new_values["status"] == "pending"


def test_a_completed_milestone_is_not_edited_or_deleted(world, project):
    milestone = world.milestone(project, due_date=days(-3), status=MilestoneStatus.COMPLETED)
    with pytest.raises(ValidationError, match="completed"):
        milestone_edit(actor=world.admin, milestone=milestone, title="X", due_date=days(3))
    with pytest.raises(ValidationError, match="part of the project's record"):
        milestone_delete(actor=world.admin, milestone=milestone)
    assert list(project.milestones.all()) == [milestone]


@pytest.mark.parametrize(
    "status",
    [MilestoneStatus.PENDING, MilestoneStatus.IN_PROGRESS, MilestoneStatus.DELAYED],
    ids=str,
)
def test_a_milestone_not_completed_is_deleted(world, project, status):
    milestone = world.milestone(project, due_date=days(-3), status=status)
    milestone_delete(actor=world.learner, milestone=milestone)
    assert not project.milestones.exists()
    event = AuditEvent.objects.get(action="project.milestone_delete")
    assert event.old_values["title"] == milestone.title
    assert event.old_values["status"] == status


# --- Working on them --------------------------------------------------------------------------


def test_a_member_starts_and_completes_a_milestone_with_a_link(world, project):
    ProjectMember.objects.create(
        project=project, user=world.other_learner, role=MemberRole.MEMBER, joined_date=today()
    )
    milestone = world.milestone(project, due_date=days(3))
    milestone_start(actor=world.other_learner, milestone=milestone)
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.IN_PROGRESS
    assert AuditEvent.objects.filter(action="project.milestone_start").count() == 1
    milestone_complete(
        actor=world.other_learner,
        milestone=milestone,
        evidence_link="https://example.org/kiosk",
        evidence_note="Running since Monday.",
    )
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.COMPLETED
    assert milestone.completed_date == today()
    assert milestone.evidence_link == "https://example.org/kiosk"
    event = AuditEvent.objects.get(action="project.milestone_complete")
    assert event.old_values == {"status": "in_progress"}
    assert event.new_values["evidence_link"] == kept_out("https://example.org/kiosk")
    assert "example.org" not in str(event.new_values)


def test_completing_requires_evidence_and_a_web_link(world, project):
    milestone = world.milestone(project, due_date=days(3))
    with pytest.raises(ValidationError, match="a file, a link, or both"):
        milestone_complete(actor=world.learner, milestone=milestone, evidence_note="Done")
    for link in ("javascript:alert(1)", "ftp://example.org/x", "not a link"):
        with pytest.raises(ValidationError) as refused:
            milestone_complete(actor=world.learner, milestone=milestone, evidence_link=link)
        assert "http://" in refused.value.message_dict["evidence_link"][0]
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.PENDING
    assert not AuditEvent.objects.filter(action="project.milestone_complete").exists()


def test_a_delayed_milestone_may_still_be_completed_with_a_file(world, project, media):
    milestone = world.milestone(project, due_date=days(-3), status=MilestoneStatus.DELAYED)
    milestone_complete(
        actor=world.learner, milestone=milestone, checked=checked_png(), scan_status="not_scanned"
    )
    evidence = MilestoneEvidence.objects.get(milestone=milestone)
    assert evidence.file.name.startswith("projects/milestoneevidence/")
    assert evidence.uploaded_by == world.learner
    event = AuditEvent.objects.get(action="project.milestone_complete")
    assert event.new_values["evidence_file"]["size"] == evidence.size


def test_a_refused_completion_keeps_no_file(world, project, media):
    milestone = world.milestone(project, due_date=days(3), status=MilestoneStatus.COMPLETED)
    with pytest.raises(ValidationError, match="already"):
        milestone_complete(
            actor=world.learner,
            milestone=milestone,
            checked=checked_png(),
            scan_status="not_scanned",
        )
    assert not MilestoneEvidence.objects.exists()
    stored = media.rglob("milestoneevidence/*")
    assert [path for path in stored if path.is_file()] == []


def test_the_file_is_removed_when_completing_does_not_commit(world, project, media, monkeypatch):
    milestone = world.milestone(project, due_date=days(3))

    def audit_trail_down(**kwargs):
        raise RuntimeError("The audit trail is not available.")

    monkeypatch.setattr(milestone_services, "audit_record", audit_trail_down)
    with pytest.raises(RuntimeError):
        milestone_complete(
            actor=world.learner,
            milestone=milestone,
            checked=checked_png(),
            scan_status="not_scanned",
        )
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.PENDING
    assert [path for path in media.rglob("*") if path.is_file()] == []


def test_milestones_move_only_while_the_project_runs_and_by_its_workers(world):
    project = world.project(status=ProjectStatus.APPROVED)
    milestone = world.milestone(project, due_date=days(3))
    with pytest.raises(PermissionDenied):
        milestone_start(actor=world.learner, milestone=milestone)
    running = world.project(status=ProjectStatus.IN_PROGRESS, title="Running")
    ProjectMember.objects.create(
        project=running, user=world.reviewers[0], role=MemberRole.MENTOR, joined_date=today()
    )
    other = world.milestone(running, due_date=days(3))
    with pytest.raises(PermissionDenied):
        milestone_start(actor=world.reviewers[0], milestone=other)
    assert refusals("project.milestone_start") == 2


# --- Starting and completing the project ------------------------------------------------------


def test_the_leader_starts_an_approved_project_today(world):
    project = world.project(status=ProjectStatus.APPROVED)
    project_start(actor=world.learner, project=project)
    project.refresh_from_db()
    assert (project.status, project.start_date) == (ProjectStatus.IN_PROGRESS, today())
    event = AuditEvent.objects.get(action="project.start")
    assert event.old_values == {"status": "approved"}
    assert event.new_values["start_date"] == today().isoformat()
    assert project.status_changes.get().to_status == ProjectStatus.IN_PROGRESS
    with pytest.raises(ValidationError, match="in progress"):
        project_start(actor=world.learner, project=project)


def test_a_member_may_not_start_the_project(world):
    project = world.project(status=ProjectStatus.APPROVED)
    ProjectMember.objects.create(
        project=project, user=world.other_learner, role=MemberRole.MEMBER, joined_date=today()
    )
    with pytest.raises(PermissionDenied):
        project_start(actor=world.other_learner, project=project)
    assert refusals("project.start") == 1


def test_the_project_completes_only_with_every_milestone_completed(world, project):
    world.milestone(project, due_date=days(-1), status=MilestoneStatus.COMPLETED)
    world.milestone(project, due_date=days(3), title="Launch")
    with pytest.raises(ValidationError, match="delete those no longer planned: Launch"):
        project_complete(actor=world.learner, project=project)
    milestone_delete(actor=world.learner, milestone=project.milestones.get(title="Launch"))
    project_complete(actor=world.admin, project=project)
    project.refresh_from_db()
    assert project.status == ProjectStatus.COMPLETED
    assert AuditEvent.objects.get(action="project.complete").actor == world.admin


# --- Pages ------------------------------------------------------------------------------------


def test_the_timeline_shows_status_evidence_overdue_days_and_today(world, project, client_of):
    world.milestone(project, due_date=days(-4), title="Survey", status=MilestoneStatus.DELAYED)
    world.milestone(
        project,
        due_date=days(-10),
        title="Idea",
        status=MilestoneStatus.COMPLETED,
        completed_date=days(-9),
        evidence_link="https://example.org/idea",
    )
    world.milestone(project, due_date=days(5), title="Launch")
    page = client_of(world.learner).get(reverse("projects:milestones", args=[project.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert body.index("Idea") < body.index("Survey") < body.index("Today,") < body.index("Launch")
    assert "4 days overdue" in body
    assert "https://example.org/idea" in body
    assert "Complete the project" in body


def test_the_empty_timeline_says_what_to_do(world, project, client_of):
    page = client_of(world.learner).get(reverse("projects:milestones", args=[project.pk]))
    assert "Add a milestone" in page.content.decode()


def test_completing_through_the_page_with_a_file_and_serving_it(world, project, client_of, media):
    milestone = world.milestone(project, due_date=days(3))
    url = reverse("projects:milestone_complete", args=[milestone.pk])
    client = client_of(world.learner)
    bad = client.post(url, {"file": SimpleUploadedFile("notes.png", b"<html>hi</html>")})
    assert bad.status_code == 400
    assert not MilestoneEvidence.objects.exists()
    done = client.post(
        url, {"file": SimpleUploadedFile("report.pdf", PDF_BYTES), "evidence_note": "Report"}
    )
    assert done.status_code == 302
    evidence = MilestoneEvidence.objects.get()
    file_url = reverse("projects:milestone_evidence", args=[evidence.pk])
    assert client.get(file_url).status_code == 200
    assert client_of(world.admin).get(file_url).status_code == 200
    assert client_of(world.other_learner).get(file_url).status_code == 404


def test_a_bad_link_is_refused_on_the_page(world, project, client_of):
    milestone = world.milestone(project, due_date=days(3))
    url = reverse("projects:milestone_complete", args=[milestone.pk])
    client = client_of(world.learner)
    refused = client.post(url, {"evidence_link": "javascript:alert(1)"})
    assert refused.status_code == 400
    assert "starting with http:// or https://" in refused.content.decode()
    none = client.post(url, {"evidence_note": "Done"})
    assert none.status_code == 400
    assert "a file, a link, or both" in none.content.decode()
    assert client.post(url, {"evidence_link": "https://example.org"}).status_code == 302


def test_milestone_pages_work_and_refuse(world, project, client_of):
    milestone = world.milestone(project, due_date=days(3))
    client = client_of(world.learner)
    add = client.post(
        reverse("projects:milestone_add", args=[project.pk]),
        {"title": "Pitch", "due_date": days(9).isoformat()},
    )
    assert add.status_code == 302
    edit = client.post(
        reverse("projects:milestone_edit", args=[milestone.pk]),
        {"title": "", "due_date": days(9).isoformat()},
    )
    assert edit.status_code == 400
    assert client.post(reverse("projects:milestone_start", args=[milestone.pk])).status_code == 302
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.IN_PROGRESS
    complete = reverse("projects:milestone_complete", args=[milestone.pk])
    assert client.post(complete, {"evidence_link": "https://example.org"}).status_code == 302
    delete = client.post(reverse("projects:milestone_delete", args=[milestone.pk]))
    assert delete.status_code == 400
    assert project.milestones.filter(pk=milestone.pk).exists()
    pitch = project.milestones.get(title="Pitch")
    assert client.get(reverse("projects:milestone_delete", args=[pitch.pk])).status_code == 200
    assert client.post(reverse("projects:milestone_delete", args=[pitch.pk])).status_code == 302


def test_project_start_and_complete_pages(world, client_of):
    project = world.project(status=ProjectStatus.APPROVED)
    client = client_of(world.learner)
    tab = client.get(reverse("projects:milestones", args=[project.pk])).content.decode()
    assert "Start the project" in tab
    start = reverse("projects:project_start", args=[project.pk])
    assert client.get(start).status_code == 200
    assert client.post(start).status_code == 302
    world.milestone(project, due_date=days(3), title="Launch")
    launch = project.milestones.get(title="Launch")
    complete = reverse("projects:project_complete", args=[project.pk])
    page = client.get(complete).content.decode()
    assert "Launch" in page
    assert reverse("projects:milestone_delete", args=[launch.pk]) in page
    refused = client.post(complete)
    assert refused.status_code == 400
    assert "delete those no longer planned" in refused.content.decode()


def test_another_learner_gets_404_on_every_milestone_page(world, project, client_of):
    milestone = world.milestone(project, due_date=days(3))
    stranger = client_of(world.other_learner)
    for url in (
        reverse("projects:milestones", args=[project.pk]),
        reverse("projects:milestone_add", args=[project.pk]),
        reverse("projects:milestone_edit", args=[milestone.pk]),
        reverse("projects:milestone_delete", args=[milestone.pk]),
        reverse("projects:milestone_complete", args=[milestone.pk]),
        reverse("projects:project_start", args=[project.pk]),
        reverse("projects:project_complete", args=[project.pk]),
    ):
        assert stranger.get(url).status_code == 404, url
    assert (
        stranger.post(reverse("projects:milestone_start", args=[milestone.pk])).status_code == 404
    )
