"""Hostile uploads: every file of the corpus is refused with a message that says why, and
leaves nothing behind (no row, no stored or temporary file, no audit event, no e-mail, the
enrolment untouched). Files that are what they say they are still go through."""

import html

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import StopUpload
from django.test import RequestFactory

from cohorts.models import DocumentType
from enrolments.models import StudentDocument
from enrolments.uploads import UploadGuard, document_upload_check
from tests.enrolments.conftest import id_type, upload_url
from tests.files import PDF_BYTES, jpeg_bytes, png_bytes

from .conftest import post_raw
from .hostile import (
    HTML_PAGE,
    REFUSED,
    noisy_png,
    pdf_with_padding,
    zip_archive,
)

pytestmark = pytest.mark.django_db

MEGABYTE = 1024 * 1024
# For the checks alone, which need no database.
ANY_KIND = DocumentType(name="ID", accepted_kinds=["pdf", "jpeg", "png"], max_size_mb=10)


def _upload(client, enrollment, document_type, name, content):
    return client.post(
        upload_url(enrollment, document_type),
        {"file": SimpleUploadedFile(name, content)},
        headers={"HX-Request": "true"},
    )


@pytest.mark.parametrize("case", REFUSED.keys())
def test_hostile_file_is_refused_with_its_message_and_nothing_is_stored(
    case, student, nothing_stored
):
    name, content, _code, message = REFUSED[case]
    enrollment, client = student()

    response = _upload(client, enrollment, id_type(), name, content)

    assert response.status_code == 200
    page = response.content.decode()
    assert html.escape(message) in page
    assert "is-invalid" in page
    nothing_stored(enrollment)


@pytest.mark.parametrize("case", REFUSED.keys())
def test_hostile_file_is_refused_by_the_check_with_its_code(case):
    name, content, code, _message = REFUSED[case]
    with pytest.raises(ValidationError) as refused:
        document_upload_check(upload=SimpleUploadedFile(name, content), document_type=ANY_KIND)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("disposition", "message"),
    [
        ('filename="../../etc/passwd"', "The file&#x27;s name contains folder parts"),
        ('filename="..\\..\\Windows\\win.ini"', "The file&#x27;s name contains folder parts"),
        ('filename="../"', "The file&#x27;s name contains folder parts"),
        # A slash written as a character reference, which Django's parser decodes.
        ('filename="&#47;etc&#47;passwd.pdf"', "The file&#x27;s name contains folder parts"),
        ("filename*=UTF-8''..%2F..%2Fetc%2Fpasswd", "The file&#x27;s name contains folder parts"),
        # CR/LF cannot stand in a header line, but RFC 2231 lets a client encode them.
        (
            "filename*=UTF-8''id%0D%0AX-Injected%3A%201.pdf",
            "The file&#x27;s name contains control characters (such as line breaks).",
        ),
        ("filename*=UTF-8''id%0A.pdf", "The file&#x27;s name contains control characters"),
        ('filename="id\x1b[31m.pdf"', "The file&#x27;s name contains control characters"),
        ("filename*=UTF-8''right%E2%80%AEfdp.exe", "The file&#x27;s name contains control"),
    ],
)
def test_hostile_file_name_is_refused_as_sent(disposition, message, student, nothing_stored):
    """Django would quietly turn ../../etc/passwd into "passwd" and drop control characters;
    the name is refused instead, before its content is even looked at."""
    enrollment, client = student()

    response = post_raw(client, upload_url(enrollment, id_type()), disposition, PDF_BYTES)

    assert response.status_code == 200
    assert message in response.content.decode()
    nothing_stored(enrollment)


def test_oversized_file_is_stopped_while_it_streams_in(student, nothing_stored):
    small = DocumentType.objects.create(name="Small scan", accepted_kinds=["pdf"], max_size_mb=1)
    enrollment, client = student(small)

    response = _upload(client, enrollment, small, "big.pdf", pdf_with_padding(MEGABYTE + 10))

    assert "This file is more than the 1 MB allowed for Small scan." in response.content.decode()
    nothing_stored(enrollment)


def test_oversized_file_written_to_a_temporary_file_leaves_none_behind(
    student, nothing_stored, upload_temp_dir
):
    """Above FILE_UPLOAD_MAX_MEMORY_SIZE Django streams the upload to a temporary file; the
    stopped upload's one is removed with the request."""
    scan = DocumentType.objects.create(name="Large scan", accepted_kinds=["pdf"], max_size_mb=3)
    enrollment, client = student(scan)

    response = _upload(client, enrollment, scan, "big.pdf", pdf_with_padding(4 * MEGABYTE))

    assert "more than the 3 MB allowed for Large scan" in response.content.decode()
    nothing_stored(enrollment)


