"""Reviewers' decisions on students' documents. Each decision is one transaction: the
document's status, the enrolment's states (through enrolments.services.enrollment_refresh), the
DocumentVerification row and the audit event are written together or not at all."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Value, When
from django.db.models.expressions import RawSQL
from django.urls import reverse

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record, kept_out
from enrolments.models import CohortEnrollment, DocumentStatus, StudentDocument
from enrolments.services import enrollment_refresh, learner_enrollments_lock
from learners.models import Learner
from notifications.services import email_enqueue
from signing.services.retention import ERASED
from tenants.db import tenant_connection
from tenants.sites import institution_url
from tenants.zones import moment_text
from verification.models import DocumentVerification, VerificationAction
from verification.selectors import document_review_enrollment

REASON_REQUIRED = "Say why the document is rejected."
# What a closed cohort refuses (Cohort.closed_check).
CLOSED_TO_REVIEWS = "its documents can no longer be reviewed"
# Longer than this on one page is a review left open, not time spent on it.
MAX_SECONDS_SPENT = 24 * 60 * 60


def _already_decided(document: StudentDocument) -> ValidationError:
    """Tell the second of two reviewers who decided first, and when."""
    decision = (
        DocumentVerification.objects.filter(document=document).select_related("admin").first()
    )
    status = document.get_status_display().lower()
    if decision is None:
        return ValidationError(f"This document is already {status}.", code="already_decided")
    when = moment_text(decision.created_at, "j M Y \\a\\t H:i")
    return ValidationError(
        f"This document was already {status} by {decision.admin} on {when}.",
        code="already_decided",
    )


def _notify_rejected(enrollment: CohortEnrollment, document: StudentDocument) -> None:
    student = enrollment.user
    email_enqueue(
        recipient=student.email,
        template="document_rejected",
        context={
            "full_name": student.full_name,
            "cohort_name": enrollment.cohort.name,
            "document_type": document.document_type.name,
            "reason": document.rejection_reason,
            "url": institution_url(
                tenant_connection.tenant,
                reverse("enrolments:detail", args=[enrollment.pk])
                + f"#document-{document.document_type_id}",
            ),
        },
    )


def document_review(
    *,
    document: StudentDocument,
    reviewer: User,
    approve: bool,
    reason: str = "",
    seconds_spent: int | None = None,
    bulk: bool = False,
) -> DocumentVerification:
    """Approve the current version of a student's document, or reject it with a reason the
    student is e-mailed and sees in their portal. Admins may review every cohort, verifiers the
    cohorts granted to them. Refused (ValidationError) when the version is no longer waiting:
    a newer one was uploaded, or another reviewer decided it first. The verification state of
    each open enrolment of the learner follows (the document counts for those that use it
    again), and an enrolment completes when this was the last thing missing. The decision is
    made in an enrolment the document counts for in a cohort the reviewer may review
    (verification.selectors.document_review_enrollment): the one it was uploaded for, or, once
    that one is withdrawn or closed, or outside the reviewer's cohorts, another that uses it."""
    review_in = document_review_enrollment(user=reviewer, document=document)
    permission_check(
        actor=reviewer, allowed=review_in is not None, action="verification.document_review"
    )
    assert review_in is not None  # noqa: S101 (for the type checker: refused above)
    reason = "" if approve else reason.strip()
    if not approve and not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    if seconds_spent is not None and not 0 <= seconds_spent <= MAX_SECONDS_SPENT:
        seconds_spent = None
    with transaction.atomic(durable=True):
        # The learner's enrolments and the document's own with its cohort first, then the
        # document: the order uploads lock them in. The cohort's lock keeps it from closing
        # while the decision is written.
        enrollment, others = learner_enrollments_lock(review_in)
        document = (
            StudentDocument.objects.select_for_update(of=("self",))
            .select_related("document_type")
            .get(pk=document.pk)
        )
        enrollment.cohort.closed_check(CLOSED_TO_REVIEWS)
        if not enrollment.is_open:
            raise ValidationError(
                f"The enrolment is {enrollment.get_state_display().lower()}; "
                "its documents can no longer be reviewed."
            )
        if not document.is_current:
            raise ValidationError(
                "A newer version of this document has been uploaded.", code="replaced"
            )
        if document.status != DocumentStatus.PENDING:
            raise _already_decided(document)
        if not document.is_reviewable:
            raise ValidationError(
                "This file is still being checked for viruses; try again in a minute.",
                code="scanning",
            )

        document.status = DocumentStatus.VERIFIED if approve else DocumentStatus.REJECTED
        document.rejection_reason = reason
        document.save(update_fields=["status", "rejection_reason"])
        if not approve:
            enrollment.rejection_reason = reason
        # Every open enrolment of the learner that the document counts for follows.
        for refreshed in (enrollment, *others):
            enrollment_refresh(refreshed)
        verification = DocumentVerification.objects.create(
            cohort_enrollment=enrollment,
            admin=reviewer,
            document=document,
            document_type=document.document_type,
            action=VerificationAction.APPROVED if approve else VerificationAction.REJECTED,
            reason=reason,
            metadata={
                "sha256": document.sha256,
                "size": document.size,
                "content_type": document.content_type,
                "original_name": document.original_name,
                "uploaded_at": document.uploaded_at.isoformat(),
                "seconds_spent": seconds_spent,
                "bulk": bulk,
                "enrollment_state": enrollment.state,
                "document_verification_state": enrollment.document_verification_state,
            },
        )
        audit_record(
            actor=reviewer,
            action="document.approved" if approve else "document.rejected",
            entity=document,
            old_values={"status": DocumentStatus.PENDING},
            new_values={"status": document.status, "reason": kept_out(reason)},
        )
        if not approve:
            _notify_rejected(enrollment, document)
    return verification


@dataclass
class BulkApproval:
    approved: list[DocumentVerification] = field(default_factory=list)
    refused: list[tuple[StudentDocument, str]] = field(default_factory=list)


def documents_bulk_approve(*, documents: Iterable[StudentDocument], reviewer: User) -> BulkApproval:
    """Approve several documents from the queue, each in its own transaction with its own
    DocumentVerification row and audit event: one that another reviewer decided meanwhile is
    reported, and does not hold back the others."""
    result = BulkApproval()
    for document in documents:
        try:
            result.approved.append(
                document_review(document=document, reviewer=reviewer, approve=True, bulk=True)
            )
        except ValidationError as refusal:
            result.refused.append((document, " ".join(refusal.messages)))
    return result


def learner_verifications_erase(*, learner: Learner) -> int:
    """Erase what the decisions on `learner`'s documents hold about them when the learner is
    anonymised: a rejection's reason becomes ERASED and the document's name leaves the
    metadata; who decided what, and when, stays. The one change the database lets through to
    these append-only rows (migration 0004). Composed inside the data protection job's
    transaction (not durable); returns how many decisions were erased."""
    erased = DocumentVerification.objects.filter(cohort_enrollment__learner=learner).update(
        reason=Case(When(reason="", then=Value("")), default=Value(ERASED)),
        metadata=RawSQL("metadata - %s", ("original_name",)),
    )
    if erased:
        audit_record(
            action="document_verifications.personal_data_erased",
            entity=learner,
            new_values={"decisions": erased},
        )
    return erased
