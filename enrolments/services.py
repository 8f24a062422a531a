"""Every write to enrolments. The two state machines move only here: `state` with the student's
progress, `document_verification_state` with the review of their documents."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User, normalise_email
from accounts.permissions import COHORT_MANAGERS, permission_check
from accounts.selectors import manager_emails_to_tell
from accounts.services import invitation_issue
from audit.services import audit_record, personal_values_masked
from cohorts.models import Cohort, CohortState, DocumentType
from enrolments.models import (
    CohortEnrollment,
    DocumentStatus,
    EnrollmentState,
    StudentDocument,
    VerificationState,
)
from enrolments.selectors import (
    AGREEMENT_SIGNER_ROLE,
    enrollment_agreement_outcome,
    enrollment_agreement_values,
    enrollments_lacking_agreement,
)
from enrolments.uploads import enrollment_quota_check
from integrations.services import sync_enqueue_for
from notifications.services import email_enqueue
from signing.models import Submission, SubmissionStatus, Submitter
from signing.selectors import submissions_for_subject
from signing.services.submissions import (
    submission_create,
    submission_send,
    submissions_revoke_pending,
)
from tenants.services import directory_entry_add, institution_url

logger = logging.getLogger(__name__)

ENROLLING_STATES = (CohortState.DRAFT, CohortState.ACTIVE)
# Enrolments per agreement task: a big import's agreements are rendered by several workers.
AGREEMENT_BATCH = 200


def _lock(enrollment: CohortEnrollment) -> CohortEnrollment:
    return (
        CohortEnrollment.objects.select_for_update()
        .select_related("cohort", "user")
        .get(pk=enrollment.pk)
    )


def _check_open(enrollment: CohortEnrollment) -> None:
    if not enrollment.is_open:
        raise ValidationError(f"This enrolment is {enrollment.get_state_display().lower()}.")


def _notify_enrolled(enrollment: CohortEnrollment, invited_by: User | None) -> None:
    """A new student gets an invitation to set a password; someone who already has an account
    here is told where to sign in."""
    student = enrollment.user
    if not student.has_usable_password():
        invitation_issue(user=student, invited_by=invited_by)
        return
    email_enqueue(
        recipient=student.email,
        template="enrolled",
        context={
            "full_name": student.full_name,
            "cohort_name": enrollment.cohort.name,
            "url": institution_url(
                connection.tenant, reverse("enrolments:detail", args=[enrollment.pk])
            ),
        },
    )


def enrollment_invite(
    *, cohort: Cohort, actor: User, email: str, full_name: str, id_number: str = ""
) -> CohortEnrollment:
    """Enrol one student and invite them. An address that already has an account here is
    attached to it (the same person, one account)."""
    permission_check(actor=actor, roles=COHORT_MANAGERS, action="enrolments.enrollment_invite")
    with transaction.atomic(durable=True):
        return enrollment_invite_in_transaction(
            cohort=cohort, actor=actor, email=email, full_name=full_name, id_number=id_number
        )


def enrollment_invite_in_transaction(
    *, cohort: Cohort, actor: User, email: str, full_name: str, id_number: str = ""
) -> CohortEnrollment:
    """`enrollment_invite` inside the caller's transaction (composable: enrolling many
    students one by one, all or nothing)."""
    permission_check(actor=actor, roles=COHORT_MANAGERS, action="enrolments.enrollment_invite")
    email = normalise_email(email)
    cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
    if cohort.state not in ENROLLING_STATES:
        raise ValidationError(
            f"Students cannot join a {cohort.get_state_display().lower()} cohort."
        )
    student = User.objects.select_for_update().filter(email=email).first()
    if student is None:
        student = User(email=email, full_name=full_name.strip(), roles=[Role.STUDENT])
        student.set_unusable_password()
        student.full_clean()
        student.save()
        directory_entry_add(email=email, institution=connection.tenant)
    elif Role.STUDENT not in student.roles:
        student.roles = [*student.roles, Role.STUDENT]
        student.save(update_fields=["roles"])
    if CohortEnrollment.objects.filter(cohort=cohort, user=student).exists():
        raise ValidationError(f"{email} is already enrolled in this cohort.")
    enrollment = CohortEnrollment.objects.create(
        cohort=cohort, user=student, student_data={"id_number": id_number} if id_number else {}
    )
    _notify_enrolled(enrollment, invited_by=actor)
    audit_record(
        actor=actor,
        action="enrollment.invited",
        entity=enrollment,
        new_values={"cohort": cohort.pk, "student": student.pk},
    )
    sync_enqueue_for(enrollment)
    enrollment_agreements_send_on_commit(cohort=cohort, enrollment_ids=[enrollment.pk])
    return enrollment


def enrollment_invitation_resend(*, enrollment: CohortEnrollment, actor: User) -> None:
    permission_check(actor=actor, roles=COHORT_MANAGERS, action="enrolments.resend")
    with transaction.atomic(durable=True):
        enrollment = _lock(enrollment)
        if not enrollment.is_open:
            raise ValidationError("Invitations go only to students still working on their part.")
        _notify_enrolled(enrollment, invited_by=actor)
        audit_record(
            actor=actor,
            action="enrollment.invitation_resent",
            entity=enrollment,
        )


def _start_if_waiting(enrollment: CohortEnrollment) -> None:
    if enrollment.state == EnrollmentState.WAITING:
        enrollment.start()


def enrollment_refresh(enrollment: CohortEnrollment) -> CohortEnrollment:
    """Recompute the verification state from the current documents and complete the enrolment
    when everything is in. Call inside the transaction of the change, on a locked row."""
    required = set(enrollment.cohort.required_document_types.values_list("pk", flat=True))
    statuses = dict(
        enrollment.documents.filter(is_current=True, document_type_id__in=required).values_list(
            "document_type_id", "status"
        )
    )
    if DocumentStatus.REJECTED in statuses.values():
        target = VerificationState.REJECTED
    elif (
        required
        and len(statuses) == len(required)
        and set(statuses.values()) == {DocumentStatus.VERIFIED}
    ):
        target = VerificationState.VERIFIED
    else:
        target = VerificationState.PENDING
    if target != VerificationState.REJECTED:
        enrollment.rejection_reason = ""
    if enrollment.document_verification_state != target:
        {
            VerificationState.REJECTED: enrollment.mark_rejected,
            VerificationState.VERIFIED: enrollment.mark_verified,
            VerificationState.PENDING: enrollment.mark_pending,
        }[target]()
    if (
        enrollment.state == EnrollmentState.IN_PROGRESS
        and target == VerificationState.VERIFIED
        and enrollment.details_completed_at
        and enrollment.agreement_signed_at
    ):
        enrollment.finish()
        email_enqueue(
            recipient=enrollment.user.email,
            template="enrollment_complete",
            context={"full_name": enrollment.user.full_name, "cohort_name": enrollment.cohort.name},
        )
        audit_record(
            action="enrollment.completed",
            entity=enrollment,
        )
    enrollment.save()
    return enrollment


def enrollment_details_save(
    *, enrollment: CohortEnrollment, actor: User, student_data: dict
) -> CohortEnrollment:
    """Save the student's validated details (enrolments.forms.StudentDetailsForm)."""
    permission_check(
        actor=actor,
        allowed=enrollment.user_id == actor.pk,
        action="enrolments.enrollment_details_save",
    )
    with transaction.atomic(durable=True):
        enrollment = _lock(enrollment)
        _check_open(enrollment)
        _start_if_waiting(enrollment)
        enrollment.student_data = student_data
        enrollment.details_completed_at = timezone.now()
        enrollment_refresh(enrollment)
        # Which details were given, never their values (special personal information).
        audit_record(
            actor=actor,
            action="enrollment.details_saved",
            entity=enrollment,
            new_values={"fields": sorted(student_data), "student_data": student_data},
        )
    return enrollment


