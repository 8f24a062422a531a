"""Every write to a student's agreement: sending it (rendered and frozen, waiting in the
portal), opening it for signing, and what the signing flow calls back when the student signs
or declines. Scheduling the sending after an enrolment or a cohort's activation is
enrolments.services.enrollment_agreements_send_on_commit."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record, personal_values_masked
from cohorts.models import Cohort, CohortState
from cohorts.selectors import cohort_people_to_tell
from enrolments.models import CohortEnrollment
from enrolments.selectors import (
    AGREEMENT_SIGNER_ROLE,
    enrollment_agreement_values,
    enrollments_lacking_agreement,
)
from enrolments.services import (
    enrollment_lock,
    enrollment_open_check,
    enrollment_refresh,
    enrollment_start_if_waiting,
)
from notifications.services import email_enqueue
from signing.models import Submission, SubmissionStatus, Submitter
from signing.selectors import submissions_for_subject
from signing.services.submissions import (
    submission_create,
    submission_send,
    submissions_revoke_pending,
)
from tenants.db import tenant_connection
from tenants.sites import institution_url

logger = logging.getLogger(__name__)


def _agreement_check_permission(enrollment: CohortEnrollment, actor: User) -> None:
    permission_check(
        actor=actor,
        allowed=enrollment.user_id == actor.pk,
        action="enrolments.enrollment_agreement_sign",
    )


def _agreement_check_signable(enrollment: CohortEnrollment) -> None:
    enrollment_open_check(enrollment)
    if enrollment.agreement_signed_at:
        raise ValidationError("You have already signed this agreement.")
    cohort = enrollment.cohort
    if cohort.main_template_id is None or cohort.state == CohortState.DRAFT:
        raise ValidationError("The agreement for this cohort is not ready yet.")
    if cohort.state != CohortState.ACTIVE:
        raise ValidationError(f"This cohort is {cohort.get_state_display().lower()}.")


def enrollment_agreement_sign(
    *, enrollment: CohortEnrollment, actor: User, signature: str
) -> CohortEnrollment:
    """Record the student's signature on their agreement. Composable: the signing flow calls it
    inside the signature's transaction (`enrollment_agreement_signed`)."""
    signature = signature.strip()
    if not signature:
        raise ValidationError({"signature": "Type your full name to sign."})
    _agreement_check_permission(enrollment, actor)
    with transaction.atomic():
        enrollment = enrollment_lock(enrollment)
        _agreement_check_signable(enrollment)
        enrollment_start_if_waiting(enrollment)
        enrollment.agreement_signed_at = timezone.now()
        enrollment.agreement_signature = signature
        enrollment_refresh(enrollment)
        audit_record(
            actor=actor,
            action="enrollment.agreement_signed",
            entity=enrollment,
            new_values={"agreement_signature": signature},
        )
    return enrollment


def _agreement_pending(enrollment: CohortEnrollment, actor: User | None) -> Submission:
    """The student's pending agreement submission, made from the cohort's main agreement as the
    institution signed it (and frozen) if there is none, or if the one pending has other text.
    Call in a transaction on a locked enrolment (`enrollment_lock`): the lock is what keeps the
    task and the portal from both making one."""
    submission = submissions_for_subject(enrollment).filter(status=SubmissionStatus.PENDING).first()
    signed_text = enrollment.cohort.main_template_version
    if submission is not None and (
        signed_text is None or submission.template_version_id == signed_text.pk
    ):
        return submission
    template = enrollment.cohort.main_template
    if template is None:
        raise ValidationError("The agreement for this cohort is not ready yet.")
    if submission is not None:  # made from other text than the institution signed: replace it
        submissions_revoke_pending(
            subjects=[enrollment],
            actor=actor,
            reason="Replaced by the agreement as the institution signed it.",
        )
    student = enrollment.user
    return submission_create(
        template=template,
        version=enrollment.cohort.main_template_version,
        context=enrollment_agreement_values(enrollment),
        signers=[
            {
                "role": AGREEMENT_SIGNER_ROLE,
                "name": student.full_name or student.email,
                "email": student.email,
                "user": student,
            }
        ],
        on_complete="enrolments.agreement_signed",
        on_decline="enrolments.agreement_declined",
        subject=enrollment,
        actor=actor,
    )


