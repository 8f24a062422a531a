"""The student portal: a student sees and changes only their own enrolments."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from cohorts.models import DocumentType
from enrolments.models import EnrollmentState
from enrolments.services import enrollment_withdraw
from tests.factories import CohortFactory, UserFactory
from tests.files import PDF_BYTES
from tests.learners.support import FORM_DETAILS

from .conftest import upload_url

pytestmark = pytest.mark.django_db

DETAILS = FORM_DETAILS


def _urls(enrollment) -> list[str]:
    document_type = enrollment.cohort.required_document_types.first()
    return [
        reverse("enrolments:detail", args=[enrollment.pk]),
        reverse("enrolments:details", args=[enrollment.pk]),
        reverse("enrolments:agreement", args=[enrollment.pk]),
        upload_url(enrollment, document_type),
    ]


def test_enrolment_page_lists_every_step_in_order(enrol, client_of):
    enrollment = enrol()
    client = client_of(enrollment.user)

    page = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()

    order = [
        "Your consents",
        "Your details",
        "Matric certificate",
        "South African ID or passport",
        "Your agreement",
    ]
    positions = [page.index(title) for title in order]
    assert positions == sorted(positions)
    assert "0 of 5 steps done" in page
    assert page.count("Not uploaded") == 2
    assert "To sign" in page
    assert "PDF, JPEG or PNG · up to 10 MB" in page
    assert 'hx-encoding="multipart/form-data"' in page
    assert "js/upload.js" in page
    assert " style=" not in page  # CSP: no inline style attributes
    assert "<script>" not in page


def test_my_enrolments_with_one_enrolment_goes_straight_to_it(enrol, client_of):
    enrollment = enrol()
    response = client_of(enrollment.user).get(reverse("enrolments:my_enrolments"))
    assert response.status_code == 302
    assert response["Location"] == reverse("enrolments:detail", args=[enrollment.pk])


def test_my_enrolments_lists_several(enrol, client_of):
    first = enrol(email="two@example.org")
    second = enrol(email="two@example.org")
    page = client_of(second.user).get(reverse("enrolments:my_enrolments")).content.decode()
    assert first.cohort.name in page
    assert second.cohort.name in page


def test_my_enrolments_without_enrolments_says_so(institution, client_of):
    person = UserFactory(roles=["student"])
    page = client_of(person).get(reverse("enrolments:my_enrolments")).content.decode()
    assert "not enrolled in a cohort" in page


def test_anonymous_visitors_are_sent_to_sign_in(enrol, client_for, institution):
    enrollment = enrol()
    for url in _urls(enrollment):
        response = client_for(institution).get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_another_students_enrolment_is_not_found(enrol, client_of):
    mine, theirs = enrol(), enrol()
    client = client_of(mine.user)
    for url in _urls(theirs):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    theirs.learner.refresh_from_db()
    assert theirs.learner.details_completed_at is None


def test_an_admin_has_no_portal_view_of_a_students_enrolment(enrol, client_of, admin):
    enrollment = enrol()
    client = client_of(admin)
    for url in _urls(enrollment):
        assert client.get(url).status_code == 404


def test_another_institutions_enrolment_id_is_not_found(
    enrol, client_of, other_institution, institution
):
    with tenant_context(other_institution):
        admin = UserFactory(roles=["admin"])
        from enrolments.services import enrollment_invite

        elsewhere = enrollment_invite(
            cohort=CohortFactory(), actor=admin, email="far@example.org", full_name="Far Away"
        )
    connection.set_tenant(institution)
    mine = enrol()
    client = client_of(mine.user)
    # An id that exists only in the other institution's schema.
    missing_here = elsewhere.pk if elsewhere.pk != mine.pk else elsewhere.pk + 1000
    assert client.get(reverse("enrolments:detail", args=[missing_here])).status_code == 404


def test_withdrawn_enrolment_disappears_from_the_students_view(enrol, client_of, admin):
    enrollment = enrol()
    client = client_of(enrollment.user)
    assert client.get(reverse("enrolments:detail", args=[enrollment.pk])).status_code == 200

    enrollment_withdraw(enrollment=enrollment, actor=admin, reason="Left the province")

    for url in _urls(enrollment):
        assert client.get(url).status_code == 404
    page = client.get(reverse("enrolments:my_enrolments")).content.decode()
    assert enrollment.cohort.name not in page


def test_details_form_saves_validated_details_and_fills_in_from_the_id(enrol, client_of):
    enrollment = enrol()
    client = client_of(enrollment.user)

    response = client.post(reverse("enrolments:details", args=[enrollment.pk]), DETAILS)

    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.IN_PROGRESS
    learner = enrollment.learner
    learner.refresh_from_db()
    assert learner.details_completed_at is not None
    assert learner.date_of_birth == datetime.date(1999, 4, 12)
    assert learner.gender == "male"
    assert learner.national_id_last4 == "0080"
    page = client.get(response["Location"]).content.decode()
    assert "Your details are saved." in page
    assert "Coloured" in page
    assert "Hearing" in page
    assert "1 of 5 steps done" in page


def test_special_personal_information_stays_out_of_the_audit_trail(enrol, client_of):
    enrollment = enrol()
    client_of(enrollment.user).post(reverse("enrolments:details", args=[enrollment.pk]), DETAILS)
    event = AuditEvent.objects.get(action="enrollment.details_saved", entity_id=str(enrollment.pk))
    assert "race" in event.new_values["fields"]
    for value in ("coloured", "hearing", "9904125800080"):
        assert value not in str(event.new_values)


def test_details_form_shows_the_mismatch_next_to_the_field(enrol, client_of):
    enrollment = enrol()
    response = client_of(enrollment.user).post(
        reverse("enrolments:details", args=[enrollment.pk]),
        {**DETAILS, "date_of_birth": "1999-04-13"},
    )
    assert response.status_code == 200
    assert "The date of birth does not match your ID number (it says 1999-04-12)." in (
        response.content.decode()
    )
    enrollment.learner.refresh_from_db()
    assert enrollment.learner.details_completed_at is None


def _sign_through(url: str, name: str):
    from signing.selectors import link_for_token
    from signing.services.completion import submitter_sign
    from tests.signing.conftest import token_from

    token = token_from(url)
    return submitter_sign(
        link=link_for_token(token), signed_name=name, consent=True, signature_text=name
    )


def test_agreement_page_sends_the_student_to_the_signing_page(enrol, client_of):
    from signing.selectors import submissions_for_subject
    from tests.signing.conftest import others_sign

    enrollment = enrol()
    client = client_of(enrollment.user)
    url = reverse("enrolments:agreement", args=[enrollment.pk])

    page = client.get(url).content.decode()
    assert enrollment.cohort.main_template.title in page
    assert "By signing, each party accepts these terms." in page

    started = client.post(url)
    assert started.status_code == 302
    assert "/sign/" in started["Location"]
    submission = submissions_for_subject(enrollment).get()
    signer, institution = submission.submitters.all()
    assert (signer.role, signer.user) == ("student", enrollment.user)
    assert institution.role == "institution_admin"
    # Once signed, the signing page brings the student back to the portal.
    assert started["Location"].endswith(
        "?next=" + reverse("enrolments:detail", args=[enrollment.pk]).replace("/", "%2F")
    )
    enrollment.refresh_from_db()
    assert enrollment.agreement_signed_at is None

    # A second click reuses the open submission with a fresh link.
    again = client.post(url)
    assert again["Location"] != started["Location"]
    assert submissions_for_subject(enrollment).count() == 1

    _sign_through(again["Location"], "Sipho Student")
    enrollment.refresh_from_db()
    assert enrollment.agreement_signed_at is None
    detail = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()
    assert "Signed by you. Not yet signed by the institution" in detail
    assert "Waiting for the institution" in detail

    others_sign(submission)
    enrollment.refresh_from_db()
    assert enrollment.agreement_signature == "Sipho Student"
    assert enrollment.agreement_signed_at is not None
    detail = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()
    assert "Signed by every party: you signed as “Sipho Student”" in detail


def test_agreement_cannot_be_signed_twice(enrol, client_of):
    enrollment = enrol()
    client = client_of(enrollment.user)
    url = reverse("enrolments:agreement", args=[enrollment.pk])
    _sign_through(client.post(url)["Location"], "Sipho Student")
    again = client.post(url)
    assert again.status_code == 200
    assert "You have signed this agreement; it is waiting for the other parties." in (
        again.content.decode()
    )
    enrollment.refresh_from_db()
    assert enrollment.agreement_signed_at is None


def test_agreement_step_waits_while_the_cohort_has_no_agreement(enrol, client_of):
    cohort = CohortFactory(main_template=None)
    enrollment = enrol(cohort=cohort)
    client = client_of(enrollment.user)
    page = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()
    assert "Not ready yet" in page
    response = client.post(reverse("enrolments:agreement", args=[enrollment.pk]))
    assert "not ready yet" in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.agreement_signed_at is None


def test_students_own_file_is_streamed_only_to_them(enrol, client_of):
    enrollment, other = enrol(), enrol()
    document_type = enrollment.cohort.required_document_types.first()
    client = client_of(enrollment.user)
    client.post(
        upload_url(enrollment, document_type),
        {"file": _named("certificate.pdf", PDF_BYTES)},
    )
    document = enrollment.documents.get()
    url = reverse("enrolments:document_file", args=[enrollment.pk, document.pk])

    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="certificate.pdf"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"

    intruder = client_of(other.user)
    assert intruder.get(url).status_code == 404
    assert (
        intruder.get(reverse("enrolments:document_file", args=[other.pk, document.pk])).status_code
        == 404
    )


def _named(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def _portal_queries(enrol, client_of, count: int) -> int:
    """Queries made by the enrolment page of a student who uploaded `count` documents."""
    types = list(DocumentType.objects.order_by("pk")[:count])
    assert len(types) == count
    enrollment = enrol(cohort=CohortFactory(required_document_types=types))
    client = client_of(enrollment.user)
    for document_type in types:
        response = client.post(
            upload_url(enrollment, document_type),
            {"file": _named("doc.pdf", PDF_BYTES)},
        )
        assert response.status_code == 302, response.content.decode()
    url = reverse("enrolments:detail", args=[enrollment.pk])
    client.get(url)  # the first page after the uploads also shows and clears their messages
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("Waiting for review") == count
    return len(queries)


def test_enrolment_page_query_count_does_not_grow_with_documents(enrol, client_of):
    assert _portal_queries(enrol, client_of, 2) == _portal_queries(enrol, client_of, 6)


def test_permission_denied_is_a_404_for_the_services(enrol):
    from enrolments.agreements import enrollment_agreement_sign

    mine, theirs = enrol(), enrol()
    with pytest.raises(PermissionDenied):
        enrollment_agreement_sign(enrollment=theirs, actor=mine.user, signature="Me")