def _agreement_check_permission(enrollment: CohortEnrollment, actor: User) -> None:
    permission_check(
        actor=actor,
        allowed=enrollment.user_id == actor.pk,
        action="enrolments.enrollment_agreement_sign",
    )


def _agreement_check_signable(enrollment: CohortEnrollment) -> None:
    _check_open(enrollment)
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
        enrollment = _lock(enrollment)
        _agreement_check_signable(enrollment)
        _start_if_waiting(enrollment)
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
    Call in a transaction on a locked enrolment (`_lock`): the lock is what keeps the task and
    the portal from both making one."""
    submission = submissions_for_subject(enrollment).filter(status=SubmissionStatus.PENDING).first()
    signed_text = enrollment.cohort.main_template_version
    if submission is not None and (
        signed_text is None or submission.template_version_id == signed_text.pk
    ):
        return submission
    if submission is not None:  # made from other text than the institution signed: replace it
        submissions_revoke_pending(
            subjects=[enrollment], actor=actor,
            reason="Replaced by the agreement as the institution signed it.",
        )  # fmt: skip
    student = enrollment.user
    return submission_create(
        template=enrollment.cohort.main_template,
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
        enrollment = _lock(enrollment)
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
        enrollment = _lock(enrollment)
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


def enrollment_agreements_send_on_commit(
    *, cohort: Cohort, enrollment_ids: list[int] | None = None
) -> None:
    """After commit, queue the rendering of the agreements of a just-activated cohort's students
    (all, by default) or of students just enrolled in an active one: a PDF per student is too
    slow for the request. Does nothing for a cohort that is not active."""
    from enrolments.tasks import enrollment_agreements_send_task

    if cohort.state != CohortState.ACTIVE or cohort.main_template_id is None:
        return
    if enrollment_ids is None:
        enrollment_agreements_send_task.delay_on_commit(cohort.pk)
        return
    for start in range(0, len(enrollment_ids), AGREEMENT_BATCH):
        enrollment_agreements_send_task.delay_on_commit(
            cohort.pk, enrollment_ids[start : start + AGREEMENT_BATCH]
        )


def enrollment_agreement_signed(*, submission: Submission) -> None:
    """Completion callback of the student's agreement submission."""
    signer = submission.submitters.get(role=AGREEMENT_SIGNER_ROLE)
    enrollment_agreement_sign(
        enrollment=submission.subject(), actor=signer.user, signature=signer.signed_name
    )