def enrollment_agreement_start(*, enrollment: CohortEnrollment, actor: User) -> str:
    """Open the student's agreement for signing: the submission sent to them (made now if the
    agreement task has not run yet, or if they declined the last one and sign again), with a
    fresh link; returns the link. Signing it runs `enrollment_agreement_signed`."""
    _agreement_check_permission(enrollment, actor)
    with transaction.atomic(durable=True):
        enrollment = enrollment_lock(enrollment)
        _agreement_check_signable(enrollment)
        submission = _agreement_pending(enrollment, actor)
        return submission_send(submission=submission, notify=False, actor=actor)


def enrollment_agreement_send(*, enrollment: CohortEnrollment) -> Submission | None:
    """Render and freeze the student's agreement so that it waits for them in the portal. Only
    once: an enrolment that was ever sent one (even if declined or revoked), is closed or
    signed, or whose cohort is not active, gets nothing, so the task may run again and again.

    No e-mail and no signing link: the student already has the enrolment invitation (or
    notice) that leads to the portal, where they are signed in and the agreement step says
    "Sign your agreement", and reminders list it while it is unsigned. A link e-mailed as well
    would compete with the invitation and expire unused; the portal issues one when they
    sign."""
    with transaction.atomic(durable=True):
        enrollment = enrollment_lock(enrollment)
        cohort = enrollment.cohort
        if (
            not enrollment.is_open
            or enrollment.agreement_signed_at
            or cohort.state != CohortState.ACTIVE
            or cohort.main_template_id is None
            or submissions_for_subject(enrollment).exists()
        ):
            return None
        submission = _agreement_pending(enrollment, actor=None)
        audit_record(
            action="enrollment.agreement_sent",
            entity=enrollment,
            new_values={"submission": submission.pk},
        )
    return submission


def enrollment_agreements_send(*, cohort: Cohort, enrollment_ids: list[int] | None = None) -> int:
    """Send their agreement to each of the cohort's students who lack one (of `enrollment_ids`
    only, if given), each in a transaction of its own so that a crash keeps what was done;
    returns how many were sent. A student whose agreement cannot be filled in (a merge field
    with no value) is skipped and logged: the portal shows them the reason when they sign."""
    sent = 0
    for enrollment in enrollments_lacking_agreement(cohort=cohort, enrollment_ids=enrollment_ids):
        try:
            sent += enrollment_agreement_send(enrollment=enrollment) is not None
        except ValidationError as error:
            logger.warning(
                "Agreement for enrolment %s not sent: %s", enrollment.pk, "; ".join(error.messages)
            )
    return sent


def enrollment_agreement_signed(*, submission: Submission) -> None:
    """Completion callback of the student's agreement submission."""
    signer = submission.submitters.get(role=AGREEMENT_SIGNER_ROLE)
    if signer.user is None:  # the student's signer is always made from their account
        raise ValidationError("This agreement was not signed from the student's account.")
    enrollment_agreement_sign(
        enrollment=CohortEnrollment.objects.get(pk=submission.subject_id),
        actor=signer.user,
        signature=signer.signed_name,
    )


def enrollment_agreement_declined(*, submission: Submission, submitter: Submitter) -> None:
    """Decline callback (inside the decline's transaction). The submission has stopped; the
    portal shows the student their reason and lets them sign again (a new submission). The
    cohort's admins are told, since the enrolment cannot complete until the student signs."""
    enrollment = CohortEnrollment.objects.select_related("cohort__created_by", "user").get(
        pk=submission.subject_id
    )
    cohort = enrollment.cohort
    student = enrollment.user
    url = institution_url(
        tenant_connection.tenant, reverse("verification:enrollment", args=[enrollment.pk])
    )
    for recipient in cohort_people_to_tell(cohort):
        email_enqueue(
            recipient=recipient,
            template="student_agreement_declined",
            context={
                "student_name": student.full_name or student.email,
                "cohort_name": cohort.name,
                "title": submission.title,
                "reason": submitter.decline_reason,
                "url": url,
            },
        )
    # The reason is the student's own words: the trail records only that they gave one.
    old_values, new_values = personal_values_masked(
        Submitter, {}, {"submission": submission.pk, "decline_reason": submitter.decline_reason}
    )
    audit_record(
        action="enrollment.agreement_declined",
        entity=enrollment,
        old_values=old_values,
        new_values=new_values,
    )
