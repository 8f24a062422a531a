"""Every write to an enrolment's own progress: enrolling and inviting students, their details
and documents, withdrawal, and `enrollment_refresh`, which moves both state machines (`state`
with the student's progress, `document_verification_state` with the review of their
documents). The other writes to enrolments are grouped by topic beside this module:
enrolments.agreements (the student's agreement), enrolments.reminders and enrolments.scanning
(virus verdicts); the review itself is verification.services."""

import re
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole, User, normalise_email
from accounts.permissions import permission_check
from accounts.selectors import user_for_email
from accounts.services import invitation_issue, system_role_give
from audit.services import CHANGED, audit_record
from cohorts.models import Cohort, CohortState
from enrolments.models import (
    CohortEnrollment,
    DocumentStatus,
    EnrollmentState,
    StudentDocument,
    SupportingAgreement,
    VerificationState,
)
from enrolments.selectors import (
    StepStatus,
    enrollment_document_steps,
    enrollment_supporting_all_signed,
)
from enrolments.signals import enrollment_started, enrollment_withdrawn
from enrolments.uploads import document_expiry_clean, enrollment_quota_check
from integrations.services import sync_enqueue_for, sync_enqueue_many
from learners.models import Learner
from learners.services import (
    VERIFIED_FACTS,
    learner_activate_if_candidate,
    learner_details_save,
    learner_for_user,
)
from notifications.services import email_enqueue
from signing.services.retention import ERASED, submissions_personal_data_erase
from signing.services.submissions import submissions_revoke_pending
from tenants.db import tenant_connection
from tenants.directory import directory_entry_add
from tenants.sites import institution_url
from tenants.storage import file_delete_on_commit

# What a closed cohort refuses (Cohort.closed_check), in the words each refusal ends with.
CLOSED_TO_JOINING = "students can no longer join it"
CLOSED_TO_INVITATIONS = "invitations to it can no longer be sent"
CLOSED_TO_WITHDRAWALS = "its students can no longer be withdrawn"
CLOSED_TO_DETAILS = "your details can no longer change"
CLOSED_TO_UPLOADS = "documents can no longer be uploaded"
# Document types that prove a person's identity (the catalogue's "South African ID or
# passport"), by name: the catalogue has no flag for it.
IDENTITY_DOCUMENT = re.compile(r"\b(id|identity|passport)\b", re.IGNORECASE)
# Enrolments per agreement task: a big import's agreements are rendered by several workers.
AGREEMENT_BATCH = 200


def learner_lock(learner_id: int) -> Learner:
    """The learner's row, locked for the caller's transaction. Locks are taken in one order
    everywhere, so that two changes take turns instead of waiting for each other: the learner's
    row first (learners.services locks it too, for their details or a merge), then their
    enrolments, then the enrolments' cohorts."""
    locked: Learner = Learner.objects.select_for_update().get(pk=learner_id)
    return locked


def cohorts_share_lock(cohort_ids: Iterable[int]) -> None:
    """Hold the cohorts as they are for the caller's transaction: a cohort closes under its
    own update lock, so it cannot close while a change of one of its enrolments is written.
    Shared, and in the order of their ids, so that changes of two learners in the same cohorts
    never wait for each other."""
    ids = sorted(set(cohort_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM cohorts_cohort WHERE id = ANY(%s) ORDER BY id FOR SHARE",
            [ids],
        )


def enrollment_lock(enrollment: CohortEnrollment) -> CohortEnrollment:
    """The enrolment again, locked for the caller's transaction after its learner
    (`learner_lock`), its cohort held (`cohorts_share_lock`), with its student and its learner.
    Every write to an enrolment takes this lock first, so writes to one enrolment take turns."""
    learner_id = enrollment.learner_id
    while True:
        learner_lock(learner_id)
        locked: CohortEnrollment = (
            CohortEnrollment.objects.select_for_update(of=("self",))
            .select_related("cohort", "user", "learner")
            .get(pk=enrollment.pk)
        )
        if locked.learner_id == learner_id:
            cohorts_share_lock([locked.cohort_id])
            return locked
        learner_id = locked.learner_id  # merged into another learner meanwhile: lock that one


def learner_open_enrollments_lock(learner: Learner) -> list[CohortEnrollment]:
    """The learner's enrolments that can still change, locked in the order of their ids, their
    cohorts held (`cohorts_share_lock`), once the caller has locked the learner
    (`learner_lock`)."""
    enrollments = list(
        CohortEnrollment.objects.select_for_update(of=("self",))
        .filter(learner_id=learner.pk)
        .select_related("cohort", "user", "learner")
        .order_by("pk")
    )
    cohorts_share_lock(enrollment.cohort_id for enrollment in enrollments)
    return [enrollment for enrollment in enrollments if enrollment.can_change]


def learner_enrollments_lock(
    enrollment: CohortEnrollment,
) -> tuple[CohortEnrollment, list[CohortEnrollment]]:
    """`enrollment` locked as `enrollment_lock` locks it, and the learner's other enrolments that
    can still change, locked too: a change to the learner's documents refreshes each of them
    (`enrollment_refresh`). The learner's lock, taken first, makes two such changes take turns."""
    locked = enrollment_lock(enrollment)
    return locked, [
        other for other in learner_open_enrollments_lock(locked.learner) if other.pk != locked.pk
    ]


def enrollment_open_check(
    enrollment: CohortEnrollment, consequence: str = "nothing in it can change any more"
) -> None:
    """Refuse a change to an enrolment whose cohort is closed (saying so, with `consequence`),
    or that is complete or withdrawn."""
    enrollment.cohort.closed_check(consequence)
    if not enrollment.is_open:
        raise ValidationError(f"This enrolment is {enrollment.get_state_display().lower()}.")


def enrollment_portal_url(enrollment: CohortEnrollment) -> str:
    """The student's page for this enrolment, as e-mails link to it."""
    return institution_url(
        tenant_connection.tenant, reverse("enrolments:detail", args=[enrollment.pk])
    )


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
            "url": enrollment_portal_url(enrollment),
        },
    )


