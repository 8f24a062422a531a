"""Evidence files go through the antivirus hook students' documents use (enrolments.scanning),
against the fake clamd on the loopback address: a logbook photo and a portfolio document wait
for their scan and are readable once it finds them clean; an infected one is removed, recorded
as infected and can never be downloaded."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from enrolments.models import ScanStatus
from placements.models import Placement
from tests.files import PDF_BYTES, png_bytes
from tests.uploads import conftest as upload_fixtures
from tests.uploads.hostile import pdf_with_virus_marker
from tests.workplace.support import Workplace, workplace_world
from workplace.models import EvidenceKind, LogbookEntry, LogbookEvidence, PortfolioEvidence
from workplace.services.evidence import evidence_is_readable
from workplace.services.logbook import entry_add, week_monday
from workplace.services.portfolios import portfolio_open

pytestmark = pytest.mark.django_db

# The fake ClamAV daemon of the upload tests, configured as the scanner.
fake_clamd = upload_fixtures.fake_clamd

TODAY = timezone.localdate()
LAST_MONDAY = week_monday(TODAY) - datetime.timedelta(days=7)


@pytest.fixture
def world(admin) -> Workplace:
    """The learners' placements run now, so that last week can be logged."""
    world = workplace_world(admin, learners=1)
    Placement.objects.filter(pk=world.learner.placement.pk).update(
        starts_on=LAST_MONDAY - datetime.timedelta(days=21),
        ends_on=TODAY + datetime.timedelta(days=60),
    )
    world.learner.placement.refresh_from_db()
    return world


@pytest.fixture
def media_files(media):
    """Every file stored under the media folder."""
    return lambda: sorted(path for path in media.rglob("*") if path.is_file())


def logged(world: Workplace) -> LogbookEntry:
    return entry_add(
        actor=world.learner.user,
        placement=world.learner.placement,
        entry_date=LAST_MONDAY,
        hours=Decimal("8"),
        tasks="Taught a Grade 5 class fractions",
        outcomes=[world.outcomes[0]],
    )


