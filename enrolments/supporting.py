"""Every write to a student's supporting agreements: the further documents a cohort asks each
student to sign after the main agreement (a POPIA consent form, a code of conduct), chosen on
the cohort as `Cohort.supporting_templates`. Each is one `SupportingAgreement` per student and
template, signed by the student alone through the same signing flow as the main agreement.

They are sent when the main agreement is (enrolments.services.enrollment_agreements_send_on_commit
schedules both), may be signed only once the student has signed the main agreement, and the
enrolment completes only when every one is signed (enrolments.services.enrollment_refresh)."""

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from cohorts.models import Cohort, CohortState
from enrolments.agreements import agreement_declined_record, enrollment_agreement_values_split
from enrolments.models import CohortEnrollment, SupportingAgreement
from enrolments.selectors import (
    AGREEMENT_SIGNER_ROLE,
    enrollment_student_signed,
    enrollments_lacking_supporting,
    submission_lacks_id_now_given,
)
from enrolments.services import (
    AGREEMENT_BATCH,
    enrollment_lock,
    enrollment_open_check,
    enrollment_refresh,
    enrollment_start_if_waiting,
)
from signing.models import AgreementTemplate, Submission, SubmissionStatus, Submitter
from signing.selectors import submissions_for_subject
from signing.services.submissions import (
    submission_create,
    submission_send,
    submissions_revoke_pending,
)

logger = logging.getLogger(__name__)

CLOSED_TO_SIGNING = "its agreements can no longer be signed"
ON_COMPLETE = "enrolments.supporting_signed"
ON_DECLINE = "enrolments.supporting_declined"


def _supporting_check_permission(enrollment: CohortEnrollment, actor: User) -> None:
    permission_check(
        actor=actor,
        allowed=enrollment.user_id == actor.pk,
        action="enrolments.supporting_agreement_sign",
    )


def _supporting_check_signable(
    enrollment: CohortEnrollment, template: AgreementTemplate, agreement: SupportingAgreement | None
) -> None:
    """Refuse signing a supporting agreement that is not the student's to sign now: a closed
    cohort or enrolment, a cohort not running, a template the cohort does not ask for, a main
    agreement the student has not signed yet, or one already signed."""
    enrollment_open_check(enrollment, CLOSED_TO_SIGNING)
    cohort = enrollment.cohort
    if cohort.state != CohortState.ACTIVE:
        raise ValidationError("The agreements for this cohort are not ready yet.")
    if not cohort.supporting_templates.filter(pk=template.pk).exists():
        raise ValidationError("This cohort does not ask you to sign that agreement.")
    if not enrollment_student_signed(enrollment):
        raise ValidationError(f"Sign your agreement first: “{template.title}” comes after it.")
    if agreement is not None and agreement.signed_at:
        raise ValidationError(f"You have already signed “{template.title}”.")


def _supporting_pending(
    enrollment: CohortEnrollment,
    agreement: SupportingAgreement,
    actor: User | None,
) -> Submission:
    """The agreement's pending submission, made now (from the template's current text, filled
    with the student's values) if there is none: never sent, the last one declined, or the one
    waiting made before the student gave their ID number. Call in a transaction on a locked
    enrolment."""
    pending = submissions_for_subject(agreement).filter(status=SubmissionStatus.PENDING).first()
    if pending is not None and not submission_lacks_id_now_given(pending, enrollment):
        return pending
    if pending is not None:
        submissions_revoke_pending(
            subjects=[agreement], actor=actor, reason="Replaced by a copy with your details."
        )
    student = enrollment.user
    values, private = enrollment_agreement_values_split(enrollment)
    return submission_create(
        template=agreement.template,
        context=values,
        private_context=private,
        signers=[
            {
                "role": AGREEMENT_SIGNER_ROLE,
                "name": student.full_name or student.email,
                "email": student.email,
                "user": student,
            }
        ],
        on_complete=ON_COMPLETE,
        on_decline=ON_DECLINE,
        subject=agreement,
        actor=actor,
    )


def supporting_agreements_send(*, enrollment: CohortEnrollment) -> int:
    """Make the student's supporting agreements that do not exist yet, each with a submission
    waiting in the portal (no e-mail, no link: the portal issues one when they sign, as for the
    main agreement); returns how many were made. One transaction for the enrolment; an open
    enrolment of an active cohort only, and each template once, so the task may run again and
    again."""
    with transaction.atomic(durable=True):
        enrollment = enrollment_lock(enrollment)
        cohort = enrollment.cohort
        if not enrollment.is_open or cohort.state != CohortState.ACTIVE:
            return 0
        made = set(enrollment.supporting_agreements.values_list("template_id", flat=True))
        sent = 0
        for template in cohort.supporting_templates.exclude(pk__in=made).order_by("title", "pk"):
            agreement = SupportingAgreement.objects.create(enrollment=enrollment, template=template)
            submission = _supporting_pending(enrollment, agreement, actor=None)
            audit_record(
                action="enrollment.supporting_agreement_sent",
                entity=enrollment,
                new_values={"template": template.pk, "submission": submission.pk},
            )
            sent += 1
    return sent


def supporting_agreements_send_for_cohort(
    *, cohort: Cohort, enrollment_ids: list[int] | None = None
) -> int:
    """Send their supporting agreements to each of the cohort's open students who lack one (of
    `enrollment_ids` only, if given), one transaction per enrolment so that a crash keeps what
    was done; returns how many agreements were made. A student whose agreement cannot be
    filled in yet (a merge field with no value) is skipped and logged: the portal makes it when
    they sign."""
    sent = 0
    for enrollment in enrollments_lacking_supporting(cohort=cohort, enrollment_ids=enrollment_ids):
        try:
            sent += supporting_agreements_send(enrollment=enrollment)
        except ValidationError as error:
            logger.warning(
                "Supporting agreements for enrolment %s not sent: %s",
                enrollment.pk,
                "; ".join(error.messages),
            )
    return sent