def enrollment_invite(
    *, cohort: Cohort, actor: User, email: str, full_name: str, id_number: str = ""
) -> CohortEnrollment:
    """Enrol one student and invite them. An address that already has an account here is
    attached to it (the same person, one account)."""
    permission_check(
        actor=actor,
        permission="enrolments.manage_enrolments",
        action="enrolments.enrollment_invite",
    )
    with transaction.atomic(durable=True):
        return enrollment_invite_in_transaction(
            cohort=cohort, actor=actor, email=email, full_name=full_name, id_number=id_number
        )


def enrollment_invite_in_transaction(
    *, cohort: Cohort, actor: User, email: str, full_name: str, id_number: str = ""
) -> CohortEnrollment:
    """`enrollment_invite` inside the caller's transaction (composable: enrolling many
    students one by one, all or nothing); the caller has checked that `actor` may enrol."""
    email = normalise_email(email)
    cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
    cohort.closed_check(CLOSED_TO_JOINING)
    student = user_for_email(email, lock=True)
    if student is None:
        student = User(email=email, full_name=full_name.strip())
        student.set_unusable_password()
        student.full_clean()
        student.save()
        directory_entry_add(email=email, institution=tenant_connection.tenant)
    system_role_give(users=[student], key=SystemRole.STUDENT, granted_by=actor)
    if CohortEnrollment.objects.filter(cohort=cohort, user=student).exists():
        raise ValidationError(f"{email} is already enrolled in this cohort.")
    learner = learner_for_user(student, actor=actor, id_number=id_number)
    enrollment: CohortEnrollment = CohortEnrollment.objects.create(
        cohort=cohort, user=student, learner=learner
    )
    if learner.documents.filter(is_current=True).exists():
        # A returning learner's documents may count for this enrolment already.
        enrollment_refresh(enrollment)
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
    permission_check(
        actor=actor, permission="enrolments.manage_enrolments", action="enrolments.resend"
    )
    with transaction.atomic(durable=True):
        enrollment = enrollment_lock(enrollment)
        enrollment.cohort.closed_check(CLOSED_TO_INVITATIONS)
        if not enrollment.is_open:
            raise ValidationError("Invitations go only to students still working on their part.")
        _notify_enrolled(enrollment, invited_by=actor)
        audit_record(
            actor=actor,
            action="enrollment.invitation_resent",
            entity=enrollment,
        )


def enrollment_start_if_waiting(enrollment: CohortEnrollment) -> None:
    """A student's first step (details, a document, the signature) starts their enrolment,
    and makes a candidate an active learner. `enrollment_started` is sent inside the caller's
    transaction: the student is the one who started it."""
    if enrollment.state == EnrollmentState.WAITING:
        enrollment.start()
        learner_activate_if_candidate(enrollment.learner)
        enrollment_started.send(CohortEnrollment, enrollment=enrollment, actor=enrollment.user)


