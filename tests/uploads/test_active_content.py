"""PDFs with active content (JavaScript, automatic actions, launch commands, attached files,
XFA forms): refused by default with a message that says what was found and how to fix it; with
the institution's setting, accepted as a copy without any of it, which is all that reviewers
see, with the SHA-256 of the file as uploaded kept on the record."""

import hashlib
import html
import io

import pikepdf
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import SystemRole
from audit.models import AuditEvent
from cohorts.models import DocumentType
from enrolments.models import StudentDocument
from enrolments.uploads import document_upload_check
from tenants.models import Institution
from tenants.services import REMOVE_PDF_ACTIVE_CONTENT
from tests.enrolments.conftest import id_type, upload_url
from tests.factories import UserFactory

from .active_pdfs import ACTIVE_PDFS, PAGE_TEXT, active_parts, build_pdf

pytestmark = pytest.mark.django_db

ANY_KIND = DocumentType(name="ID", accepted_kinds=["pdf", "jpeg", "png"], max_size_mb=10)
HOW_TO_FIX = (
    "Open the PDF and print it to a new PDF (choose “Save as PDF” or “Microsoft Print to PDF” "
    "as the printer), or scan the paper document again, and upload the new file."
)


@pytest.fixture
def removal_chosen(institution):
    """The institution chose to accept such PDFs as copies without their active content."""
    Institution.objects.filter(pk=institution.pk).update(
        settings={**institution.settings, REMOVE_PDF_ACTIVE_CONTENT: True}
    )
    yield
    Institution.objects.filter(pk=institution.pk).update(settings=institution.settings)


def _upload(client, enrollment, content: bytes, name: str = "matric.pdf"):
    return client.post(
        upload_url(enrollment, id_type()),
        {"file": SimpleUploadedFile(name, content)},
        headers={"HX-Request": "true"},
    )


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def test_the_hostile_pdfs_really_hold_what_they_claim():
    """The independent check finds each builder's active content, and none in a plain PDF, so
    that "nothing found" after removal means something."""
    assert active_parts(build_pdf()) == []
    for builder, _words in ACTIVE_PDFS.values():
        assert active_parts(build_pdf(builder)), builder.__name__


@pytest.mark.parametrize("case", ACTIVE_PDFS.keys())
def test_pdf_with_active_content_is_refused_saying_what_and_how_to_fix_it(
    case, student, nothing_stored
):
    builder, words = ACTIVE_PDFS[case]
    enrollment, client = student()

    response = _upload(client, enrollment, build_pdf(builder))

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert f"This PDF contains {_listed(words)}, which could run on the computer" in page
    assert HOW_TO_FIX in page
    assert "is-invalid" in page
    nothing_stored(enrollment)


@pytest.mark.parametrize("case", ACTIVE_PDFS.keys())
def test_the_check_refuses_active_content_with_its_code(case):
    builder, _words = ACTIVE_PDFS[case]
    with pytest.raises(ValidationError) as refused:
        document_upload_check(
            upload=SimpleUploadedFile("matric.pdf", build_pdf(builder)), document_type=ANY_KIND
        )
    assert refused.value.code == "pdf_active_content"


def test_pdf_with_links_and_bookmarks_but_no_active_content_is_accepted(student):
    """A link to a web page, a bookmark and an opening view are not active content."""

    def harmless(pdf: pikepdf.Pdf) -> None:
        page = pdf.pages[0].obj
        pdf.Root.OpenAction = pikepdf.Array([page, pikepdf.Name.Fit])
        link = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=pikepdf.Array([0, 0, 50, 50]),
            A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://example.org")),
        )
        page.Annots = pikepdf.Array([pdf.make_indirect(link)])

    enrollment, client = student()
    content = build_pdf(harmless)

    response = _upload(client, enrollment, content)

    assert "Uploaded. It is now waiting for review." in response.content.decode()
    assert "Active content" not in response.content.decode()
    document = StudentDocument.objects.get(enrollment=enrollment)
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.original_sha256 == ""


