"""The application's TenantS3Storage against a real S3-compatible server (moto's, started by
the tests on the loopback address): uploads land under the institution's own prefix, downloads
are redirects to signed URLs that work when fetched (and the object is not readable without
the signature), quarantine deletes the object, and a bucket that is gone or a server that
does not answer gives the student a clear message and leaves nothing behind."""

import hashlib
import logging
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import SystemRole
from enrolments.models import ScanStatus, StudentDocument
from tenants.models import Institution
from tenants.services import REMOVE_PDF_ACTIVE_CONTENT
from tests.enrolments.conftest import id_type, upload_url
from tests.factories import UserFactory
from tests.files import PDF_BYTES

from .active_pdfs import ACTIVE_PDFS, active_parts, build_pdf
from .hostile import pdf_with_padding, pdf_with_virus_marker

pytestmark = pytest.mark.django_db

MESSAGE = "We could not store your file. Try again later."


def _upload(client, enrollment, content: bytes, *, name: str = "My ID.pdf", htmx: bool = True):
    return client.post(
        upload_url(enrollment, id_type()),
        {"file": SimpleUploadedFile(name, content)},
        headers={"HX-Request": "true"} if htmx else {},
    )


def test_upload_is_stored_in_the_bucket_under_the_institutions_prefix(
    student, s3_bucket, institution
):
    enrollment, client = student()
    content = pdf_with_padding(300 * 1024)

    response = _upload(client, enrollment, content)

    assert "Uploaded. It is now waiting for review." in response.content.decode()
    document = StudentDocument.objects.get(enrollment=enrollment)
    assert document.file.name.startswith(f"documents/{enrollment.pk}/")
    key = f"{institution.schema_name}/{document.file.name}"
    assert s3_bucket.keys() == [key]
    assert s3_bucket.read(key) == content
    assert document.sha256 == hashlib.sha256(content).hexdigest()


def test_each_institution_has_its_own_prefix(s3_bucket, institution, other_institution):
    with tenant_context(institution):
        default_storage.save("documents/1/same-name", ContentFile(b"alpha's file"))
    with tenant_context(other_institution):
        default_storage.save("documents/1/same-name", ContentFile(b"beta's file"))
        assert default_storage.open("documents/1/same-name").read() == b"beta's file"
        assert not default_storage.exists("documents/1/only-alpha")
    with tenant_context(institution):
        default_storage.save("documents/1/only-alpha", ContentFile(b"alpha's other file"))
        assert default_storage.open("documents/1/same-name").read() == b"alpha's file"

    assert s3_bucket.keys() == [
        f"{institution.schema_name}/documents/1/only-alpha",
        f"{institution.schema_name}/documents/1/same-name",
        f"{other_institution.schema_name}/documents/1/same-name",
    ]


def test_the_students_download_is_a_signed_url_that_works(student, s3_bucket, institution):
    enrollment, client = student()
    _upload(client, enrollment, PDF_BYTES)
    document = StudentDocument.objects.get(enrollment=enrollment)

    response = client.get(reverse("enrolments:document_file", args=[enrollment.pk, document.pk]))

    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    url = urlsplit(response["Location"])
    assert url.path == f"/{s3_bucket.name}/{institution.schema_name}/{document.file.name}"
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Signature"]

    fetched = httpx.get(response["Location"])
    assert fetched.status_code == 200
    assert fetched.content == PDF_BYTES
    assert fetched.headers["Content-Type"] == "application/pdf"
    assert fetched.headers["Content-Disposition"] == 'attachment; filename="My ID.pdf"'
    assert fetched.headers["Cache-Control"] == "private, no-store"
    # The object itself is private: without the signature the server refuses it.
    assert httpx.get(response["Location"].split("?")[0]).status_code == 403


def test_the_reviewers_inline_file_is_a_signed_url_that_works(student, s3_bucket, client_of):
    enrollment, client = student()
    _upload(client, enrollment, PDF_BYTES)
    document = StudentDocument.objects.get(enrollment=enrollment)
    reviewer = client_of(UserFactory(roles=[SystemRole.ADMIN]))

    response = reviewer.get(reverse("verification:document_file", args=[document.pk]))

    assert response.status_code == 302
    fetched = httpx.get(response["Location"])
    assert fetched.status_code == 200
    assert fetched.content == PDF_BYTES
    assert fetched.headers["Content-Disposition"] == 'inline; filename="My ID.pdf"'


def test_quarantine_deletes_the_object_after_the_scanner_read_it_from_the_bucket(
    student, s3_bucket, fake_clamd, eager, django_capture_on_commit_callbacks
):
    enrollment, client = student()
    content = pdf_with_virus_marker()

    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, enrollment, content)

    document = StudentDocument.objects.get(enrollment=enrollment)
    assert document.scan_status == ScanStatus.INFECTED
    assert fake_clamd.streams == [content]
    assert s3_bucket.keys() == []
    assert not document.file


def test_a_pdf_without_its_active_content_is_what_lands_in_the_bucket(
    student, s3_bucket, institution
):
    Institution.objects.filter(pk=institution.pk).update(
        settings={**institution.settings, REMOVE_PDF_ACTIVE_CONTENT: True}
    )
    enrollment, client = student()
    content = build_pdf(ACTIVE_PDFS["embedded files"][0])
    try:
        _upload(client, enrollment, content)
    finally:
        Institution.objects.filter(pk=institution.pk).update(settings=institution.settings)

    document = StudentDocument.objects.get(enrollment=enrollment)
    [key] = s3_bucket.keys()
    stored = s3_bucket.read(key)
    assert active_parts(stored) == []
    assert hashlib.sha256(stored).hexdigest() == document.sha256
    assert document.original_sha256 == hashlib.sha256(content).hexdigest()


def test_a_bucket_that_is_gone_gives_the_student_a_clear_message(
    student, s3_bucket, nothing_stored, caplog
):
    s3_bucket.client.delete_bucket(Bucket=s3_bucket.name)
    enrollment, client = student()

    response = _upload(client, enrollment, PDF_BYTES)
    plain = _upload(client, enrollment, PDF_BYTES, htmx=False)

    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert plain.status_code == 503
    assert MESSAGE in plain.content.decode()
    nothing_stored(enrollment)
    records = [r for r in caplog.records if r.name == "enrolments.views"]
    assert len(records) == 2
    assert "NoSuchBucket" in records[0].getMessage()


def test_a_server_that_does_not_answer_gives_the_student_a_clear_message(
    student, s3_bucket, settings, closed_port, nothing_stored, caplog
):
    settings.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{closed_port}"
    settings.STORAGES = {**settings.STORAGES}  # the storage is built again with that address
    enrollment, client = student()

    with caplog.at_level(logging.ERROR, logger="enrolments.views"):
        response = _upload(client, enrollment, PDF_BYTES)

    assert MESSAGE in response.content.decode()
    nothing_stored(enrollment)
    [record] = [r for r in caplog.records if r.name == "enrolments.views"]
    assert "EndpointConnectionError" in record.getMessage()