def enrollment_refresh(enrollment: CohortEnrollment) -> CohortEnrollment:
    """Recompute the verification state from the documents that count for the enrolment (the
    learner's, enrolments.selectors.enrollment_document_steps) and complete the enrolment when
    everything is in. Call inside the transaction of the change, on a locked row."""
    statuses = {step.status for step in enrollment_document_steps(enrollment)}
    if StepStatus.REJECTED in statuses:
        target = VerificationState.REJECTED
    elif statuses == {StepStatus.DONE}:
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
        and enrollment.learner.details_completed_at
        and enrollment.agreement_signed_at
        and enrollment_supporting_all_signed(enrollment)
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
    *, enrollment: CohortEnrollment, actor: User, details: dict[str, Any]
) -> CohortEnrollment:
    """Save the student's validated details (learners.forms.LearnerDetailsForm) on their
    learner record, from one of their enrolments: every enrolment of theirs shares them."""
    permission_check(
        actor=actor,
        allowed=enrollment.user_id == actor.pk,
        action="enrolments.enrollment_details_save",
    )
    with transaction.atomic(durable=True):
        enrollment = enrollment_lock(enrollment)
        enrollment_open_check(enrollment, CLOSED_TO_DETAILS)
        enrollment_start_if_waiting(enrollment)
        learner = enrollment.learner  # read under the learner's lock
        changed = learner_details_save(learner=learner, actor=actor, details=details)
        if VERIFIED_FACTS.intersection(changed):
            identity_documents_reopen(learner=learner, actor=actor, held=enrollment)
        enrollment_refresh(enrollment)
        # Which details changed, never their values (special personal information).
        audit_record(
            actor=actor,
            action="enrollment.details_saved",
            entity=enrollment,
            new_values={"fields": sorted(changed)},
        )
    return enrollment


def identity_documents_reopen(
    *, learner: Learner, actor: User | None, held: CohortEnrollment | None = None
) -> int:
    """The learner changed facts their verified identity document vouches for (their number,
    date of birth, gender): their current verified identity document, whichever enrolment it
    was uploaded for, no longer counts as verified, audited. One uploaded for an enrolment that
    can still change goes back to review. One uploaded for an enrolment that can no longer
    change (an earlier, completed cohort's) keeps its status, so that enrolment's history stays
    as it was, and stops being the learner's current one: their open enrolments ask for a new
    upload. Every open enrolment of the learner follows. In the caller's transaction, the
    learner locked first (`learner_lock`); `held`: an enrolment the caller has locked and
    refreshes itself. Returns how many documents went back."""
    documents = [
        document
        for document in StudentDocument.objects.select_related("document_type").filter(
            learner=learner, is_current=True, status=DocumentStatus.VERIFIED
        )
        if IDENTITY_DOCUMENT.search(document.document_type.name)
    ]
    if not documents:
        return 0
    enrollments = learner_open_enrollments_lock(learner)
    open_ids = {enrollment.pk for enrollment in enrollments}
    for document in documents:
        if document.enrollment_id in open_ids:
            document.status = DocumentStatus.PENDING
            document.save(update_fields=["status"])
            old_values: dict[str, Any] = {"status": DocumentStatus.VERIFIED}
            new_values: dict[str, Any] = {"status": DocumentStatus.PENDING}
        else:
            document.is_current = False
            document.save(update_fields=["is_current"])
            old_values, new_values = {"is_current": True}, {"is_current": False}
        audit_record(
            actor=actor,
            action="document.reopened",
            entity=document,
            old_values=old_values,
            new_values={**new_values, "reason": "verified facts changed"},
        )
    for enrollment in enrollments:
        if held is None or enrollment.pk != held.pk:
            enrollment_refresh(enrollment)
    return len(documents)


def enrollments_sync_for_learner(*, learner: Learner) -> None:
    """Queue the gateway jobs the learner's enrolments need now (one waited for their consent
    to sharing with the funding body), in the caller's transaction: a job that ended unsent
    goes again, the learner having changed."""
    sync_enqueue_many(
        CohortEnrollment.objects.filter(learner=learner)
        .select_related("user", "learner")
        .order_by("pk"),
        resend_unsent=True,
    )


def learner_enrollments_refresh(*, learner: Learner) -> None:
    """Recompute each of the learner's enrolments that can still change from the documents
    that count for it now (after a merge brought the other record's enrolments and documents),
    locked as learner_enrollments_lock locks them, in the caller's transaction."""
    first = CohortEnrollment.objects.filter(learner=learner).order_by("pk").first()
    if first is None:
        return
    locked, others = learner_enrollments_lock(first)
    for enrollment in [locked, *others]:
        if enrollment.can_change:
            enrollment_refresh(enrollment)