def enrollment_agreement_declined(*, submission: Submission, submitter) -> None:
    """Decline callback (inside the decline's transaction). The submission has stopped; the
    portal shows the student their reason and lets them sign again (a new submission). The
    cohort's admins are told, since the enrolment cannot complete until the student signs."""
    enrollment = CohortEnrollment.objects.select_related("cohort__created_by", "user").get(
        pk=submission.subject_id
    )
    cohort = enrollment.cohort
    student = enrollment.user
    url = institution_url(
        connection.tenant, reverse("verification:enrollment", args=[enrollment.pk])
    )
    for recipient in manager_emails_to_tell(cohort.created_by):
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


def enrollment_document_add(
    *, enrollment: CohortEnrollment, actor: User, document: StudentDocument
) -> StudentDocument:
    """Store a checked upload as the current version of its document type; the previous
    version stays for the record. `document` is unsaved, with its file and metadata. If the
    change is refused or fails after the file was written, the file is removed again."""
    stored_name = ""
    permission_check(
        actor=actor,
        allowed=enrollment.user_id == actor.pk,
        action="enrolments.enrollment_document_add",
    )
    try:
        with transaction.atomic(durable=True):
            enrollment = _lock(enrollment)
            _check_open(enrollment)
            # Under the enrolment's lock: uploads sent at the same moment cannot each pass.
            enrollment_quota_check(enrollment=enrollment, size=document.size)
            if not enrollment.cohort.required_document_types.filter(
                pk=document.document_type_id
            ).exists():
                raise ValidationError("This cohort does not ask for that document.")
            current = enrollment.documents.filter(
                document_type_id=document.document_type_id, is_current=True
            ).first()
            if current and current.status == DocumentStatus.VERIFIED:
                raise ValidationError("This document is already verified.")
            enrollment.documents.filter(
                document_type_id=document.document_type_id, is_current=True
            ).update(is_current=False)
            document.enrollment = enrollment
            document.status = DocumentStatus.PENDING
            document.is_current = True
            # Write the file first, to know its stored name should the insert fail.
            document.file.save(document.original_name, document.file.file, save=False)
            stored_name = document.file.name
            document.save()
            _start_if_waiting(enrollment)
            enrollment_refresh(enrollment)
            audit_record(
                actor=actor,
                action="enrollment.document_uploaded",
                entity=document,
                new_values={
                    "enrollment": enrollment.pk,
                    "document_type": document.document_type_id,
                    "sha256": document.sha256,
                    "size": document.size,
                    "replaces": current.pk if current else None,
                },
            )
    except BaseException:
        # The row is rolled back; the file, written by the storage, is not.
        if stored_name:
            document.file.storage.delete(stored_name)
        raise
    return document


