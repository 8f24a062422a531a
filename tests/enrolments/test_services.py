"""Services added for the portal: the review decision on a document (used by the review pages),
and completion of an enrolment end to end."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import CHANGED
from enrolments.agreements import enrollment_agreement_sign
from enrolments.models import DocumentStatus, EnrollmentState, VerificationState
from enrolments.services import enrollment_details_save, enrollment_withdraw
from notifications.models import OutboundEmail
from notifications.services import email_render
from tests.factories import CohortFactory
from tests.learners.support import consents_give
from verification.services import document_review

from .conftest import upload_document
from .test_views import DETAILS

pytestmark = pytest.mark.django_db


def _details(enrollment):
    from learners.forms import LearnerDetailsForm

    form = LearnerDetailsForm(DETAILS)
    assert form.is_valid(), form.errors
    return enrollment_details_save(
        enrollment=enrollment, actor=enrollment.user, details=form.details()
    )


def test_details_documents_and_agreement_complete_the_enrolment(enrol, admin, client_of):
    enrollment = enrol()
    types = list(enrollment.cohort.required_document_types.all())
    consents_give(enrollment.learner)
    _details(enrollment)
    documents = [upload_document(enrollment, document_type) for document_type in types]
    enrollment_agreement_sign(enrollment=enrollment, actor=enrollment.user, signature="Sipho")
    document_review(document=documents[0], reviewer=admin, approve=True)
    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.IN_PROGRESS
    completion = OutboundEmail.objects.filter(
        template="enrollment_complete", recipient=enrollment.user.email
    )
    assert not completion.exists()

    document_review(document=documents[1], reviewer=admin, approve=True)

    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.COMPLETE
    assert enrollment.document_verification_state == VerificationState.VERIFIED
    email = completion.get()
    message = email_render(email)
    assert message.subject == f"Your enrolment in {enrollment.cohort.name} is complete"
    assert "is complete" in message.body
    assert AuditEvent.objects.filter(
        action="enrollment.completed", entity_id=str(enrollment.pk)
    ).exists()

    page = (
        client_of(enrollment.user)
        .get(reverse("enrolments:detail", args=[enrollment.pk]))
        .content.decode()
    )
    assert "All done." in page
    assert "5 of 5 steps done" in page
    assert "<form" not in page.split("<main", 1)[1].split("</main>")[0]


def test_completion_waits_for_the_agreement(enrol, admin):
    enrollment = enrol()
    _details(enrollment)
    for document_type in enrollment.cohort.required_document_types.all():
        document_review(
            document=upload_document(enrollment, document_type), reviewer=admin, approve=True
        )
    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.IN_PROGRESS
    assert enrollment.document_verification_state == VerificationState.VERIFIED

    enrollment_agreement_sign(enrollment=enrollment, actor=enrollment.user, signature="Sipho")

    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.COMPLETE
    assert (
        OutboundEmail.objects.filter(
            template="enrollment_complete", recipient=enrollment.user.email
        ).count()
        == 1
    )


def test_rejection_records_the_reason_and_is_audited(enrol, admin):
    enrollment = enrol()
    document = upload_document(enrollment, enrollment.cohort.required_document_types.first())

    document_review(
        document=document, reviewer=admin, approve=False, reason=" Cut off at the edge. "
    )

    document.refresh_from_db()
    enrollment.refresh_from_db()
    assert document.status == DocumentStatus.REJECTED
    assert document.rejection_reason == "Cut off at the edge."
    assert enrollment.document_verification_state == VerificationState.REJECTED
    assert enrollment.rejection_reason == "Cut off at the edge."
    event = AuditEvent.objects.get(action="document.rejected", entity_id=str(document.pk))
    assert event.actor == admin
    assert event.entity_id == str(document.pk)
    assert event.new_values == {"status": "rejected", "reason": CHANGED}


def test_rejection_needs_a_reason(enrol, admin):
    enrollment = enrol()
    document = upload_document(enrollment, enrollment.cohort.required_document_types.first())
    with pytest.raises(ValidationError) as refused:
        document_review(document=document, reviewer=admin, approve=False, reason=" ")
    assert refused.value.message_dict == {"reason": ["Say why the document is rejected."]}
    document.refresh_from_db()
    assert document.status == DocumentStatus.PENDING


def test_a_decided_or_replaced_version_cannot_be_decided(enrol, admin):
    enrollment = enrol()
    document_type = enrollment.cohort.required_document_types.first()
    first = upload_document(enrollment, document_type)
    document_review(document=first, reviewer=admin, approve=False, reason="Blurry")
    with pytest.raises(ValidationError, match="already rejected"):
        document_review(document=first, reviewer=admin, approve=True)
    upload_document(enrollment, document_type)
    with pytest.raises(ValidationError, match="newer version"):
        document_review(document=first, reviewer=admin, approve=True)


def test_documents_of_a_withdrawn_enrolment_cannot_be_decided(enrol, admin):
    enrollment = enrol()
    document = upload_document(enrollment, enrollment.cohort.required_document_types.first())
    enrollment_withdraw(enrollment=enrollment, actor=admin, reason="Moved away")
    with pytest.raises(ValidationError, match="withdrawn"):
        document_review(document=document, reviewer=admin, approve=True)


def test_agreement_cannot_be_signed_before_the_cohort_has_one(enrol):
    enrollment = enrol(cohort=CohortFactory(main_template=None))
    with pytest.raises(ValidationError, match="not ready yet"):
        enrollment_agreement_sign(enrollment=enrollment, actor=enrollment.user, signature="Me")


def test_existing_account_is_told_where_to_sign_in(enrol, institution):
    first = enrol(email="again@example.org", full_name="Thandi O'Brien")
    second = enrol(email="again@example.org")
    assert second.user_id == first.user_id
    email = OutboundEmail.objects.get(template="enrolled", recipient="again@example.org")
    assert email.context["url"].endswith(f"/my/{second.pk}/")
    assert email.context["url"].startswith("http://alpha.")

    message = email_render(email)

    assert message.subject == f"You're enrolled in {second.cohort.name} at {institution.name}"
    assert "Hello Thandi O'Brien," in message.body  # plain text is not HTML-escaped
    assert email.context["url"] in message.body
    assert "Open my enrolment" in message.alternatives[0][0]


def test_signing_the_agreement_submission_completes_the_enrolment(enrol, admin):
    from enrolments.agreements import enrollment_agreement_start
    from signing.models import SubmissionStatus
    from signing.selectors import link_for_token, submissions_for_subject
    from signing.services.completion import submitter_sign
    from tests.signing.conftest import others_sign

    enrollment = enrol()
    _details(enrollment)
    for document_type in enrollment.cohort.required_document_types.all():
        document_review(
            document=upload_document(enrollment, document_type), reviewer=admin, approve=True
        )
    url = enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)
    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.IN_PROGRESS

    token = url.rstrip("/").rsplit("/", 1)[-1]
    submitter_sign(
        link=link_for_token(token),
        signed_name="Sipho Dlamini",
        consent=True,
        signature_text="Sipho Dlamini",
    )
    # The student's signature alone does not make the agreement signed.
    enrollment.refresh_from_db()
    assert enrollment.agreement_signed_at is None
    assert enrollment.state == EnrollmentState.IN_PROGRESS
    others_sign(submissions_for_subject(enrollment).get())

    assert submissions_for_subject(enrollment).get().status == SubmissionStatus.COMPLETED
    enrollment.refresh_from_db()
    assert enrollment.agreement_signature == "Sipho Dlamini"
    assert enrollment.state == EnrollmentState.COMPLETE