@pytest.mark.parametrize("case", ACTIVE_PDFS.keys())
def test_with_the_setting_only_a_copy_without_active_content_is_stored(
    case, student, removal_chosen, media_files
):
    builder, _words = ACTIVE_PDFS[case]
    enrollment, client = student()
    content = build_pdf(builder)

    response = _upload(client, enrollment, content)

    page = response.content.decode()
    assert "Uploaded. It is now waiting for review." in page
    assert "Active content (such as JavaScript or attached files) was removed from this PDF" in (
        page
    )
    document = StudentDocument.objects.get(enrollment=enrollment)
    [stored_path] = media_files()
    stored = stored_path.read_bytes()
    assert active_parts(stored) == []
    with pikepdf.open(io.BytesIO(stored)) as copy:
        assert len(copy.pages) == 1
        assert copy.pages[0].Contents.read_bytes() == PAGE_TEXT  # the document itself stays
    assert stored != content
    assert document.original_sha256 == hashlib.sha256(content).hexdigest()
    assert document.sha256 == hashlib.sha256(stored).hexdigest()
    assert document.size == len(stored)


def test_reviewers_see_and_get_only_the_copy(student, removal_chosen, institution, client_of):
    enrollment, client = student()
    content = build_pdf(ACTIVE_PDFS["JavaScript run on opening (/OpenAction)"][0])
    _upload(client, enrollment, content)
    document = StudentDocument.objects.get(enrollment=enrollment)
    reviewer = client_of(UserFactory(roles=[SystemRole.ADMIN]))

    page = reviewer.get(reverse("verification:document", args=[document.pk])).content.decode()
    served = reviewer.get(reverse("verification:document_file", args=[document.pk]))
    own = client.get(reverse("enrolments:document_file", args=[enrollment.pk, document.pk]))

    assert "Active content (such as JavaScript or attached files) was removed" in page
    assert document.original_sha256 in page
    for response in (served, own):
        body = b"".join(response.streaming_content)
        assert body != content
        assert hashlib.sha256(body).hexdigest() == document.sha256
        assert active_parts(body) == []


def test_the_setting_is_a_checkbox_on_the_settings_page(institution, client_for):
    client = client_for(institution)
    client.force_login(UserFactory(roles=[SystemRole.SUPER_ADMIN]))
    form = {
        "name": institution.name,
        "contact_email": "founder@alpha.example",
        "brand_colour": institution.brand_colour,
        "signing_link_days": "14",
    }
    page = client.get("/settings/").content.decode()
    assert "Accept PDFs with active content, storing a copy without it" in page
    assert f'name="{REMOVE_PDF_ACTIVE_CONTENT}"' in page

    try:
        assert (
            client.post("/settings/", {**form, REMOVE_PDF_ACTIVE_CONTENT: "on"}).status_code == 302
        )
        institution.refresh_from_db()
        assert institution.settings[REMOVE_PDF_ACTIVE_CONTENT] is True
        event = AuditEvent.objects.get(action="institution.profile_updated")
        assert event.old_values == {REMOVE_PDF_ACTIVE_CONTENT: False}
        assert event.new_values == {REMOVE_PDF_ACTIVE_CONTENT: True}
        assert (
            "checked"
            in client.get("/settings/")
            .content.decode()
            .split(f'name="{REMOVE_PDF_ACTIVE_CONTENT}"')[1]
            .split(">")[0]
        )

        client.post("/settings/", form)  # unticked
        institution.refresh_from_db()
        assert institution.settings[REMOVE_PDF_ACTIVE_CONTENT] is False
    finally:
        settings_before = {
            key: value
            for key, value in institution.settings.items()
            if key != REMOVE_PDF_ACTIVE_CONTENT
        }
        Institution.objects.filter(pk=institution.pk).update(settings=settings_before)
