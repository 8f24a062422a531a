"""Uploading a required document: accepted by content, size and name; refused with a reason and
nothing stored; a new version after a rejection keeps the old one."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cohorts.models import DocumentType
from enrolments.models import DocumentStatus, StudentDocument, VerificationState
from enrolments.services import enrollment_document_add
from enrolments.uploads import document_upload_check, original_name_clean
from tests.factories import CohortFactory
from tests.files import PDF_BYTES, jpeg_bytes, png_bytes
from verification.services import document_review

from .conftest import id_type, upload_url

pytestmark = pytest.mark.django_db

BOUNDARY = "----portal-test-boundary"


def _multipart(filename: str, content: bytes, csrf: str = "") -> bytes:
    """A request body with the file name exactly as given (the test client would tidy it)."""
    parts = []
    if csrf:
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
            f"{csrf}\r\n".encode()
        )
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def test_pdf_is_stored_under_a_random_name_with_its_metadata(
    enrol, client_of, media_files, institution
):
    enrollment = enrol()
    client = client_of(enrollment.user)

    response = client.post(
        upload_url(enrollment, id_type()),
        {"file": SimpleUploadedFile("My ID.pdf", PDF_BYTES, "application/pdf")},
    )

    assert response.status_code == 302
    assert response["Location"].endswith(f"#document-{id_type().pk}")
    document = StudentDocument.objects.get(enrollment=enrollment)
    assert document.original_name == "My ID.pdf"
    assert document.size == len(PDF_BYTES)
    assert document.content_type == "application/pdf"
    assert document.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert document.status == DocumentStatus.PENDING
    assert document.is_current
    assert "My ID" not in document.file.name
    [stored] = media_files()
    assert stored.read_bytes() == PDF_BYTES
    assert stored.relative_to(stored.parents[2]).as_posix() == document.file.name
    assert stored.is_relative_to(stored.parents[3] / institution.schema_name)
    page = client.get(response["Location"]).content.decode()
    assert "is uploaded and waiting for review" in page


def test_png_upload_through_htmx_answers_with_the_documents_card(enrol, client_of):
    enrollment = enrol()
    client = client_of(enrollment.user)

    response = client.post(
        upload_url(enrollment, id_type()),
        {"file": SimpleUploadedFile("scan.png", png_bytes())},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(
        f'<li class="card portal-step portal-step-pending mb-3" id="document-{id_type().pk}"'
    )
    assert "Uploaded. It is now waiting for review." in html
    assert 'id="portal-progress" class="portal-progress-summary" hx-swap-oob="true"' in html
    document = StudentDocument.objects.get(enrollment=enrollment)
    assert document.content_type == "image/png"


def test_jpeg_is_accepted_when_the_type_allows_it(enrol, client_of):
    enrollment = enrol()
    client_of(enrollment.user).post(
        upload_url(enrollment, id_type()),
        {"file": SimpleUploadedFile("photo.jpg", jpeg_bytes((20, 20), "white"))},
    )
    assert StudentDocument.objects.get(enrollment=enrollment).content_type == "image/jpeg"


def _refused(enrol, client_of, media_files, upload, document_type=None, **cohort):
    document_type = document_type or id_type()
    enrollment = enrol(cohort=CohortFactory(required_document_types=[document_type]))
    response = client_of(enrollment.user).post(
        upload_url(enrollment, document_type), {"file": upload}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert not StudentDocument.objects.filter(enrollment=enrollment).exists()
    assert media_files() == []
    enrollment.refresh_from_db()
    assert enrollment.state == "waiting"
    return response.content.decode()


def test_html_named_pdf_is_refused_by_its_content(enrol, client_of, media_files):
    html = _refused(
        enrol,
        client_of,
        media_files,
        SimpleUploadedFile("certificate.pdf", b"<html><body>Not a PDF</body></html>"),
    )
    assert "This file is not a PDF, JPEG image or PNG image (what is inside the file counts" in html
    assert "is-invalid" in html


def test_image_is_refused_where_only_pdf_is_accepted(enrol, client_of, media_files):
    cv = DocumentType.objects.get(name="CV")
    html = _refused(enrol, client_of, media_files, SimpleUploadedFile("cv.pdf", png_bytes()), cv)
    assert "This file is a PNG image, but CV must be a PDF." in html


def test_oversized_file_is_stopped_while_it_streams_in(enrol, client_of, media_files):
    small = DocumentType.objects.create(name="Small scan", accepted_kinds=["pdf"], max_size_mb=1)
    big = PDF_BYTES + b"0" * (1024 * 1024 + 10)
    html = _refused(enrol, client_of, media_files, SimpleUploadedFile("big.pdf", big), small)
    # The streaming limit answers before the file is complete, so its size is not known.
    assert "This file is more than the 1 MB allowed for Small scan." in html


def test_size_is_checked_before_the_content_is_read():
    small = DocumentType(name="Small scan", accepted_kinds=["pdf"], max_size_mb=1)
    upload = SimpleUploadedFile("big.pdf", b"<html>" + b"0" * (1024 * 1024))
    with pytest.raises(ValidationError) as refused:
        document_upload_check(upload=upload, document_type=small)
    assert refused.value.code == "too_large"
    message = refused.value.messages[0]
    assert "This file (1.0\xa0MB) is more than the 1 MB allowed for Small scan." in message


def test_empty_file_is_refused(enrol, client_of, media_files):
    html = _refused(enrol, client_of, media_files, SimpleUploadedFile("empty.pdf", b""))
    assert "The file is empty." in html


def test_missing_file_is_refused(enrol, client_of):
    enrollment = enrol()
    response = client_of(enrollment.user).post(
        upload_url(enrollment, id_type()), {}, headers={"HX-Request": "true"}
    )
    assert "Choose a file to upload." in response.content.decode()


def test_a_file_name_with_folder_parts_is_refused(enrol, client_of, media_files):
    enrollment = enrol()
    client = client_of(enrollment.user)
    client.get(reverse("enrolments:detail", args=[enrollment.pk]))
    response = client.post(
        upload_url(enrollment, id_type()),
        _multipart("..\\..\\Windows/../etc/My ID.pdf", PDF_BYTES),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 200
    assert "The file&#x27;s name contains folder parts" in response.content.decode()
    assert not enrollment.documents.exists()
    assert media_files() == []


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("id\x1b[31m.pdf", "name_control_characters"),
        ("evil\r\nX-Injected: 1.pdf", "name_control_characters"),
        ("right\u202etxt.pdf", "name_control_characters"),
        ("../", "name_path"),
        ("..\\My ID.pdf", "name_path"),
        ("..", "name_empty"),
    ],
)
def test_file_names_with_control_characters_are_refused(name, code):
    with pytest.raises(ValidationError) as refused:
        original_name_clean(name)
    assert refused.value.code == code


def test_long_file_names_keep_their_extension():
    name = original_name_clean("a" * 300 + ".pdf")
    assert len(name) == 255
    assert name.endswith(".pdf")


def test_refused_name_stores_nothing(enrol, media_files):
    enrollment = enrol()
    upload = SimpleUploadedFile("scan\x00.pdf", PDF_BYTES)
    with pytest.raises(ValidationError):
        document_upload_check(upload=upload, document_type=id_type())
    assert media_files() == []
    assert enrollment.documents.count() == 0


def test_a_failed_save_leaves_no_file_behind(enrol, media_files):
    enrollment = enrol()
    document = StudentDocument(
        document_type=id_type(),
        file=SimpleUploadedFile("id.pdf", PDF_BYTES),
        original_name="id.pdf",
        size=len(PDF_BYTES),
        content_type="application/pdf",
        sha256="x" * 65,  # longer than the column: the insert fails after the file is written
    )
    with pytest.raises(Exception, match="too long"):
        enrollment_document_add(enrollment=enrollment, actor=enrollment.user, document=document)
    assert media_files() == []


def test_rejected_document_can_be_reuploaded_and_the_old_version_is_kept(
    enrol, client_of, admin, media_files
):
    enrollment = enrol()
    client = client_of(enrollment.user)
    url = upload_url(enrollment, id_type())
    client.post(url, {"file": SimpleUploadedFile("blurry.png", png_bytes())})
    first = StudentDocument.objects.get(enrollment=enrollment)
    document_review(
        document=first, reviewer=admin, approve=False, reason="The photo is too blurry."
    )

    page = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()
    assert "Not accepted:</strong> The photo is too blurry." in page
    assert "Upload a new version" in page
    assert "A document was not accepted." in page

    response = client.post(url, {"file": SimpleUploadedFile("sharp.pdf", PDF_BYTES)})
    assert response.status_code == 302

    first.refresh_from_db()
    second = StudentDocument.objects.get(enrollment=enrollment, is_current=True)
    assert not first.is_current
    assert first.status == DocumentStatus.REJECTED
    assert first.rejection_reason == "The photo is too blurry."
    assert first.file.storage.exists(first.file.name)
    assert second.pk != first.pk
    assert second.status == DocumentStatus.PENDING
    assert len(media_files()) == 2
    enrollment.refresh_from_db()
    assert enrollment.document_verification_state == VerificationState.PENDING
    assert enrollment.rejection_reason == ""
    page = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()
    assert "Earlier versions (1)" in page
    assert "blurry.png" in page
    assert "not accepted: The photo is too blurry." in page


def test_verified_document_cannot_be_replaced(enrol, client_of, admin, media_files):
    enrollment = enrol()
    client = client_of(enrollment.user)
    url = upload_url(enrollment, id_type())
    client.post(url, {"file": SimpleUploadedFile("id.pdf", PDF_BYTES)})
    document_review(document=enrollment.documents.get(), reviewer=admin, approve=True)

    page = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()
    assert "Verified" in page
    response = client.post(
        url, {"file": SimpleUploadedFile("other.pdf", PDF_BYTES)}, headers={"HX-Request": "true"}
    )
    assert "This document is already verified." in response.content.decode()
    assert enrollment.documents.count() == 1
    assert len(media_files()) == 1


def test_document_the_cohort_does_not_ask_for_is_not_found(enrol, client_of):
    enrollment = enrol()
    cv = DocumentType.objects.get(name="CV")
    response = client_of(enrollment.user).post(
        upload_url(enrollment, cv), {"file": SimpleUploadedFile("cv.pdf", PDF_BYTES)}
    )
    assert response.status_code == 404
    assert not enrollment.documents.exists()


def test_upload_still_needs_the_csrf_token(enrol, institution, media_files):
    from django.test import Client

    from tenants.sites import institution_domain

    enrollment = enrol()
    client = Client(HTTP_HOST=institution_domain(institution.code), enforce_csrf_checks=True)
    client.force_login(enrollment.user, backend="accounts.backends.RoleBackend")
    url = upload_url(enrollment, id_type())
    content_type = f"multipart/form-data; boundary={BOUNDARY}"

    refused = client.post(url, _multipart("id.pdf", PDF_BYTES), content_type=content_type)
    assert refused.status_code == 403
    assert not enrollment.documents.exists()
    assert media_files() == []

    client.get(reverse("enrolments:detail", args=[enrollment.pk]))
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        url, _multipart("id.pdf", PDF_BYTES, csrf=token), content_type=content_type
    )
    assert accepted.status_code == 302
    assert enrollment.documents.count() == 1


def test_without_javascript_the_document_has_a_page_of_its_own(enrol, client_of):
    enrollment = enrol()
    client = client_of(enrollment.user)
    url = upload_url(enrollment, id_type())

    page = client.get(url).content.decode()
    assert '<h1 class="h3 mb-3">Upload a document</h1>' in page
    assert "South African ID or passport" in page
    assert 'enctype="multipart/form-data"' in page

    refused = client.post(url, {"file": SimpleUploadedFile("id.pdf", b"plain text")})
    assert refused.status_code == 200
    assert "This file is not a PDF, JPEG image or PNG image" in refused.content.decode()
    assert "Back to all steps" in refused.content.decode()
    assert not enrollment.documents.exists()