def enrollment_withdraw(
    *, enrollment: CohortEnrollment, actor: User, reason: str
) -> CohortEnrollment:
    permission_check(actor=actor, roles=COHORT_MANAGERS, action="enrolments.withdraw")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the student is withdrawn."})
    with transaction.atomic(durable=True):
        enrollment = _lock(enrollment)
        if not enrollment.is_open:
            raise ValidationError(
                f"Cannot withdraw: the enrolment is {enrollment.get_state_display().lower()}."
            )
        old_state = enrollment.state
        enrollment.withdraw()
        enrollment.withdrawn_at = timezone.now()
        enrollment.withdrawal_reason = reason
        enrollment.save()
        audit_record(
            actor=actor,
            action="enrollment.withdrawn",
            entity=enrollment,
            old_values={"state": old_state},
            new_values={"state": EnrollmentState.WITHDRAWN, "withdrawal_reason": reason},
        )
        submissions_revoke_pending(
            subjects=[enrollment], actor=actor, reason="The student was withdrawn."
        )
        sync_enqueue_for(enrollment)
    return enrollment


def student_document_decide(
    *, document: StudentDocument, actor: User, approve: bool, reason: str = ""
) -> StudentDocument:
    """An admin's decision on the current version of a student's document; the review itself
    (DocumentVerification row, enrolment states, audit, e-mail) is
    verification.services.document_review, which verifiers granted a cohort use too."""
    from verification.services import document_review

    permission_check(
        actor=actor, roles=COHORT_MANAGERS, action="enrolments.student_document_decide"
    )
    return document_review(
        document=document, reviewer=actor, approve=approve, reason=reason
    ).document


# --- Progress: what a student still has to do ------------------------------------------------


class StepStatus:
    TODO = "todo"
    PENDING = "pending"
    DONE = "done"
    REJECTED = "rejected"
    DECLINED = "declined"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class EnrollmentStep:
    """One thing a student does for an enrolment: their details, one required document, or
    the agreement, with its status and (for documents) the versions uploaded so far."""

    kind: str  # "details", "document" or "agreement"
    title: str
    status: str
    document_type: DocumentType | None = None
    document: StudentDocument | None = None
    earlier_documents: tuple[StudentDocument, ...] = ()
    decline_reason: str = ""

    @property
    def is_outstanding(self) -> bool:
        """The student has to act (a step waiting for review or not ready is not theirs)."""
        return self.status in (StepStatus.TODO, StepStatus.REJECTED, StepStatus.DECLINED)


