"""Storage that fails while signing writes a file (a disk that fills up, a bucket that is
gone): the drawn signature on the signing page, the sealed PDF that the last signature makes,
and the PDF frozen when an agreement is sent. The person is told so on the page, never shown
an error page; nothing is left half-written (no signature, no submission, no file); and the
failure is logged with its cause, by ids, without the signer's name or address."""

import base64
import logging
from pathlib import Path

import pytest

from audit.models import AuditEvent
from notifications.models import OutboundEmail
from signing.models import Submission, SubmissionStatus
from signing.selectors import submissions_for_subject
from tests.factories import CohortFactory
from tests.signing.conftest import SIGNERS, last_link_to, png_signature

pytestmark = pytest.mark.django_db

SIGNATURE_NOT_SAVED = "We could not save your signature. Try again later."
FILE_NOT_STORED = "We could not store your file. Try again later."
ONE_SIGNER = SIGNERS[:1]


@pytest.fixture
def signer_client(institution, client_for, unique_ip):
    client = client_for(institution)
    client.defaults["REMOTE_ADDR"] = unique_ip
    return client


def _stored_files(settings) -> list[Path]:
    return sorted(path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file())


@pytest.fixture
def disk_with_room(settings, disk_of):
    """Make the application's storage a disk with `room` bytes left beyond what is stored now."""

    def install(room: int) -> None:
        disk_of(sum(path.stat().st_size for path in _stored_files(settings)) + room)

    return install


def _storage_errors(caplog) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name == "tenants.storage" and record.levelno == logging.ERROR
    ]


def _logged(caplog) -> str:
    [record] = _storage_errors(caplog)
    return record.getMessage()


def _sign_post(client, submission, *, drawn: bool):
    token = last_link_to(submission.submitters.get(order=1).email)
    data = {"action": "sign", "signed_name": "Thandi Mokoena", "consent": "on"}
    if drawn:
        data["signature_image"] = (
            "data:image/png;base64," + base64.b64encode(png_signature()).decode()
        )
    else:
        data["signature_text"] = "T. Mokoena"
    return client.post(f"/sign/{token}/", data)


def _assert_nothing_signed(submission: Submission) -> None:
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING
    assert not submission.final_pdf
    signer = submission.submitters.get(order=1)
    assert signer.signed_at is None
    assert not signer.signature_image
    assert not submission.events.filter(kind__in=["consented", "signed", "completed"]).exists()
    assert not AuditEvent.objects.filter(action="signing.submission_signed").exists()


def test_a_drawn_signature_the_storage_cannot_keep_is_refused_with_a_message(
    signer_client, make_submission, disk_with_room, settings, caplog
):
    submission = make_submission()  # three signers: this signature completes nothing
    files_before = _stored_files(settings)
    disk_with_room(0)

    response = _sign_post(signer_client, submission, drawn=True)

    assert response.status_code == 200
    assert SIGNATURE_NOT_SAVED in response.content.decode()
    _assert_nothing_signed(submission)
    assert _stored_files(settings) == files_before
    assert not OutboundEmail.objects.filter(recipient=SIGNERS[1]["email"]).exists()
    logged = _logged(caplog)
    assert "No space left on device" in logged
    signer = submission.submitters.get(order=1)
    assert f"the signature of signer {signer.pk} of submission {submission.pk}" in logged
    for personal in (signer.name, signer.email, "Mokoena"):
        assert personal not in logged

    disk_with_room(1024 * 1024)  # room again: the same link signs
    assert (
        SIGNATURE_NOT_SAVED
        not in _sign_post(signer_client, submission, drawn=True).content.decode()
    )
    signer.refresh_from_db()
    assert signer.signed_at is not None
    assert signer.signature_image


def test_a_sealed_pdf_the_storage_cannot_keep_leaves_the_agreement_unsigned(
    signer_client, make_submission, disk_with_room, settings, caplog
):
    submission = make_submission(signers=ONE_SIGNER)  # the signature completes it
    files_before = _stored_files(settings)
    disk_with_room(len(png_signature()) + 512)  # the signature fits; the sealed PDF does not

    response = _sign_post(signer_client, submission, drawn=True)

    assert response.status_code == 200
    assert SIGNATURE_NOT_SAVED in response.content.decode()
    _assert_nothing_signed(submission)
    assert _stored_files(settings) == files_before  # the stored signature was removed again
    assert not OutboundEmail.objects.filter(template="signing_completed").exists()
    assert not AuditEvent.objects.filter(action="test.submission_completed").exists()
    logged = _logged(caplog)
    assert "No space left on device" in logged
    assert f"the sealed PDF of submission {submission.pk}" in logged


def test_a_typed_signature_whose_sealed_pdf_cannot_be_stored_says_so(
    signer_client, make_submission, disk_with_room, caplog
):
    submission = make_submission(signers=ONE_SIGNER)
    disk_with_room(0)

    response = _sign_post(signer_client, submission, drawn=False)

    assert SIGNATURE_NOT_SAVED in response.content.decode()
    _assert_nothing_signed(submission)
    assert f"the sealed PDF of submission {submission.pk}" in _logged(caplog)


def test_an_agreement_whose_pdf_cannot_be_stored_is_not_sent(
    admin_client, template, disk_with_room, settings, caplog
):
    cohort = CohortFactory(main_template=template)
    disk_with_room(0)

    response = admin_client.post(f"/cohorts/{cohort.pk}/sign/", follow=True)

    assert response.status_code == 200
    assert FILE_NOT_STORED in response.content.decode()
    assert not submissions_for_subject(cohort).exists()
    assert _stored_files(settings) == []
    assert not AuditEvent.objects.filter(action="signing.submission_created").exists()
    logged = _logged(caplog)
    assert "No space left on device" in logged
    assert f"template version {template.versions.get().pk}" in logged

    disk_with_room(1024 * 1024)
    retried = admin_client.post(f"/cohorts/{cohort.pk}/sign/")
    assert retried["Location"].startswith("/sign/")
    assert submissions_for_subject(cohort).count() == 1
