"""Milestone evidence goes through the antivirus hook of students' documents (enrolments.
scanning), against the fake clamd of the upload tests: a file waits for its scan and is served
once found clean; an infected one is removed and never served."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from enrolments.models import ScanStatus
from projects.models import MilestoneEvidence, MilestoneStatus, ProjectStatus
from tests.files import PDF_BYTES
from tests.projects.support import project_world
from tests.uploads import conftest as upload_fixtures
from tests.uploads.hostile import pdf_with_virus_marker

pytestmark = pytest.mark.django_db

# The fake ClamAV daemon of the upload tests, configured as the scanner.
fake_clamd = upload_fixtures.fake_clamd


@pytest.fixture
def world(admin):
    return project_world(admin)


def completed_with(client, milestone, content: bytes) -> None:
    response = client.post(
        reverse("projects:milestone_complete", args=[milestone.pk]),
        {"file": SimpleUploadedFile("report.pdf", content)},
    )
    assert response.status_code == 302


def test_a_file_is_served_once_scanned_clean(
    world, client_of, media, fake_clamd, eager, django_capture_on_commit_callbacks
):
    project = world.project(status=ProjectStatus.IN_PROGRESS)
    milestone = world.milestone(project, due_date=timezone.localdate() + datetime.timedelta(3))
    client = client_of(world.learner)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        completed_with(client, milestone, PDF_BYTES)
    evidence = MilestoneEvidence.objects.get()
    assert evidence.scan_status == ScanStatus.SCANNING
    file_url = reverse("projects:milestone_evidence", args=[evidence.pk])
    assert client.get(file_url).status_code == 404

    for callback in callbacks:
        callback()

    evidence.refresh_from_db()
    assert evidence.scan_status == ScanStatus.CLEAN
    assert fake_clamd.streams == [PDF_BYTES]
    assert client.get(file_url).status_code == 200
    assert AuditEvent.objects.filter(action="projects.milestone_evidence_scanned").count() == 1


def test_an_infected_file_is_removed_and_never_served(
    world, client_of, media, fake_clamd, eager, django_capture_on_commit_callbacks
):
    project = world.project(status=ProjectStatus.IN_PROGRESS)
    milestone = world.milestone(project, due_date=timezone.localdate() + datetime.timedelta(3))
    client = client_of(world.learner)
    with django_capture_on_commit_callbacks(execute=True):
        completed_with(client, milestone, pdf_with_virus_marker())

    evidence = MilestoneEvidence.objects.get()
    assert evidence.scan_status == ScanStatus.INFECTED
    assert not evidence.file
    assert [path for path in media.rglob("*") if path.is_file()] == []
    [event] = AuditEvent.objects.filter(action="projects.milestone_evidence_quarantined")
    assert event.new_values["signature"] == "Eicar-Signature"
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.COMPLETED
    file_url = reverse("projects:milestone_evidence", args=[evidence.pk])
    assert client.get(file_url).status_code == 404