def enrollment_steps(enrollment: CohortEnrollment) -> list[EnrollmentStep]:
    """The steps in the order a student does them. Uses the prefetched
    `cohort.required_document_types` and `documents`, and the agreement's outcome
    (enrolments.selectors.with_agreement_outcome), when the caller loaded them (the portal
    does, so that its query count does not grow with the number of documents or enrolments).
    A declined agreement is a step to do again: the enrolment completes only once signed."""
    steps = [
        EnrollmentStep(
            kind="details",
            title="Your details",
            status=StepStatus.DONE if enrollment.details_completed_at else StepStatus.TODO,
        )
    ]
    versions: dict[int, list[StudentDocument]] = {}
    for document in sorted(
        enrollment.documents.all(), key=lambda doc: (doc.uploaded_at, doc.pk), reverse=True
    ):
        versions.setdefault(document.document_type_id, []).append(document)
    for document_type in enrollment.cohort.required_document_types.all():
        uploaded = versions.get(document_type.pk, [])
        current = next((doc for doc in uploaded if doc.is_current), None)
        status = {
            None: StepStatus.TODO,
            DocumentStatus.PENDING: StepStatus.PENDING,
            DocumentStatus.VERIFIED: StepStatus.DONE,
            DocumentStatus.REJECTED: StepStatus.REJECTED,
        }[current.status if current else None]
        steps.append(
            EnrollmentStep(
                kind="document",
                title=document_type.name,
                status=status,
                document_type=document_type,
                document=current,
                earlier_documents=tuple(doc for doc in uploaded if doc is not current),
            )
        )
    decline_reason = ""
    if enrollment.agreement_signed_at:
        agreement_status = StepStatus.DONE
    elif enrollment.cohort.main_template_id is None or enrollment.cohort.state == CohortState.DRAFT:
        agreement_status = StepStatus.UNAVAILABLE
    else:
        outcome = enrollment_agreement_outcome(enrollment)
        agreement_status = StepStatus.DECLINED if outcome.is_declined else StepStatus.TODO
        decline_reason = outcome.decline_reason
    steps.append(
        EnrollmentStep(
            kind="agreement",
            title="Your agreement",
            status=agreement_status,
            decline_reason=decline_reason,
        )
    )
    return steps


# --- Reminders --------------------------------------------------------------------------------

REMINDER_EVERY_DAYS = 3
REMINDER_MAX = 5


@dataclass(frozen=True)
class ReminderCadence:
    every: timedelta
    max_reminders: int


def reminder_cadence(institution_settings: dict[str, Any]) -> ReminderCadence:
    """The institution's reminder cadence (Institution.settings `reminder_every_days`,
    `reminder_max`), falling back to the defaults for missing or nonsensical values.
    `reminder_max` 0 turns reminders off."""

    def whole_number(key: str, default: int, minimum: int) -> int:
        value = institution_settings.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | str):
            return default
        try:
            number = int(value)
        except ValueError:
            return default
        return number if number >= minimum else default

    return ReminderCadence(
        every=timedelta(days=whole_number("reminder_every_days", REMINDER_EVERY_DAYS, 1)),
        max_reminders=whole_number("reminder_max", REMINDER_MAX, 0),
    )


def _reminder_line(step: EnrollmentStep) -> str:
    if step.status == StepStatus.REJECTED:
        return f"{step.title}: not accepted, upload a new version"
    if step.status == StepStatus.DECLINED:
        return f"{step.title}: you declined it; sign it when you are ready"
    if step.kind == "document":
        return f"{step.title}: upload it"
    return step.title


def enrollment_remind(
    *, enrollment: CohortEnrollment, cadence: ReminderCadence, now: datetime | None = None
) -> bool:
    """Remind a student of what they still have to do, if a reminder is due: the enrolment is
    open, the student has something outstanding, fewer than `cadence.max_reminders` were sent,
    and the last one (or the invitation) is at least `cadence.every` old. Safe to call twice:
    returns False when nothing was due. A student who has not set a password yet gets a fresh
    invitation instead, since the reminder's link would be no use to them."""
    now = now or timezone.now()
    with transaction.atomic(durable=True):
        enrollment = _lock(enrollment)
        last = enrollment.last_reminded_at or enrollment.invited_at
        if (
            not enrollment.is_open
            or not enrollment.user.is_active
            or enrollment.reminders_sent >= cadence.max_reminders
            or now - last < cadence.every
        ):
            return False
        outstanding = [step for step in enrollment_steps(enrollment) if step.is_outstanding]
        if not outstanding:
            return False
        student = enrollment.user
        if student.has_usable_password():
            email_enqueue(
                recipient=student.email,
                template="reminder",
                context={
                    "full_name": student.full_name,
                    "cohort_name": enrollment.cohort.name,
                    "outstanding": [_reminder_line(step) for step in outstanding],
                    "url": institution_url(
                        connection.tenant, reverse("enrolments:detail", args=[enrollment.pk])
                    ),
                },
            )
        else:
            invitation_issue(user=student, invited_by=None)
        enrollment.reminders_sent += 1
        enrollment.last_reminded_at = now
        enrollment.save(update_fields=["reminders_sent", "last_reminded_at", "updated_at"])
        audit_record(
            action="enrollment.reminded",
            entity=enrollment,
            new_values={"reminders_sent": enrollment.reminders_sent},
        )
    return True