def supporting_agreements_send_on_commit(
    *, cohort: Cohort, enrollment_ids: list[int] | None = None
) -> None:
    """After commit, queue the sending of the supporting agreements of a just-activated cohort's
    students (all, by default) or of students just enrolled in an active one. Does nothing for
    a cohort that is not active or asks for none."""
    from enrolments.tasks import supporting_agreements_send_task

    if cohort.state != CohortState.ACTIVE or not cohort.supporting_templates.exists():
        return
    if enrollment_ids is None:
        supporting_agreements_send_task.delay_on_commit(cohort.pk)
        return
    for start in range(0, len(enrollment_ids), AGREEMENT_BATCH):
        supporting_agreements_send_task.delay_on_commit(
            cohort.pk, enrollment_ids[start : start + AGREEMENT_BATCH]
        )


def supporting_agreement_start(
    *, enrollment: CohortEnrollment, template: AgreementTemplate, actor: User
) -> str:
    """Open one of the student's supporting agreements for signing: the submission sent to them
    (made now if the task has not run, or if they declined the last one and sign again), with
    a fresh link; returns the link. Signing it runs `supporting_agreement_signed`."""
    _supporting_check_permission(enrollment, actor)
    with transaction.atomic(durable=True):
        enrollment = enrollment_lock(enrollment)
        agreement = SupportingAgreement.objects.filter(
            enrollment=enrollment, template=template
        ).first()
        _supporting_check_signable(enrollment, template, agreement)
        if agreement is None:
            agreement = SupportingAgreement.objects.create(enrollment=enrollment, template=template)
        submission = _supporting_pending(enrollment, agreement, actor)
        return submission_send(submission=submission, notify=False, actor=actor)


def supporting_agreement_sign(
    *, agreement: SupportingAgreement, actor: User, signature: str
) -> SupportingAgreement:
    """Record the student's signature on a supporting agreement and complete the enrolment if
    that was the last thing missing. Composable: the signing flow calls it inside the
    signature's transaction (`supporting_agreement_signed`)."""
    signature = signature.strip()
    if not signature:
        raise ValidationError({"signature": "Type your full name to sign."})
    _supporting_check_permission(agreement.enrollment, actor)
    with transaction.atomic():
        enrollment = enrollment_lock(agreement.enrollment)
        agreement = SupportingAgreement.objects.select_for_update().get(pk=agreement.pk)
        _supporting_check_signable(enrollment, agreement.template, agreement)
        agreement.signed_at = timezone.now()
        agreement.signature = signature
        agreement.save(update_fields=["signed_at", "signature"])
        enrollment_start_if_waiting(enrollment)
        enrollment_refresh(enrollment)
        audit_record(
            actor=actor,
            action="enrollment.supporting_agreement_signed",
            entity=agreement,
            new_values={"enrollment": enrollment.pk, "template": agreement.template_id},
        )
    return agreement


def supporting_agreement_signed(*, submission: Submission) -> None:
    """Completion callback of a supporting agreement's submission."""
    signer = submission.submitters.get(role=AGREEMENT_SIGNER_ROLE)
    if signer.user is None:  # the student's signer is always made from their account
        raise ValidationError("This agreement was not signed from the student's account.")
    supporting_agreement_sign(
        agreement=SupportingAgreement.objects.select_related("enrollment", "template").get(
            pk=submission.subject_id
        ),
        actor=signer.user,
        signature=signer.signed_name,
    )


def supporting_agreement_declined(*, submission: Submission, submitter: Submitter) -> None:
    """Decline callback (inside the decline's transaction): the portal shows the student their
    reason and lets them sign again (a new submission); the cohort's admins are told, as for
    the main agreement, since the enrolment cannot complete until the student signs."""
    agreement = SupportingAgreement.objects.select_related(
        "enrollment__cohort__created_by", "enrollment__user"
    ).get(pk=submission.subject_id)
    agreement_declined_record(
        enrollment=agreement.enrollment,
        submission=submission,
        submitter=submitter,
        action="enrollment.supporting_agreement_declined",
        entity=agreement,
    )


def supporting_agreements_revoke_on_cohort_end(
    sender: type[Cohort], *, cohort: Cohort, actor: User | None, reason: str, **kwargs: Any
) -> None:
    """Receiver of cohorts.signals.cohort_agreements_ended: the supporting agreements still
    waiting for a student's signature no longer apply."""
    submissions_revoke_pending(
        subjects=SupportingAgreement.objects.filter(enrollment__cohort=cohort),
        actor=actor,
        reason=reason,
    )


def signing_return(submission: Submission, signed: bool) -> tuple[str, str]:
    """Where the student goes back to from the signing page (signing.callbacks): the portal,
    with a message that says what happened."""
    agreement = SupportingAgreement.objects.get(pk=submission.subject_id)
    if signed:
        path = reverse("enrolments:detail", args=[agreement.enrollment_id])
        return f"{path}#supporting-{agreement.template_id}", f"You signed “{submission.title}”."
    path = reverse("enrolments:supporting", args=[agreement.enrollment_id, agreement.template_id])
    return path, (
        f"You declined “{submission.title}”. The institution has been told; you can sign it "
        "here whenever you are ready."
    )