def photo_upload(client, entry: LogbookEntry, content: bytes, name: str = "lesson.png"):
    response = client.post(
        reverse("workplace:entry_evidence_add", args=[entry.pk]),
        {"file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 302, response.content.decode()


def document_upload(client, world: Workplace, content: bytes):
    portfolio = portfolio_open(
        actor=world.learner.user,
        course_enrollment=world.learner.course_enrollment,
        outcome=world.outcomes[0],
    )
    response = client.post(
        reverse("workplace:portfolio_evidence_add", args=[portfolio.pk]),
        {
            "kind": "document",
            "title": "Lesson plan",
            "file": SimpleUploadedFile("plan.pdf", content),
        },
    )
    assert response.status_code == 302, response.content.decode()


def test_a_logbook_photo_is_readable_once_scanned_clean(
    world, client_of, media, fake_clamd, eager, django_capture_on_commit_callbacks
):
    entry = logged(world)
    client = client_of(world.learner.user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        photo_upload(client, entry, png_bytes())
    evidence = LogbookEvidence.objects.get(entry=entry)
    assert evidence.scan_status == ScanStatus.SCANNING
    assert not evidence_is_readable(evidence)
    file_url = reverse("workplace:logbook_evidence_file", args=[evidence.pk])
    assert client.get(file_url).status_code == 404
    assert fake_clamd.streams == []

    for callback in callbacks:
        callback()

    evidence.refresh_from_db()
    assert evidence.scan_status == ScanStatus.CLEAN
    assert len(fake_clamd.streams) == 1
    assert evidence_is_readable(evidence)
    assert client.get(file_url).status_code == 200
    assert client_of(world.mentor).get(file_url).status_code == 200
    assert AuditEvent.objects.filter(action="workplace.logbook_evidence_scanned").count() == 1


def test_a_portfolio_document_is_readable_once_scanned_clean(
    world, client_of, media, fake_clamd, eager, django_capture_on_commit_callbacks
):
    client = client_of(world.learner.user)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        document_upload(client, world, PDF_BYTES)
    evidence = PortfolioEvidence.objects.get(kind=EvidenceKind.DOCUMENT)
    assert evidence.scan_status == ScanStatus.SCANNING
    file_url = reverse("workplace:portfolio_evidence_file", args=[evidence.pk])
    assert client.get(file_url).status_code == 404

    for callback in callbacks:
        callback()

    evidence.refresh_from_db()
    assert evidence.scan_status == ScanStatus.CLEAN
    assert fake_clamd.streams == [PDF_BYTES]
    assert client.get(file_url).status_code == 200
    assert AuditEvent.objects.filter(action="workplace.portfolio_evidence_scanned").count() == 1


def test_an_infected_logbook_file_is_removed_and_never_downloaded(
    world, client_of, media_files, fake_clamd, eager, django_capture_on_commit_callbacks
):
    entry = logged(world)
    client = client_of(world.learner.user)
    with django_capture_on_commit_callbacks(execute=True):
        photo_upload(client, entry, pdf_with_virus_marker(), name="scan.pdf")

    evidence = LogbookEvidence.objects.get(entry=entry)
    assert evidence.scan_status == ScanStatus.INFECTED
    assert not evidence.file
    assert media_files() == []
    [event] = AuditEvent.objects.filter(action="workplace.logbook_evidence_quarantined")
    assert event.new_values["signature"] == "Eicar-Signature"
    assert not evidence_is_readable(evidence)
    file_url = reverse("workplace:logbook_evidence_file", args=[evidence.pk])
    assert client.get(file_url).status_code == 404
    assert client_of(world.mentor).get(file_url).status_code == 404


def test_an_infected_portfolio_document_is_removed_and_never_downloaded(
    world,
    client_of,
    admin_client,
    media_files,
    fake_clamd,
    eager,
    django_capture_on_commit_callbacks,
):
    client = client_of(world.learner.user)
    with django_capture_on_commit_callbacks(execute=True):
        document_upload(client, world, pdf_with_virus_marker())

    evidence = PortfolioEvidence.objects.get(kind=EvidenceKind.DOCUMENT)
    assert evidence.scan_status == ScanStatus.INFECTED
    assert not evidence.file
    assert media_files() == []
    [event] = AuditEvent.objects.filter(action="workplace.portfolio_evidence_quarantined")
    assert event.new_values["signature"] == "Eicar-Signature"
    file_url = reverse("workplace:portfolio_evidence_file", args=[evidence.pk])
    assert client.get(file_url).status_code == 404
    assert admin_client.get(file_url).status_code == 404


def test_a_full_disk_refuses_either_upload_with_a_503_and_leaves_nothing(
    world, client_of, disk_of, media_files, caplog
):
    entry = logged(world)
    portfolio = portfolio_open(
        actor=world.learner.user,
        course_enrollment=world.learner.course_enrollment,
        outcome=world.outcomes[0],
    )
    client = client_of(world.learner.user)
    disk_of(0)

    photo = client.post(
        reverse("workplace:entry_evidence_add", args=[entry.pk]),
        {"file": SimpleUploadedFile("lesson.png", png_bytes())},
    )
    document = client.post(
        reverse("workplace:portfolio_evidence_add", args=[portfolio.pk]),
        {"kind": "document", "title": "Plan", "file": SimpleUploadedFile("plan.pdf", PDF_BYTES)},
    )

    for response in (photo, document):
        assert response.status_code == 503
        assert "We could not store your file. Try again later." in response.content.decode()
    assert not LogbookEvidence.objects.exists()
    assert not PortfolioEvidence.objects.exists()
    assert media_files() == []
    logged_errors = [r.getMessage() for r in caplog.records if r.name == "enrolments.uploads"]
    assert f"logbook evidence of entry {entry.pk}" in logged_errors[0]
    assert f"portfolio evidence of portfolio {portfolio.pk}" in logged_errors[1]
