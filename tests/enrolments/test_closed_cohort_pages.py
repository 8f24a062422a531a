"""A closed cohort's pages: the student's portal says the cohort is closed and shows what they
have (their details, documents and sealed agreement) with no button to act; the admin's cohort
page offers no invitation, resend, withdrawal or import; the invitation link says there is
nothing to sign up for. Every POST that would act is refused with the message and writes
nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.services import invitation_issue
from cohorts.imports.uploads import student_import_start
from cohorts.models import StudentImportStatus
from enrolments.agreements import enrollment_agreement_start
from enrolments.models import EnrollmentState
from notifications.models import OutboundEmail
from signing.selectors import link_for_token
from signing.services.completion import submitter_sign
from tests.factories import PASSWORD
from tests.files import PDF_BYTES
from tests.imports.support import csv_bytes, student_row
from tests.signing.conftest import others_sign, token_from

from .closed import counts
from .conftest import id_type, upload_document, upload_url
from .test_services import _details

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def _messages(client, url: str) -> str:
    """The page at `url`, with the messages waiting for it."""
    return _text(client.get(url))


@pytest.fixture
def signed(enrol, active_cohort, eager, django_capture_on_commit_callbacks):
    """A student of a running cohort who gave their details, uploaded their ID and signed their
    agreement in the portal, which the institution then countersigned (sealed); their matric
    certificate is still missing."""
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=active_cohort())
    _details(enrollment)
    upload_document(enrollment, id_type(), name="my-id.pdf")
    url = enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)
    submitter_sign(
        link=link_for_token(token_from(url)),
        signed_name="Sipho Student",
        consent=True,
        signature_text="Sipho Student",
    )
    others_sign(link_for_token(token_from(url)).submitter.submission)
    enrollment.refresh_from_db()
    return enrollment


def test_the_portal_says_the_cohort_is_closed_and_shows_what_the_student_has(
    signed, close, client_of
):
    close(signed.cohort)
    client = client_of(signed.user)

    page = _text(client.get(reverse("enrolments:detail", args=[signed.pk])))

    assert f"This cohort is {close.state}" in page
    assert (
        "What you gave is kept here for you to see: your details, the documents you uploaded "
        "and your signed agreement." in page
    )
    # The sealed agreement and the uploaded file, both the student's to download.
    pdf_url = reverse("enrolments:agreement_pdf", args=[signed.pk])
    assert "Download your signed agreement (PDF)" in page
    assert client.get(pdf_url)["Content-Type"] == "application/pdf"
    document = signed.documents.get()
    file_url = reverse("enrolments:document_file", args=[signed.pk, document.pk])
    assert file_url in page
    assert b"".join(client.get(file_url).streaming_content) == PDF_BYTES
    assert "Not reviewed" in page  # the ID was never reviewed
    assert "Not uploaded before the cohort closed." in page  # the matric certificate
    # No button that cannot act: no form, no upload, no link to change details or sign.
    for gone in [
        'type="file"',
        "Upload",
        "Replace it",
        reverse("enrolments:details", args=[signed.pk]),
        "Read and sign",
        "To sign",
        "steps done",
        "Welcome to the programme",
    ]:
        assert gone not in page, gone


def test_a_closed_cohort_with_nothing_handed_in_says_so(enrol, close, client_of):
    enrollment = enrol()
    close(enrollment.cohort)
    page = _text(client_of(enrollment.user).get(reverse("enrolments:detail", args=[enrollment.pk])))
    assert "You had not handed anything in." in page
    assert "Not given before the cohort closed." in page
    assert "Download your signed agreement" not in page
    assert "Fill in your details" not in page


def test_my_enrolments_marks_the_closed_cohort(enrol, close, client_of):
    closed = enrol(email="two@example.org")
    running = enrol(email="two@example.org")
    close(closed.cohort)
    page = _text(client_of(running.user).get(reverse("enrolments:my_enrolments")))
    assert page.count(f"Cohort {close.state}") == 1


def test_the_details_page_of_a_closed_cohort_refuses(enrol, close, client_of):
    enrollment = enrol()
    close(enrollment.cohort)
    client = client_of(enrollment.user)
    url = reverse("enrolments:details", args=[enrollment.pk])
    message = f"This cohort is {close.state}; your details can no longer change."

    for method, data in [("get", {}), ("post", {"city": "Soweto"})]:
        response = getattr(client, method)(url, data)
        assert response["Location"] == reverse("enrolments:detail", args=[enrollment.pk])
        assert message in _messages(client, response["Location"])
    enrollment.learner.refresh_from_db()
    assert enrollment.learner.details_completed_at is None


@pytest.mark.parametrize("htmx", [False, True])
def test_an_upload_to_a_closed_cohort_is_refused_with_the_message(
    enrol, close, client_of, media_files, htmx
):
    enrollment = enrol()
    close(enrollment.cohort)
    client = client_of(enrollment.user)
    url = upload_url(enrollment, id_type())
    before = counts()

    page = client.get(url)
    response = client.post(
        url,
        {"file": SimpleUploadedFile("id.pdf", PDF_BYTES)},
        headers={"HX-Request": "true"} if htmx else {},
    )

    assert 'type="file"' not in _text(page)
    assert f"This cohort is {close.state}; documents can no longer be uploaded." in _text(response)
    assert 'type="file"' not in _text(response)
    assert counts() == before
    assert media_files() == []


def test_the_agreement_page_of_a_closed_cohort_offers_no_signing(
    enrol, active_cohort, close, client_of, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=active_cohort())
    close(enrollment.cohort)
    client = client_of(enrollment.user)
    url = reverse("enrolments:agreement", args=[enrollment.pk])
    before = counts()

    page = _text(client.get(url))
    refused = _text(client.post(url))

    assert f"This cohort is {close.state}; the agreement can no longer be signed." in page
    assert "Sign the agreement" not in page
    assert f"This cohort is {close.state}; nothing in it can change any more." in refused
    assert counts() == before


def test_the_cohort_page_offers_no_action_on_a_closed_cohorts_students(
    enrol, close, admin_client, admin
):
    not_signed_up = enrol()
    not_signed_up.user.set_unusable_password()
    not_signed_up.user.save(update_fields=["password"])
    cohort = not_signed_up.cohort
    dashboard = reverse("cohorts:dashboard", args=[cohort.pk])
    students = f"{dashboard}students/{not_signed_up.pk}"
    running = _text(admin_client.get(dashboard))
    assert f"{students}/resend/" in running
    assert f"{students}/withdraw/" in running
    close(cohort)

    page = _text(admin_client.get(dashboard))

    for gone in [
        reverse("cohorts:student_invite", args=[cohort.pk]),
        reverse("cohort_import:upload", args=[cohort.pk]),
        f"{students}/resend/",
        f"{students}/withdraw/",
    ]:
        assert gone not in page, gone


def test_every_student_action_on_a_closed_cohort_is_refused_with_the_message(
    enrol, close, admin_client
):
    enrollment = enrol()
    enrollment.user.set_unusable_password()
    enrollment.user.save(update_fields=["password"])
    cohort = close(enrollment.cohort)
    dashboard = reverse("cohorts:dashboard", args=[cohort.pk])
    invite = reverse("cohorts:student_invite", args=[cohort.pk])
    students = f"{dashboard}students/{enrollment.pk}"
    before = counts()

    withdrawn = "its students can no longer be withdrawn"
    requests = [
        ("get", invite, {}, "students can no longer join it"),
        (
            "post",
            invite,
            {"full_name": "Lerato Late", "email": "late@example.org"},
            "students can no longer join it",
        ),
        ("post", f"{students}/resend/", {}, "invitations to it can no longer be sent"),
        ("get", f"{students}/withdraw/", {}, withdrawn),
        ("post", f"{students}/withdraw/", {"reason": "Moved"}, withdrawn),
    ]
    for method, url, data, consequence in requests:
        response = getattr(admin_client, method)(url, data)
        assert response["Location"] == dashboard, url
        assert f"This cohort is {close.state}; {consequence}." in _messages(admin_client, dashboard)

    assert counts() == before
    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.WAITING


def test_the_import_pages_of_a_closed_cohort_import_nothing(enrol, close, admin_client, admin):
    cohort = enrol().cohort
    waiting = student_import_start(
        cohort=cohort,
        actor=admin,
        upload=SimpleUploadedFile("students.csv", csv_bytes([student_row()])),
    )
    close(cohort)
    message = f"This cohort is {close.state}; students can no longer join it"
    detail = reverse("cohort_import:detail", args=[cohort.pk, waiting.pk])
    before = counts()

    upload_page = _text(admin_client.get(reverse("cohort_import:upload", args=[cohort.pk])))
    preview = _text(admin_client.get(detail))
    confirmed = admin_client.post(reverse("cohort_import:confirm", args=[cohort.pk, waiting.pk]))

    assert message in upload_page
    assert 'type="file"' not in upload_page
    assert message in preview
    assert reverse("cohort_import:confirm", args=[cohort.pk, waiting.pk]) not in preview
    assert reverse("cohort_import:cancel", args=[cohort.pk, waiting.pk]) in preview
    assert confirmed["Location"] == detail
    assert message in _messages(admin_client, detail)
    assert counts() == before
    waiting.refresh_from_db()
    assert waiting.status == StudentImportStatus.PREVIEW


def test_the_invitation_link_of_a_closed_cohort_says_there_is_nothing_to_sign_up_for(
    enrol, close, admin, client_for, institution
):
    enrollment = enrol()
    student = enrollment.user
    student.set_unusable_password()
    student.save(update_fields=["password"])
    invitation = invitation_issue(user=student, invited_by=admin)
    close(enrollment.cohort)
    # The link as e-mailed to the student.
    sent = OutboundEmail.objects.filter(recipient=student.email, template="invitation")
    email = sent.latest("pk")
    url = email.context["accept_url"]
    path = url[url.index("/accounts/") :]
    client = client_for(institution)
    before = counts()

    page = client.get(path)
    posted = client.post(path, {"full_name": "Sipho", "password1": PASSWORD, "password2": PASSWORD})

    for response in (page, posted):
        assert response.status_code == 410
        text = _text(response)
        assert "There is nothing left to sign up for" in text
        assert f"You were invited to {enrollment.cohort.name}, which is now {close.state}." in text
        assert "Send me a new invitation" not in text
        assert 'type="password"' not in text
    assert counts() == before
    student.refresh_from_db()
    assert not student.has_usable_password()
    invitation.refresh_from_db()
    assert invitation.used_at is None