def enrollment_agreements_send_on_commit(
    *, cohort: Cohort, enrollment_ids: list[int] | None = None
) -> None:
    """After commit, queue the rendering of the agreements of a just-activated cohort's students
    (all, by default) or of students just enrolled in an active one: a PDF per student is too
    slow for the request. Does nothing for a cohort that is not active. The supporting
    agreements are scheduled alongside (enrolments.supporting)."""
    from enrolments.supporting import supporting_agreements_send_on_commit
    from enrolments.tasks import enrollment_agreements_send_task

    supporting_agreements_send_on_commit(cohort=cohort, enrollment_ids=enrollment_ids)
    if cohort.state != CohortState.ACTIVE or cohort.main_template_id is None:
        return
    if enrollment_ids is None:
        enrollment_agreements_send_task.delay_on_commit(cohort.pk)
        return
    for start in range(0, len(enrollment_ids), AGREEMENT_BATCH):
        enrollment_agreements_send_task.delay_on_commit(
            cohort.pk, enrollment_ids[start : start + AGREEMENT_BATCH]
        )


def enrollment_document_add(
    *, enrollment: CohortEnrollment, actor: User, document: StudentDocument
) -> StudentDocument:
    """Store a checked upload as the learner's current document of its type, uploaded for
    `enrollment`; the one it replaces (uploaded for this enrolment or another) stays for the
    record, and every open enrolment of the learner follows. Refused when a verified one counts
    for the enrolment already. `document` is unsaved, with its file, metadata and expiry date.
    If the change is refused or fails after the file was written, the file is removed again."""
    stored_name = ""
    permission_check(
        actor=actor,
        allowed=enrollment.user_id == actor.pk,
        action="enrolments.enrollment_document_add",
    )
    try:
        with transaction.atomic(durable=True):
            enrollment, others = learner_enrollments_lock(enrollment)
            enrollment_open_check(enrollment, CLOSED_TO_UPLOADS)
            # Under the enrolment's lock: uploads sent at the same moment cannot each pass.
            enrollment_quota_check(enrollment=enrollment, size=document.size)
            document_type = enrollment.cohort.required_document_types.filter(
                pk=document.document_type_id
            ).first()
            if document_type is None:
                raise ValidationError("This cohort does not ask for that document.")
            document.expires_on = document_expiry_clean(document_type, document.expires_on)
            step = next(
                step
                for step in enrollment_document_steps(enrollment)
                if step.document_type == document_type
            )
            if step.status == StepStatus.DONE:
                raise ValidationError("This document is already verified.")
            # The learner's current one of that type, whichever enrolment it was uploaded for.
            current = StudentDocument.objects.filter(
                learner_id=enrollment.learner_id, document_type=document_type, is_current=True
            ).first()
            if current is not None:
                current.is_current = False
                current.save(update_fields=["is_current"])
            document.learner = enrollment.learner
            document.enrollment = enrollment
            document.status = DocumentStatus.PENDING
            document.is_current = True
            # Write the file first, to know its stored name should the insert fail.
            document.file.save(document.original_name, document.file.file, save=False)
            stored_name = document.file.name or ""
            document.save()
            enrollment_start_if_waiting(enrollment)
            for refreshed in (enrollment, *others):
                enrollment_refresh(refreshed)
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
    permission_check(
        actor=actor, permission="enrolments.manage_enrolments", action="enrolments.withdraw"
    )
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the student is withdrawn."})
    with transaction.atomic(durable=True):
        enrollment = enrollment_lock(enrollment)
        enrollment.cohort.closed_check(CLOSED_TO_WITHDRAWALS)
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
            subjects=[enrollment, *enrollment.supporting_agreements.all()],
            actor=actor,
            reason="The student was withdrawn.",
        )
        enrollment_withdrawn.send(CohortEnrollment, enrollment=enrollment, actor=actor)
        sync_enqueue_for(enrollment)
    return enrollment


def enrolments_personal_data_erase(*, learner: Learner) -> list[CohortEnrollment]:
    """Erase what the learner's enrolments hold about them: uploaded documents (files deleted,
    the rows kept as a record that a document was reviewed), typed signatures, free-text
    reasons, and the agreements that are not sealed records (signing.services.retention).
    Returns the enrolments. Composed inside the data protection job's transaction (not
    durable), which checks the permission and records the run."""
    enrollments = list(CohortEnrollment.objects.filter(learner=learner).order_by("pk"))
    documents = StudentDocument.objects.filter(learner=learner)
    for document in documents.exclude(file=""):
        file_delete_on_commit(document.file.storage, document.file.name or "")
    documents.update(file="", original_name=ERASED, rejection_reason="")
    CohortEnrollment.objects.filter(learner=learner).update(
        agreement_signature="", withdrawal_reason="", rejection_reason=""
    )
    supporting = SupportingAgreement.objects.filter(enrollment__learner=learner)
    supporting.update(signature="")
    submissions_personal_data_erase(subjects=[*enrollments, *supporting])
    for enrollment in enrollments:
        audit_record(
            action="enrollment.personal_data_erased",
            entity=enrollment,
            new_values={"documents": CHANGED, "agreement_signature": CHANGED},
        )
    return enrollments
