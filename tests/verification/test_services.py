"""verification.services.document_review and the bulk approval: each decision writes the
document's status, the enrolment's states, a DocumentVerification row and an audit event in one
transaction; a rejection e-mails the student the reason."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction

from accounts.models import SystemRole
from audit.models import AuditEvent
from audit.services import CHANGED
from cohorts.services import cohort_cancel
from enrolments.agreements import enrollment_agreement_sign
from enrolments.models import DocumentStatus, EnrollmentState, VerificationState
from enrolments.services import enrollment_withdraw
from notifications.models import OutboundEmail
from notifications.services import email_render
from signing.services.retention import ERASED
from tests.factories import CohortFactory, UserFactory, roles_replace
from verification.models import DocumentVerification, VerificationAction
from verification.services import (
    document_review,
    documents_bulk_approve,
    learner_verifications_erase,
)

from .conftest import give_details, id_type, matric_type

pytestmark = pytest.mark.django_db


def test_approval_is_recorded_with_the_documents_hash_and_the_time_spent(enrol, upload, admin):
    enrollment = enrol()
    document = upload(enrollment, id_type())

    verification = document_review(
        document=document, reviewer=admin, approve=True, seconds_spent=42
    )

    document.refresh_from_db()
    assert document.status == DocumentStatus.VERIFIED
    assert verification.cohort_enrollment == enrollment
    assert verification.admin == admin
    assert verification.document == document
    assert verification.document_type == id_type()
    assert verification.action == VerificationAction.APPROVED
    assert verification.reason == ""
    assert verification.metadata["sha256"] == document.sha256
    assert verification.metadata["seconds_spent"] == 42
    assert verification.metadata["bulk"] is False
    event = AuditEvent.objects.get(action="document.approved", entity_id=str(document.pk))
    assert event.actor == admin
    assert event.new_values == {"status": "verified", "reason": ""}
    # The other required document still waits.
    enrollment.refresh_from_db()
    assert enrollment.document_verification_state == VerificationState.PENDING
    assert not OutboundEmail.objects.filter(template="document_rejected").exists()


def test_a_rejection_needs_a_reason_and_writes_nothing_without_one(enrol, upload, admin):
    enrollment = enrol()
    document = upload(enrollment, id_type())

    with pytest.raises(ValidationError) as refused:
        document_review(document=document, reviewer=admin, approve=False, reason="  ")

    assert refused.value.message_dict == {"reason": ["Say why the document is rejected."]}
    document.refresh_from_db()
    assert document.status == DocumentStatus.PENDING
    assert not DocumentVerification.objects.exists()
    assert not AuditEvent.objects.filter(action="document.rejected").exists()


def test_a_rejection_is_recorded_and_the_student_is_emailed_the_reason(enrol, upload, admin):
    enrollment = enrol(full_name="Thandi Mokoena")
    document = upload(enrollment, id_type())

    verification = document_review(
        document=document,
        reviewer=admin,
        approve=False,
        reason=" Only one side of the ID card is included. ",
    )

    assert verification.action == VerificationAction.REJECTED
    assert verification.reason == "Only one side of the ID card is included."
    document.refresh_from_db()
    enrollment.refresh_from_db()
    assert document.status == DocumentStatus.REJECTED
    assert document.rejection_reason == "Only one side of the ID card is included."
    assert enrollment.document_verification_state == VerificationState.REJECTED
    assert enrollment.rejection_reason == "Only one side of the ID card is included."
    event = AuditEvent.objects.get(
        action="document.rejected", entity_id=str(document.pk), actor=admin
    )
    assert event.new_values == {"status": "rejected", "reason": CHANGED}

    email = OutboundEmail.objects.get(template="document_rejected")
    assert email.recipient == enrollment.user.email
    assert email.context["reason"] == "Only one side of the ID card is included."
    assert email.context["url"].endswith(f"/my/{enrollment.pk}/#document-{id_type().pk}")
    message = email_render(email)
    assert message.subject == (
        f"Your South African ID or passport for {enrollment.cohort.name} was not accepted"
    )
    assert "Why: Only one side of the ID card is included." in message.body
    assert "Hello Thandi Mokoena" in message.body
    html = message.alternatives[0][0]
    assert "Only one side of the ID card is included." in html
    assert "Upload a new version" in html


def test_the_enrolment_stays_rejected_while_any_document_is_rejected(enrol, upload, admin):
    enrollment = enrol()
    identity = upload(enrollment, id_type())
    matric = upload(enrollment, matric_type())

    document_review(document=identity, reviewer=admin, approve=False, reason="Blurry.")
    document_review(document=matric, reviewer=admin, approve=True)
    enrollment.refresh_from_db()
    assert enrollment.document_verification_state == VerificationState.REJECTED

    # The student sends a new version: it waits for review, and so does the enrolment.
    second = upload(enrollment, id_type(), name="sharp.pdf")
    enrollment.refresh_from_db()
    assert enrollment.document_verification_state == VerificationState.PENDING
    assert enrollment.rejection_reason == ""

    document_review(document=second, reviewer=admin, approve=True)
    enrollment.refresh_from_db()
    assert enrollment.document_verification_state == VerificationState.VERIFIED
    assert DocumentVerification.objects.filter(cohort_enrollment=enrollment).count() == 3


def test_the_enrolment_completes_with_details_agreement_and_every_document_verified(
    enrol, upload, admin
):
    enrollment = enrol()
    give_details(enrollment)
    enrollment_agreement_sign(enrollment=enrollment, actor=enrollment.user, signature="Sipho")
    identity = upload(enrollment, id_type())
    matric = upload(enrollment, matric_type())

    document_review(document=identity, reviewer=admin, approve=True)
    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.IN_PROGRESS

    verification = document_review(document=matric, reviewer=admin, approve=True)
    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.COMPLETE
    assert enrollment.document_verification_state == VerificationState.VERIFIED
    assert verification.metadata["enrollment_state"] == EnrollmentState.COMPLETE
    assert OutboundEmail.objects.filter(
        template="enrollment_complete", recipient=enrollment.user.email
    ).exists()


def test_without_details_all_verified_documents_do_not_complete_the_enrolment(enrol, upload, admin):
    enrollment = enrol()
    enrollment_agreement_sign(enrollment=enrollment, actor=enrollment.user, signature="Sipho")
    for document_type in (id_type(), matric_type()):
        document_review(document=upload(enrollment, document_type), reviewer=admin, approve=True)
    enrollment.refresh_from_db()
    assert enrollment.document_verification_state == VerificationState.VERIFIED
    assert enrollment.state == EnrollmentState.IN_PROGRESS


def test_the_second_decision_on_a_document_is_told_who_decided_first(
    enrol, upload, admin, verifier_for
):
    enrollment = enrol()
    verifier = verifier_for(enrollment.cohort, full_name="Vusi Verifier")
    document = upload(enrollment, id_type())
    # Both reviewers opened the page while the document waited.
    seen_by_admin, seen_by_verifier = (
        type(document).objects.get(pk=document.pk),
        type(document).objects.get(pk=document.pk),
    )

    document_review(document=seen_by_verifier, reviewer=verifier, approve=True)
    with pytest.raises(ValidationError) as refused:
        document_review(document=seen_by_admin, reviewer=admin, approve=False, reason="Blurry.")

    message = refused.value.messages[0]
    assert message.startswith("This document was already verified by Vusi Verifier on ")
    assert refused.value.code == "already_decided"
    document.refresh_from_db()
    assert document.status == DocumentStatus.VERIFIED
    assert document.rejection_reason == ""
    assert DocumentVerification.objects.filter(document=document).count() == 1
    assert not OutboundEmail.objects.filter(template="document_rejected").exists()


def test_a_replaced_version_cannot_be_decided(enrol, upload, admin):
    enrollment = enrol()
    first = upload(enrollment, id_type())
    upload(enrollment, id_type(), name="better.pdf")
    with pytest.raises(ValidationError, match="newer version"):
        document_review(document=first, reviewer=admin, approve=True)


def test_documents_of_a_withdrawn_student_or_a_cancelled_cohort_are_not_reviewed(
    enrol, upload, admin
):
    withdrawn = enrol()
    document = upload(withdrawn, id_type())
    enrollment_withdraw(enrollment=withdrawn, actor=admin, reason="Moved away")
    with pytest.raises(ValidationError, match="withdrawn"):
        document_review(document=document, reviewer=admin, approve=True)

    cancelled = enrol()
    document = upload(cancelled, id_type())
    cohort_cancel(cohort=cancelled.cohort, actor=admin, reason="No sponsor")
    with pytest.raises(ValidationError, match="cancelled"):
        document_review(document=document, reviewer=admin, approve=True)


def test_a_verifier_decides_only_in_cohorts_granted_to_them(
    enrol, upload, verifier_for, institution
):
    granted, other = enrol(), enrol()
    verifier = verifier_for(granted.cohort)
    document_review(document=upload(granted, id_type()), reviewer=verifier, approve=True)

    refused = upload(other, id_type())
    with pytest.raises(PermissionDenied):
        document_review(document=refused, reviewer=verifier, approve=True)
    refused.refresh_from_db()
    assert refused.status == DocumentStatus.PENDING
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="verification.document_review", actor=verifier
    ).exists()


@pytest.mark.parametrize(
    "roles", [[SystemRole.STUDENT], [SystemRole.AUDITOR], [SystemRole.TRAINER], []]
)
def test_people_without_a_reviewing_role_cannot_decide(enrol, upload, roles):
    enrollment = enrol()
    document = upload(enrollment, id_type())
    with pytest.raises(PermissionDenied):
        document_review(document=document, reviewer=UserFactory(roles=roles), approve=True)
    with pytest.raises(PermissionDenied):
        document_review(document=document, reviewer=enrollment.user, approve=True)
    assert not DocumentVerification.objects.exists()


def test_a_verifier_whose_role_was_taken_away_cannot_decide(
    enrol, upload, verifier_for, institution
):
    enrollment = enrol()
    verifier = verifier_for(enrollment.cohort)
    roles_replace(verifier, SystemRole.TRAINER)
    with pytest.raises(PermissionDenied):
        document_review(document=upload(enrollment, id_type()), reviewer=verifier, approve=True)


def test_bulk_approval_records_each_document_on_its_own(enrol, upload, admin):
    first, second = enrol(), enrol()
    documents = [
        upload(first, id_type()),
        upload(first, matric_type()),
        upload(second, id_type()),
    ]
    # Someone else rejected one of them meanwhile.
    document_review(document=documents[2], reviewer=admin, approve=False, reason="Dark.")

    result = documents_bulk_approve(documents=documents, reviewer=admin)

    assert [v.document_id for v in result.approved] == [documents[0].pk, documents[1].pk]
    assert len(result.refused) == 1
    assert result.refused[0][0] == documents[2]
    assert "already rejected" in result.refused[0][1]
    approvals = DocumentVerification.objects.filter(action=VerificationAction.APPROVED)
    assert approvals.count() == 2
    assert all(v.metadata["bulk"] for v in approvals)
    assert AuditEvent.objects.filter(action="document.approved").count() == 2
    first.refresh_from_db()
    assert first.document_verification_state == VerificationState.VERIFIED


def test_verifications_are_append_only(enrol, upload, admin):
    enrollment = enrol()
    verification = document_review(
        document=upload(enrollment, id_type()), reviewer=admin, approve=True
    )

    verification.reason = "changed"
    with pytest.raises(ValueError, match="cannot be changed"):
        verification.save()
    with pytest.raises(ValueError, match="cannot be deleted"):
        verification.delete()
    table = DocumentVerification._meta.db_table
    for statement in (
        f"UPDATE {table} SET reason = 'changed' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [verification.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        DocumentVerification.objects.filter(pk=verification.pk).update(reason="x")
    verification.refresh_from_db()
    assert verification.reason == ""


def test_erasing_an_anonymised_learners_decisions_is_the_one_change_let_through(
    enrol, upload, admin
):
    enrollment = enrol()
    rejected = document_review(
        document=upload(enrollment, id_type(), name="Mokoena ID.pdf"),
        reviewer=admin,
        approve=False,
        reason="Blurred",
    )
    approved = document_review(
        document=upload(enrollment, matric_type(), name="Mokoena matric.pdf"),
        reviewer=admin,
        approve=True,
    )
    table = DocumentVerification._meta.db_table
    for change in (
        "reason = '(erased)'",  # the document's name still in the metadata
        "reason = 'Something else', metadata = metadata - 'original_name'",
        "reason = '(erased)', metadata = metadata - 'original_name', action = 'approved'",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                f"UPDATE {table} SET {change} WHERE id = %s",  # noqa: S608 (fixed text)
                [rejected.pk],
            )

    assert learner_verifications_erase(learner=enrollment.learner) == 2

    rejected.refresh_from_db()
    approved.refresh_from_db()
    assert (rejected.action, rejected.reason) == (VerificationAction.REJECTED, ERASED)
    assert (approved.action, approved.reason) == (VerificationAction.APPROVED, "")
    for decision in (rejected, approved):
        assert "original_name" not in decision.metadata
        assert decision.metadata["sha256"]
        assert decision.admin == admin
    assert AuditEvent.objects.filter(
        action="document_verifications.personal_data_erased",
        entity_id=str(enrollment.learner.pk),
    ).exists()


def test_the_database_refuses_a_rejection_without_a_reason(enrol, upload, admin):
    enrollment = enrol()
    document = upload(enrollment, id_type())
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentVerification.objects.create(
            cohort_enrollment=enrollment,
            admin=admin,
            document=document,
            document_type=document.document_type,
            action=VerificationAction.REJECTED,
            reason=" \n ",
        )


def test_a_version_is_decided_once_even_behind_the_services_back(enrol, upload, admin):
    enrollment = enrol()
    document = upload(enrollment, id_type())
    document_review(document=document, reviewer=admin, approve=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentVerification.objects.create(
            cohort_enrollment=enrollment,
            admin=admin,
            document=document,
            document_type=document.document_type,
            action=VerificationAction.APPROVED,
        )


def test_another_cohort_asking_for_its_own_copy_is_not_affected(enrol, upload, admin):
    """Documents are the learner's: a decision counts in each enrolment of theirs that uses the
    document (tests/enrolments/test_returning_learner.py), not in one asking for a fresh copy."""
    first = enrol(email="twice@example.org")
    cohort = CohortFactory()
    cohort.fresh_document_types.set([id_type()])
    second = enrol(cohort=cohort, email="twice@example.org")
    document_review(
        document=upload(first, id_type()), reviewer=admin, approve=False, reason="Cut off."
    )
    second.refresh_from_db()
    assert second.document_verification_state == VerificationState.PENDING


def test_a_file_still_being_scanned_is_neither_queued_nor_decided(enrol, upload, admin):
    from enrolments.models import ScanStatus, StudentDocument
    from verification.selectors import review_queue

    document = upload(enrol(), matric_type())
    StudentDocument.objects.filter(pk=document.pk).update(scan_status=ScanStatus.SCANNING)
    document.refresh_from_db()

    assert document not in review_queue(user=admin)
    with pytest.raises(ValidationError, match="still being checked for viruses"):
        document_review(document=document, reviewer=admin, approve=True)