# --- Antivirus verdicts (enrolments.scanning) ------------------------------------------------

QUARANTINE_REASON = "This file contains a virus and was removed from review."


def student_document_scan_record(
    *, document: StudentDocument, verdict: str, signature: str = "", detail: str = ""
) -> StudentDocument:
    """Record the virus scanner's verdict on an upload waiting for one: `clean`, `infected`
    (with the virus's `signature`) or `error` (with a `detail` for the trail). An infected
    file is quarantined: the document is rejected with QUARANTINE_REASON, which the student
    sees, its stored file is deleted once this commits, and the student is e-mailed. A verdict
    on a document that is not waiting for one is ignored, so a repeated task changes nothing."""
    from django_tenants.utils import schema_context

    from enrolments.models import ScanStatus

    if verdict not in (ScanStatus.CLEAN, ScanStatus.INFECTED, ScanStatus.ERROR):
        raise ValueError(f"Not a scan verdict: {verdict!r}")
    with transaction.atomic(durable=True):
        enrollment = _lock(document.enrollment)
        document = (
            StudentDocument.objects.select_for_update(of=("self",))
            .select_related("document_type")
            .get(pk=document.pk)
        )
        if document.scan_status not in (ScanStatus.SCANNING, ScanStatus.ERROR):
            return document
        old_values = {"scan_status": document.scan_status, "status": document.status}
        new_values: dict[str, Any] = {"scan_status": verdict}
        document.scan_status = verdict
        fields = ["scan_status"]
        if verdict == ScanStatus.INFECTED:
            stored_name, storage = document.file.name, document.file.storage
            document.status = DocumentStatus.REJECTED
            document.rejection_reason = QUARANTINE_REASON
            document.file = ""
            fields += ["status", "rejection_reason", "file"]
            new_values |= {
                "status": DocumentStatus.REJECTED,
                "signature": signature,
                "sha256": document.sha256,
                "removed_file": stored_name,
            }
            if stored_name:
                # Stored paths start with the schema's name: delete under this one, whichever
                # the connection is on when the transaction commits.
                schema_name = connection.schema_name

                def remove_quarantined_file() -> None:
                    with schema_context(schema_name):
                        storage.delete(stored_name)

                transaction.on_commit(remove_quarantined_file)
        elif verdict == ScanStatus.ERROR:
            new_values["error"] = detail[:500]
        document.save(update_fields=fields)
        if verdict == ScanStatus.INFECTED:
            if document.is_current and enrollment.is_open:
                enrollment.rejection_reason = QUARANTINE_REASON
                enrollment_refresh(enrollment)
            email_enqueue(
                recipient=enrollment.user.email,
                template="document_quarantined",
                context={
                    "full_name": enrollment.user.full_name,
                    "cohort_name": enrollment.cohort.name,
                    "document_name": document.document_type.name,
                    "original_name": document.original_name,
                    "url": institution_url(
                        connection.tenant, reverse("enrolments:detail", args=[enrollment.pk])
                    ),
                },
            )
        audit_record(
            action="document.quarantined" if verdict == ScanStatus.INFECTED else "document.scanned",
            entity=document,
            old_values=old_values,
            new_values=new_values,
        )
    return document
