"""The antivirus hook, against a fake clamd on the loopback address: off by default (uploads go
straight to review), and when configured every upload is scanned after commit before it can be
reviewed; an infected one is quarantined and the student told."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import SystemRole
from audit.models import AuditEvent
from enrolments.models import ScanStatus, StudentDocument
from enrolments.scanning import QUARANTINE_REASON, clamav_address
from enrolments.tasks import document_scan, document_scan_sweep
from tests.enrolments.conftest import id_type, upload_url
from tests.factories import UserFactory
from tests.files import PDF_BYTES

from .hostile import pdf_with_virus_marker

pytestmark = pytest.mark.django_db


def _upload(client, enrollment, name: str, content: bytes):
    return client.post(
        upload_url(enrollment, id_type()),
        {"file": SimpleUploadedFile(name, content)},
        headers={"HX-Request": "true"},
    )


def _events(document: StudentDocument, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            entity_type="enrolments.studentdocument", entity_id=str(document.pk), action=action
        )
    )


def test_without_a_scanner_uploads_are_reviewable_at_once(
    student, django_capture_on_commit_callbacks
):
    enrollment, client = student()

    with django_capture_on_commit_callbacks() as callbacks:
        _upload(client, enrollment, "id.pdf", PDF_BYTES)

    document = StudentDocument.objects.get(enrollment=enrollment)
    assert document.scan_status == ScanStatus.NOT_SCANNED
    assert document.is_reviewable
    assert callbacks == []  # no scan queued


def test_clean_upload_waits_for_the_scan_and_then_is_reviewable(
    student, fake_clamd, eager, django_capture_on_commit_callbacks
):
    enrollment, client = student()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _upload(client, enrollment, "id.pdf", PDF_BYTES)
    document = StudentDocument.objects.get(enrollment=enrollment)
    assert document.scan_status == ScanStatus.SCANNING
    assert not document.is_reviewable
    assert fake_clamd.streams == []  # nothing is scanned before the upload commits

    for callback in callbacks:
        callback()

    document.refresh_from_db()
    assert document.scan_status == ScanStatus.CLEAN
    assert document.is_reviewable
    assert fake_clamd.commands == [b"nINSTREAM\n"]
    assert fake_clamd.streams == [PDF_BYTES]
    [event] = _events(document, "document.scanned")
    assert event.new_values == {"scan_status": "clean"}
    assert event.actor_id is None


def test_infected_upload_is_quarantined_and_the_student_told(
    student, fake_clamd, eager, django_capture_on_commit_callbacks, media_files
):
    enrollment, client = student()
    content = pdf_with_virus_marker()

    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, enrollment, "id.pdf", content)
    assert "waiting for review" in response.content.decode()

    document = StudentDocument.objects.get(enrollment=enrollment)
    assert document.scan_status == ScanStatus.INFECTED
    assert not document.is_reviewable
    assert document.status == "rejected"
    assert document.rejection_reason == QUARANTINE_REASON
    assert not document.file
    assert media_files() == []  # the stored file is deleted
    enrollment.refresh_from_db()
    assert enrollment.document_verification_state == "rejected"
    assert enrollment.rejection_reason == QUARANTINE_REASON

    [event] = _events(document, "document.quarantined")
    assert event.new_values["signature"] == "Eicar-Signature"
    assert event.new_values["sha256"] == document.sha256
    assert event.new_values["removed_file"].startswith(f"documents/{enrollment.pk}/")

    [message] = [m for m in mail.outbox if m.to == [enrollment.user.email]]
    assert "your file was removed" in message.subject
    assert "contains a virus, so we removed it and it will not be reviewed" in message.body
    assert reverse("enrolments:detail", args=[enrollment.pk]) in message.body

    page = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()
    assert f"Not accepted:</strong> {QUARANTINE_REASON}" in page
    file_url = reverse("enrolments:document_file", args=[enrollment.pk, document.pk])
    assert client.get(file_url).status_code == 404

    # The student can send a clean copy, which is scanned in turn.
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, enrollment, "id-clean.pdf", PDF_BYTES)
    current = StudentDocument.objects.get(enrollment=enrollment, is_current=True)
    assert current.scan_status == ScanStatus.CLEAN
    assert current.status == "pending"


def test_scan_task_is_idempotent(student, fake_clamd, eager, django_capture_on_commit_callbacks):
    enrollment, client = student()
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, enrollment, "id.pdf", pdf_with_virus_marker())
    document = StudentDocument.objects.get(enrollment=enrollment)

    assert document_scan.apply((document.pk,)).get() == "nothing to scan"
    assert len(_events(document, "document.quarantined")) == 1
    assert len(fake_clamd.streams) == 1


def test_unreachable_scanner_leaves_the_document_unreviewable_until_a_later_scan(
    student, settings, closed_port, eager, django_capture_on_commit_callbacks, fake_clamd
):
    enrollment, client = student()
    settings.CLAMAV_ADDRESS = f"127.0.0.1:{closed_port}"

    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, enrollment, "id.pdf", PDF_BYTES)

    document = StudentDocument.objects.get(enrollment=enrollment)
    assert document.scan_status == ScanStatus.ERROR
    assert not document.is_reviewable
    [event] = _events(document, "document.scanned")
    assert event.new_values["scan_status"] == "error"
    assert "ConnectionError" in event.new_values["error"]

    # The scanner is back: the sweep scans what is waiting.
    settings.CLAMAV_ADDRESS = fake_clamd.address
    assert document_scan_sweep.apply().get() == 1
    document.refresh_from_db()
    assert document.scan_status == ScanStatus.CLEAN


def test_scanner_error_answer_is_not_a_verdict(
    student, fake_clamd, eager, django_capture_on_commit_callbacks
):
    fake_clamd.answer = b"INSTREAM size limit exceeded. ERROR\n"
    enrollment, client = student()

    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, enrollment, "id.pdf", PDF_BYTES)

    document = StudentDocument.objects.get(enrollment=enrollment)
    assert document.scan_status == ScanStatus.ERROR
    # Tried once and then again after each wait.
    assert len(fake_clamd.streams) == 1 + document_scan.max_retries


def test_sweep_does_nothing_without_a_scanner(student, settings):
    enrollment, _client = student()
    StudentDocument.objects.create(
        enrollment=enrollment,
        learner=enrollment.learner,
        document_type=id_type(),
        file="documents/x/y",
        original_name="id.pdf",
        size=1,
        content_type="application/pdf",
        sha256="0" * 64,
        scan_status=ScanStatus.ERROR,
    )
    settings.CLAMAV_ADDRESS = ""
    assert document_scan_sweep.apply().get() == 0


@pytest.mark.parametrize(
    ("setting", "address"),
    [
        ("", None),
        ("clamav:3310", ("clamav", 3310)),
        ("clamav", ("clamav", 3310)),
        ("tcp://127.0.0.1:3311", ("127.0.0.1", 3311)),
        ("[::1]:3310", ("::1", 3310)),
    ],
)
def test_clamav_address_setting(setting, address, settings):
    settings.CLAMAV_ADDRESS = setting
    assert clamav_address() == address


def _review_page(document: StudentDocument, client_of) -> str:
    reviewer = client_of(UserFactory(roles=[SystemRole.ADMIN]))
    response = reviewer.get(reverse("verification:document", args=[document.pk]))
    assert response.status_code == 200
    return response.content.decode()


NO_SCANNER = "Uploaded files are not scanned for viruses: no scanner is configured."


def test_without_a_scanner_a_file_a_scanner_would_find_is_accepted_and_reviewers_are_told(
    student, client_of, settings
):
    """Nothing stops a virus when no scanner is configured; the review page says so."""
    settings.CLAMAV_ADDRESS = ""
    enrollment, client = student()
    response = _upload(client, enrollment, "id.pdf", pdf_with_virus_marker())
    assert "waiting for review" in response.content.decode()
    document = StudentDocument.objects.get(enrollment=enrollment)

    assert NO_SCANNER in _review_page(document, client_of)


def test_with_a_scanner_the_review_page_does_not_say_there_is_none(
    student, client_of, fake_clamd, eager, django_capture_on_commit_callbacks
):
    enrollment, client = student()
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, enrollment, "id.pdf", PDF_BYTES)
    document = StudentDocument.objects.get(enrollment=enrollment)
    assert document.scan_status == ScanStatus.CLEAN

    page = _review_page(document, client_of)

    assert NO_SCANNER not in page
    assert "not scanned for viruses" not in page


def test_a_file_uploaded_before_the_scanner_was_configured_says_it_was_not_scanned(
    student, client_of, settings, fake_clamd
):
    enrollment, client = student()
    settings.CLAMAV_ADDRESS = ""
    _upload(client, enrollment, "id.pdf", PDF_BYTES)
    settings.CLAMAV_ADDRESS = fake_clamd.address
    document = StudentDocument.objects.get(enrollment=enrollment)

    page = _review_page(document, client_of)

    assert "This file was not scanned for viruses: it was uploaded before a scanner" in page
    assert NO_SCANNER not in page
