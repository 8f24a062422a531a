"""Storage that fails while a student's document is written (a disk that fills up, a bucket
that is gone): the student is told "We could not store your file. Try again later." on the
upload form, never an error page; nothing is left behind (no row, no partly written file, the
earlier version still current); and the failure is logged with its cause, without the
student's name, address or file name. The same holds for an institution's logo."""

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import SystemRole
from enrolments.models import StudentDocument
from tests.enrolments.conftest import id_type, upload_url
from tests.factories import UserFactory
from tests.files import PDF_BYTES

from .hostile import noisy_png, pdf_with_padding

pytestmark = pytest.mark.django_db

MESSAGE = "We could not store your file. Try again later."
KILOBYTE = 1024


def _upload(client, enrollment, content: bytes, *, htmx: bool = True, name: str = "Thandi ID.pdf"):
    return client.post(
        upload_url(enrollment, id_type()),
        {"file": SimpleUploadedFile(name, content)},
        headers={"HX-Request": "true"} if htmx else {},
    )


def _storage_errors(caplog) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name == "enrolments.views" and record.levelno == logging.ERROR
    ]


def test_full_disk_gives_the_student_a_clear_message_and_leaves_nothing(
    student, disk_of, nothing_stored, caplog
):
    disk_of(16 * KILOBYTE)
    enrollment, client = student()

    response = _upload(client, enrollment, pdf_with_padding(40 * KILOBYTE))

    assert response.status_code == 200  # htmx swaps in only a 200
    page = response.content.decode()
    assert MESSAGE in page
    assert "is-invalid" in page
    nothing_stored(enrollment)  # the 16 KB that fitted were removed again

    [record] = _storage_errors(caplog)
    logged = record.getMessage() + str(record.exc_info[1])
    assert "No space left on device" in logged
    assert f"enrolment {enrollment.pk}" in logged
    for personal in (enrollment.user.email, enrollment.user.full_name, "Thandi"):
        assert personal not in logged


def test_without_htmx_the_page_says_so_with_a_503(student, disk_of, nothing_stored):
    disk_of(0)
    enrollment, client = student()

    response = _upload(client, enrollment, PDF_BYTES, htmx=False)

    assert response.status_code == 503
    assert MESSAGE in response.content.decode()
    nothing_stored(enrollment)


def test_a_replacement_that_does_not_fit_keeps_the_earlier_version(student, disk_of, media_files):
    first = pdf_with_padding(10 * KILOBYTE)
    disk_of(len(first) + 4 * KILOBYTE)
    enrollment, client = student()
    assert "waiting for review" in _upload(client, enrollment, first).content.decode()
    [stored] = media_files()

    response = _upload(client, enrollment, pdf_with_padding(20 * KILOBYTE))

    assert MESSAGE in response.content.decode()
    document = StudentDocument.objects.get(enrollment=enrollment)
    assert document.is_current
    assert media_files() == [stored]
    assert stored.read_bytes() == first
    assert stored.as_posix().endswith(f"/{document.file.name}")


def test_once_there_is_room_again_the_upload_goes_through(student, disk_of, media_files):
    disk_of(0)
    enrollment, client = student()
    assert MESSAGE in _upload(client, enrollment, PDF_BYTES).content.decode()

    disk_of(1024 * KILOBYTE)
    response = _upload(client, enrollment, PDF_BYTES)

    assert "Uploaded. It is now waiting for review." in response.content.decode()
    [stored] = media_files()
    assert stored.read_bytes() == PDF_BYTES


def test_a_logo_that_does_not_fit_is_refused_on_the_settings_page(
    institution, client_for, disk_of, media, caplog
):
    disk_of(1024)
    client = client_for(institution)
    client.force_login(UserFactory(roles=[SystemRole.SUPER_ADMIN]))
    logo = SimpleUploadedFile("logo.png", noisy_png(), content_type="image/png")

    response = client.post(
        "/settings/",
        {
            "name": "Renamed College",
            "contact_email": "founder@alpha.example",
            "brand_colour": "#1f5f8b",
            "signing_link_days": "14",
            "logo": logo,
        },
    )

    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    institution.refresh_from_db()
    assert institution.name != "Renamed College"
    assert not institution.logo
    assert [path for path in media.rglob("*") if path.is_file()] == []
    [record] = [r for r in caplog.records if r.name == "tenants.views"]
    assert "No space left on device" in record.getMessage()
