"""Every write to a student's agreement: sending it (rendered and frozen, waiting in the
portal), opening it for signing, and what the signing flow calls back when the student signs
or declines. Scheduling the sending after an enrolment or a cohort's activation is
enrolments.services.enrollment_agreements_send_on_commit."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Model
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record, personal_values_masked
from cohorts.models import Cohort, CohortState
from cohorts.selectors import cohort_people_to_tell
from enrolments.models import AgreementCountersigning, CohortEnrollment, CountersigningStatus
from enrolments.selectors import (
    AGREEMENT_SIGNER_ROLE,
    NOT_GIVEN,
    PRIVATE_MERGE_FIELDS,
    agreements_awaiting_countersign,
    enrollment_agreement_values,
    enrollments_lacking_agreement,
    submission_lacks_id_now_given,
)
from enrolments.services import (
    enrollment_lock,
    enrollment_open_check,
    enrollment_refresh,
    enrollment_start_if_waiting,
)
from learners.services import national_id_produce
from notifications.services import email_enqueue
from signing.models import SignerRole, Submission, SubmissionStatus, Submitter, signer_party
from signing.selectors import submissions_for_subject
from signing.services.completion import submitter_sign_in_place
from signing.services.submissions import (
    submission_create,
    submission_send,
    submissions_revoke_pending,
)
from tenants.db import tenant_connection
from tenants.sites import institution_url

logger = logging.getLogger(__name__)

# The sponsor signs a cohort's learner agreements on one page (sponsors.views), reached by the
# link the cohort page e-mails them, rather than by one e-mail per agreement.
SPONSOR_NOTIFIED_PER_AGREEMENT = False


def enrollment_agreement_values_split(
    enrollment: CohortEnrollment,
) -> tuple[dict[str, str], dict[str, str]]:
    """The student's merge values, split into those stored with a submission and those that
    go into its PDF only (`submission_create(private_context=...)`): the learner's ID number,
    decrypted for it (audited). A private value not given yet reads NOT_GIVEN."""
    values = enrollment_agreement_values(enrollment)
    for name in PRIVATE_MERGE_FIELDS:
        values.pop(name, None)
    number = national_id_produce(
        learner=enrollment.learner, actor=None, purpose="agreement document"
    )
    private = {"student.id_number": number} if number else {}
    values |= {name: NOT_GIVEN for name in PRIVATE_MERGE_FIELDS if name not in private}
    return values, private


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
    if (
        submission is not None
        and (signed_text is None or submission.template_version_id == signed_text.pk)
        and not submission_lacks_id_now_given(submission, enrollment)
    ):
        return submission
    template = enrollment.cohort.main_template
    if template is None:
        raise ValidationError("The agreement for this cohort is not ready yet.")
    if submission is not None:  # other text than the institution signed, or no ID: replace it
        submissions_revoke_pending(
            subjects=[enrollment],
            actor=actor,
            reason="Replaced by the agreement as the institution signed it, with the "
            "student's details.",
        )
    version = enrollment.cohort.main_template_version or template.versions.get(
        number=template.version
    )
    # Not given yet, the ID number reads NOT_GIVEN, and the copy is made again once it is
    # (`submission_lacks_id_now_given`) if nobody signed it.
    values, private = enrollment_agreement_values_split(enrollment)
    return submission_create(
        template=template,
        version=version,
        context=values,
        private_context=private,
        signers=_agreement_signers(enrollment, version.signer_roles),
        on_complete="enrolments.agreement_signed",
        on_decline="enrolments.agreement_declined",
        subject=enrollment,
        actor=actor,
    )


def _agreement_signers(enrollment: CohortEnrollment, roles: list[str]) -> list[dict[str, Any]]:
    """Every party the template names, each reached where they are: the student in the portal
    (a link issued when they press Sign), the sponsor's contact by e-mailed link, the
    institution's signatory (the admin who signed the cohort's main agreement) on the cohort
    page, never by e-mail. A cohort without a sponsor yet has no sponsor to sign."""
    cohort = enrollment.cohort
    student = enrollment.user
    signers: list[dict[str, Any]] = []
    if AGREEMENT_SIGNER_ROLE not in roles:
        raise ValidationError("The cohort's agreement has no student signer.")
    for role in roles:
        if role == SignerRole.STUDENT:
            signers.append(
                {
                    "role": role,
                    "name": student.full_name or student.email,
                    "email": student.email,
                    "user": student,
                }
            )
        elif role == SignerRole.SPONSOR and cohort.sponsor is not None:
            sponsor = cohort.sponsor
            signers.append(
                {
                    "role": role,
                    "name": sponsor.contact_name,
                    "email": sponsor.contact_email,
                    "user": sponsor.user,
                    "notify_turn": SPONSOR_NOTIFIED_PER_AGREEMENT,
                }
            )
        elif role == SignerRole.INSTITUTION_ADMIN:
            signatory = cohort.admin_signed_by or cohort.created_by
            if signatory is None:
                raise ValidationError("The cohort has no signatory for the institution.")
            signers.append(
                {
                    "role": role,
                    "name": signatory.full_name or signatory.email,
                    "email": signatory.email,
                    "user": signatory,
                    "notify_turn": False,
                }
            )
    return signers


def enrollment_agreement_start(*, enrollment: CohortEnrollment, actor: User) -> str:
    """Open the student's agreement for signing: the submission sent to them (made now if the
    agreement task has not run yet, or if they declined the last one and sign again), with a
    fresh link; returns the link. Signing it runs `enrollment_agreement_signed`."""
    _agreement_check_permission(enrollment, actor)
    with transaction.atomic(durable=True):
        enrollment = enrollment_lock(enrollment)
        _agreement_check_signable(enrollment)
        submission = _agreement_pending(enrollment, actor)
        student_signer = next(
            (s for s in submission.submitters.all() if s.role == AGREEMENT_SIGNER_ROLE), None
        )
        if student_signer is not None and student_signer.signed_at is not None:
            raise ValidationError(
                "You have signed this agreement; it is waiting for the other parties."
            )
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


def agreement_declined_record(
    *,
    enrollment: CohortEnrollment,
    submission: Submission,
    submitter: Submitter,
    action: str,
    entity: Model,
) -> None:
    """A party declined one of the student's agreements (the main one or a supporting one):
    e-mail the cohort's responsible admins who, why and who had signed before, and record
    `action` about `entity` in the trail."""
    cohort = enrollment.cohort
    student = enrollment.user
    url = institution_url(
        tenant_connection.tenant, reverse("verification:enrollment", args=[enrollment.pk])
    )
    signers = list(submission.submitters.order_by("order"))
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
                "party": submitter.role,
                "declined_by": f"{submitter.name} ({submitter.get_role_display().lower()})",
                "signed_by": ", ".join(
                    signer_party(signer.role) for signer in signers if signer.signed_at
                ),
                "not_signed_by": ", ".join(
                    signer_party(signer.role) for signer in signers if not signer.signed_at
                ),
            },
        )
    # The reason is the student's own words: the trail records only that they gave one.
    old_values, new_values = personal_values_masked(
        Submitter, {}, {"submission": submission.pk, "decline_reason": submitter.decline_reason}
    )
    audit_record(
        action=action,
        entity=entity,
        old_values=old_values,
        new_values=new_values,
    )


def enrollment_agreement_declined(*, submission: Submission, submitter: Submitter) -> None:
    """Decline callback (inside the decline's transaction). The submission has stopped; the
    portal shows the student their reason and lets them sign again (a new submission). The
    cohort's admins are told, since the enrolment cannot complete until the student signs."""
    enrollment = CohortEnrollment.objects.select_related("cohort__created_by", "user").get(
        pk=submission.subject_id
    )
    agreement_declined_record(
        enrollment=enrollment,
        submission=submission,
        submitter=submitter,
        action="enrollment.agreement_declined",
        entity=enrollment,
    )


def _countersign_check_permission(cohort: Cohort, actor: User) -> None:
    permission_check(
        actor=actor,
        permission="enrolments.countersign_agreements",
        obj=cohort,
        action="enrolments.agreements_countersign",
    )


def agreements_countersign_start(
    *,
    cohort: Cohort,
    actor: User,
    submission_ids: list[int],
    signed_name: str,
    password: str,
) -> AgreementCountersigning:
    """The institution's signatory signs the chosen learner agreements of the cohort, after
    re-entering their password: recorded here and done by a task (`agreements_countersign`),
    whose progress the countersign page shows. Only agreements of this cohort waiting for the
    institution may be chosen."""
    _countersign_check_permission(cohort, actor)
    errors: dict[str, str] = {}
    signed_name = (signed_name or "").strip()
    if not signed_name:
        errors["signed_name"] = "Type your full name: it is your signature on each agreement."
    if not actor.check_password(password or ""):
        errors["password"] = "That is not your password. Nothing was signed."
    if not submission_ids:
        errors["agreements"] = "Choose at least one agreement to sign."
    if errors:
        raise ValidationError(errors)
    waiting = {
        getattr(enrollment, "latest_agreement_id", None)
        for enrollment in agreements_awaiting_countersign(cohort=cohort)
    }
    chosen = sorted(set(submission_ids))
    if not waiting.issuperset(chosen):
        raise ValidationError(
            {"agreements": "Some of the chosen agreements no longer wait for your signature. "
             "The list below is up to date: choose again."}
        )  # fmt: skip
    from enrolments.tasks import agreements_countersign_task

    with transaction.atomic(durable=True):
        cohort.closed_check("nothing in it can be signed any more")
        run = AgreementCountersigning.objects.create(
            cohort=cohort, created_by=actor, submission_ids=chosen, signed_name=signed_name
        )
        audit_record(
            actor=actor,
            action="enrollment.agreements_countersign_started",
            entity=cohort,
            new_values={"countersigning": run.pk, "agreements": len(chosen)},
        )
        agreements_countersign_task.delay_on_commit(run.pk)
    return run


# How many agreements one task signs. A bulk countersigning is shared among the worker's
# processes in parts of this size, so that two processes sign 200 agreements in the time one
# signs 100; small enough that the parts spread evenly, large enough that a part's set-up
# (its queries, the seal's key) is paid rarely.
COUNTERSIGN_PART_SIZE = 10


def agreements_countersign(*, run: AgreementCountersigning) -> AgreementCountersigning:
    """Start the run: mark it running and hand its agreements, in parts, to tasks that the
    worker's processes share (`agreements_countersign_part`). Idempotent: a run already
    running or done is left alone, so a redelivered task hands nothing out twice."""
    from enrolments.tasks import agreements_countersign_part_task

    with transaction.atomic(durable=True):
        run = AgreementCountersigning.objects.select_for_update().get(pk=run.pk)
        if run.status != CountersigningStatus.QUEUED:
            return run
        run.status = CountersigningStatus.RUNNING
        run.save(update_fields=["status"])
        ids = sorted(run.submission_ids)
        for start in range(0, len(ids), COUNTERSIGN_PART_SIZE):
            part = ids[start : start + COUNTERSIGN_PART_SIZE]
            agreements_countersign_part_task.delay_on_commit(run.pk, part)
    return run


def agreements_countersign_part(
    *, run: AgreementCountersigning, submission_ids: list[int]
) -> AgreementCountersigning:
    """Sign these agreements of the run as the institution's signatory who started it, one
    transaction per document (each its own signature, trail entry and seal; a failure keeps
    the ones before), counting the progress as it goes; the part that signs the run's last
    agreement finishes the run. Idempotent: an agreement already signed for the institution
    is passed over, and one no longer waiting for it is skipped with the reason, so a
    redelivered task finishes its part without signing anything twice."""
    actor = run.created_by
    done = set(_countersigned_ids(run))
    submissions = Submission.objects.filter(pk__in=submission_ids).order_by("pk")
    for submission in submissions:
        if submission.pk in done:
            continue
        try:
            _countersign_check_permission(run.cohort, actor)
            submitter_sign_in_place(
                submission=submission,
                role=SignerRole.INSTITUTION_ADMIN,
                signed_name=run.signed_name,
                signature_text=run.signed_name,
                consent=True,
                user=actor,
            )
        except Exception as error:  # noqa: BLE001 (one document failing skips it, not the run)
            if isinstance(error, ValidationError):
                reason = " ".join(error.messages)
            elif isinstance(error, PermissionDenied):
                reason = "You may no longer sign for the institution."
            else:
                logger.exception("Countersigning submission %s failed", submission.pk)
                reason = "It could not be signed: nothing was changed. Try it again."
            with transaction.atomic(durable=True):
                locked = AgreementCountersigning.objects.select_for_update().get(pk=run.pk)
                locked.skipped = [*locked.skipped, {"submission": submission.pk, "reason": reason}]
                locked.save(update_fields=["skipped"])
        else:
            AgreementCountersigning.objects.filter(pk=run.pk).update(
                signed_count=F("signed_count") + 1
            )
    return _countersigning_finish_if_done(run)


def _countersigning_finish_if_done(run: AgreementCountersigning) -> AgreementCountersigning:
    """Mark the run done, with its trail entry, once every agreement in it is signed for the
    institution (by this run or another) or skipped: only the last part to end does, whichever
    process ran it, since each part looks only once its own signatures are committed."""
    with transaction.atomic(durable=True):
        run = AgreementCountersigning.objects.select_for_update().get(pk=run.pk)
        skipped = {entry["submission"] for entry in run.skipped}
        answered = skipped.union(_countersigned_ids(run))
        if run.status != CountersigningStatus.RUNNING or not answered.issuperset(
            run.submission_ids
        ):
            return run
        run.status = CountersigningStatus.DONE
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        audit_record(
            actor=run.created_by,
            action="enrollment.agreements_countersigned",
            entity=run.cohort,
            new_values={
                "countersigning": run.pk,
                "signed": run.signed_count,
                "skipped": len(run.skipped),
            },
        )
    return run


def _countersigned_ids(run: AgreementCountersigning) -> list[int]:
    """The run's agreements already signed for the institution (by this run or another)."""
    return list(
        Submitter.objects.filter(
            submission_id__in=run.submission_ids,
            role=SignerRole.INSTITUTION_ADMIN,
            signed_at__isnull=False,
        ).values_list("submission_id", flat=True)
    )
