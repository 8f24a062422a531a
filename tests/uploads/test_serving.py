"""Handing a stored document back: only to its student, never from a public URL; streamed
with a safe Content-Disposition and headers that keep browsers from treating it as a page, or
(with S3-compatible storage) a redirect to a signed URL that expires within five minutes."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from enrolments.models import StudentDocument
from enrolments.services import enrollment_document_add
from tests.enrolments.conftest import id_type
from tests.files import PDF_BYTES, jpeg_bytes

from .hostile import zip_archive

pytestmark = pytest.mark.django_db


def _stored(enrollment, name: str, content: bytes, content_type: str) -> StudentDocument:
    return enrollment_document_add(
        enrollment=enrollment,
        actor=enrollment.user,
        document=StudentDocument(
            document_type=id_type(),
            file=SimpleUploadedFile(name, content),
            original_name=name,
            size=len(content),
            content_type=content_type,
            sha256="0" * 64,
        ),
    )


def _file_url(document: StudentDocument) -> str:
    return reverse("enrolments:document_file", args=[document.enrollment_id, document.pk])


def test_file_is_streamed_as_an_attachment_with_an_escaped_name(student):
    enrollment, client = student()
    document = _stored(
        enrollment, 'Thabo "ID"; filename=x.html Ñ.pdf', PDF_BYTES, "application/pdf"
    )

    response = client.get(_file_url(document))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    # Quotes, semicolons and non-ASCII go percent-encoded into filename* (RFC 6266/5987), so
    # the name cannot add parameters of its own.
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''Thabo%20%22ID%22%3B%20filename%3Dx.html%20%C3%91.pdf"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"


def test_jpeg_with_a_trailer_is_only_ever_served_as_a_jpeg_attachment(student):
    enrollment, client = student()
    document = _stored(enrollment, "phone.jpg", jpeg_bytes() + zip_archive(), "image/jpeg")

    response = client.get(_file_url(document))

    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == 'attachment; filename="phone.jpg"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_another_student_gets_not_found(student):
    enrollment, client = student()
    document = _stored(enrollment, "id.pdf", PDF_BYTES, "application/pdf")
    other, other_client = student()

    assert other_client.get(_file_url(document)).status_code == 404
    url = reverse("enrolments:document_file", args=[other.pk, document.pk])
    assert other_client.get(url).status_code == 404


def test_a_removed_file_is_not_found(student):
    enrollment, client = student()
    document = _stored(enrollment, "id.pdf", PDF_BYTES, "application/pdf")
    StudentDocument.objects.filter(pk=document.pk).update(file="")

    assert client.get(_file_url(document)).status_code == 404


@pytest.fixture
def s3_storage(settings):
    """TenantS3Storage as the default storage. Signing a URL needs no network, so nothing is
    uploaded: the test's documents are rows that name an object."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tenants.storage.TenantS3Storage"},
    }
    settings.AWS_STORAGE_BUCKET_NAME = "cohortly-documents"
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9000"
    settings.AWS_S3_REGION_NAME = "af-south-1"
    settings.AWS_ACCESS_KEY_ID = "test-access-key"
    settings.AWS_SECRET_ACCESS_KEY = "test-secret-key"
    settings.AWS_S3_SIGNATURE_VERSION = "s3v4"


def test_with_s3_storage_the_view_redirects_to_a_url_signed_for_five_minutes(
    student, s3_storage, institution
):
    enrollment, client = student()
    document = StudentDocument.objects.create(
        enrollment=enrollment,
        learner=enrollment.learner,
        document_type=id_type(),
        file=f"documents/{enrollment.pk}/0123456789abcdef",
        original_name="My ID.pdf",
        size=len(PDF_BYTES),
        content_type="application/pdf",
        sha256="0" * 64,
    )

    response = client.get(_file_url(document))

    assert response.status_code == 302
    url = urlsplit(response["Location"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}" == "http://127.0.0.1:9000"
    # The object lies below the institution's prefix.
    assert url.path == (
        f"/cohortly-documents/{institution.schema_name}/documents/{enrollment.pk}/0123456789abcdef"
    )
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Signature"]
    assert query["response-content-disposition"] == ['attachment; filename="My ID.pdf"']
    assert query["response-content-type"] == ["application/pdf"]
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"

    _other, other_client = student()
    assert other_client.get(_file_url(document)).status_code == 404