def test_size_limit_follows_the_document_type(student, media_files):
    scan = DocumentType.objects.create(name="Large scan", accepted_kinds=["pdf"], max_size_mb=3)
    enrollment, client = student(scan)

    response = _upload(client, enrollment, scan, "big.pdf", pdf_with_padding(2 * MEGABYTE))

    assert "waiting for review" in response.content.decode()
    assert StudentDocument.objects.get(enrollment=enrollment).size > 2 * MEGABYTE - 100
    assert len(media_files()) == 1


def test_upload_guard_stops_reading_past_the_limit():
    guard = UploadGuard(RequestFactory().post("/"), limit=100)
    guard.new_file("file", "id.pdf", "application/pdf", None)
    assert guard.receive_data_chunk(b"x" * 60, 0) == b"x" * 60
    with pytest.raises(StopUpload):
        guard.receive_data_chunk(b"x" * 60, 60)
    assert guard.exceeded


def test_accepted_kinds_follow_the_document_type(student, nothing_stored):
    photo = DocumentType.objects.create(name="Photo", accepted_kinds=["jpeg"], max_size_mb=2)
    enrollment, client = student(photo)

    response = _upload(client, enrollment, photo, "photo.png", png_bytes())

    assert "This file is a PNG image, but Photo must be a JPEG image." in response.content.decode()
    nothing_stored(enrollment)


def test_pixel_limit_is_a_setting(student, nothing_stored, settings):
    settings.UPLOAD_MAX_IMAGE_PIXELS = 500
    enrollment, client = student()

    response = _upload(client, enrollment, id_type(), "tiny.png", png_bytes((32, 24)))

    assert "This image (32 × 24 pixels) has more than the 0.0005 million pixels" in (
        response.content.decode()
    )
    nothing_stored(enrollment)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("id.pdf", PDF_BYTES, "application/pdf"),
        # Writers may end a PDF with spaces, line ends or NUL padding after %%EOF.
        ("id.pdf", PDF_BYTES + b"\r\n\x00\x00", "application/pdf"),
        ("id.png", noisy_png(), "image/png"),
        ("id.jpg", jpeg_bytes((640, 480)), "image/jpeg"),
        # Phones write trailers after a JPEG's end; such photos are accepted, and served
        # only as image/jpeg attachments that browsers may not sniff (see test_serving).
        ("phone.jpg", jpeg_bytes() + zip_archive(), "image/jpeg"),
        # The name does not matter, the content does.
        ("scan.pdf", png_bytes(), "image/png"),
    ],
)
def test_files_that_are_what_they_say_are_accepted(name, content, content_type, student):
    enrollment, client = student()

    response = _upload(client, enrollment, id_type(), name, content)

    assert "Uploaded. It is now waiting for review." in response.content.decode()
    document = StudentDocument.objects.get(enrollment=enrollment)
    assert document.content_type == content_type
    assert document.original_name == name


def test_web_page_code_beyond_the_sniffed_start_of_a_pdf_is_not_markup():
    """Only the first bytes, which browsers sniff, are searched for web page code: a PDF may
    well mention <script> in its text."""
    start, end = pdf_with_padding(3000).rsplit(b"0" * len(HTML_PAGE), 1)
    content = start + HTML_PAGE + end
    assert content.index(HTML_PAGE) > 2000
    checked = document_upload_check(
        upload=SimpleUploadedFile("cv.pdf", content), document_type=ANY_KIND
    )
    assert checked.content_type == "application/pdf"


def test_enrolment_storage_quota_stops_further_uploads(student, settings, media_files):
    settings.UPLOAD_ENROLLMENT_QUOTA_MB = 1
    enrollment, client = student()
    url = upload_url(enrollment, id_type())
    first = pdf_with_padding(600 * 1024)

    client.post(url, {"file": SimpleUploadedFile("first.pdf", first)})
    # Replacing a document waiting for review keeps the earlier version, which still counts.
    response = client.post(
        url,
        {"file": SimpleUploadedFile("second.pdf", pdf_with_padding(500 * 1024))},
        headers={"HX-Request": "true"},
    )

    page = html.unescape(response.content.decode())
    assert "Your uploads for this enrolment would go past the 1.0\xa0MB allowed" in page
    assert "you have uploaded 600.0\xa0KB so far, and this file is 500.0\xa0KB" in page
    assert StudentDocument.objects.filter(enrollment=enrollment).count() == 1
    assert len(media_files()) == 1
