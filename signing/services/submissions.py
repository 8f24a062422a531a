"""Submissions: one frozen filling of a template, sent to its signers in order, re-sent or
revoked. Other apps make and stop theirs inside their own transactions."""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from accounts.models import User
from accounts.permissions import permission_check
from signing import callbacks, documents
from signing.models import (
    AgreementTemplate,
    SigningLink,
    Submission,
    SubmissionStatus,
    Submitter,
    TemplateVersion,
)
from signing.selectors import next_submitter, standard_merge_values, subjects_q
from signing.services.links import link_issue
from signing.services.trail import submission_audit_record, submission_event_record, submission_lock
from tenants.db import tenant_connection
from tenants.storage import STORAGE_FAILED_MESSAGE, file_store


def submission_create(
    *,
    template: AgreementTemplate,
    context: dict[str, Any],
    signers: list[dict[str, Any]],
    on_complete: str = "",
    on_decline: str = "",
    subject: models.Model | None = None,
    actor: User | None = None,
    version: TemplateVersion | None = None,
    private_context: dict[str, Any] | None = None,
) -> Submission:
    """Fill `version` of the template (its current one if not given) with `context` (merge
    field name -> value), render and freeze the PDF, and create its signers. `private_context`
    holds values (a learner's ID number) that go into the PDF only: the stored HTML and merge
    values name them for what they stand for, so that the row never keeps them in clear.
    `signers` are dicts with role, name, email and optionally user and notify_turn (False: not
    e-mailed a link when their turn comes, reached elsewhere); their roles must be among the
    version's, and they sign in its order. `on_complete` and `on_decline` are names of callbacks
    registered in signing.callbacks (an unknown one is refused). A PDF the storage cannot keep
    is refused with tenants.storage.STORAGE_FAILED_MESSAGE, and logged. Nothing is e-mailed:
    call `submission_send` to send the first link. Composable: runs in the caller's
    transaction if there is one."""
    if version is None:
        version = template.versions.get(number=template.version)
    elif version.template_id != template.pk:
        raise ValidationError(f"That is not a version of {template.title}.")
    for name in filter(None, [on_complete, on_decline]):
        if not callbacks.is_registered(name):
            raise ValidationError(f"Unknown callback {name!r}.")
    by_role = {}
    for signer in signers:
        role = signer.get("role")
        if role not in version.signer_roles:
            raise ValidationError(f"{version.title} has no signer role {role!r}.")
        if role in by_role:
            raise ValidationError(f"Two signers for the role {role!r}.")
        if not (signer.get("name") or "").strip() or not (signer.get("email") or "").strip():
            raise ValidationError(f"The {role} signer needs a name and an e-mail address.")
        by_role[role] = signer
    if not by_role:
        raise ValidationError("A submission needs at least one signer.")
    institution = tenant_connection.tenant
    values = standard_merge_values() | context
    private = private_context or {}
    if private:
        placeholders = documents.placeholder_values()
        values |= {name: placeholders.get(name, f"[{name}]") for name in private}
    with transaction.atomic():
        body_html = documents.body_fill(version.body, values)
        html = documents.document_html(
            title=version.title, body_html=body_html, institution_name=institution.name
        )
        if private:
            pdf = documents.html_to_pdf(
                documents.document_html(
                    title=version.title,
                    body_html=documents.body_fill(version.body, values | private),
                    institution_name=institution.name,
                )
            )
        else:
            pdf = documents.html_to_pdf(html)
        submission = Submission(
            template_version=version,
            title=version.title,
            html=html,
            context={name: str(value) for name, value in values.items()},
            original_sha256=documents.sha256_hex(pdf),
            subject_type=subject._meta.label_lower if subject is not None else "",
            subject_id=str(subject.pk) if subject is not None else "",
            on_complete=on_complete,
            on_decline=on_decline,
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        file_store(
            submission.original_pdf,
            name="original.pdf",
            content=pdf,
            failure_message=STORAGE_FAILED_MESSAGE,
            described_as=f"the PDF of a new submission of template version {version.pk}",
        )
        submission.save()
        roles_in_order = [role for role in version.signer_roles if role in by_role]
        for order, role in enumerate(roles_in_order, 1):
            signer = by_role[role]
            Submitter.objects.create(
                submission=submission,
                role=role,
                order=order,
                name=signer["name"].strip(),
                email=signer["email"].strip().lower(),
                user=signer.get("user"),
                notify_turn=signer.get("notify_turn", True),
            )
        submission_event_record(submission, "created", template_version=version.number)
        submission_audit_record(
            "submission_created",
            submission,
            actor,
            title=submission.title,
            template_version=version.number,
            signers=roles_in_order,
            subject=f"{submission.subject_type}:{submission.subject_id}",
            original_sha256=submission.original_sha256,
        )
    return submission


def submission_send(
    *, submission: Submission, notify: bool = True, actor: User | None = None
) -> str:
    """Send the next signer a fresh link (by e-mail unless `notify` is False, e.g. when the
    signer is the admin who is already on the page); returns the link's URL. Composable: the
    services that make a submission send it in their own transaction."""
    with transaction.atomic():
        submission = submission_lock(submission)
        if submission.status != SubmissionStatus.PENDING:
            raise ValidationError(f"This agreement is {submission.get_status_display().lower()}.")
        submitter = next_submitter(submission)
        if submitter is None:
            raise ValidationError("Everyone has signed this agreement.")
        url = link_issue(submitter, notify=notify)
        submission_audit_record(
            "link_sent", submission, actor, submitter=submitter.pk, role=submitter.role
        )
    return url


def submission_resend(*, submission: Submission, actor: User) -> None:
    """An admin sends the signer whose turn it is a fresh link by e-mail (their old one stops
    working), e.g. when the first e-mail was lost."""
    permission_check(
        actor=actor, permission="signing.manage_templates", action="signing.submission_resend"
    )
    with transaction.atomic(durable=True):
        submission_send(submission=submission, notify=True, actor=actor)


def submission_revoke(*, submission: Submission, actor: User, reason: str = "") -> Submission:
    """Stop a submission: every link stops working."""
    permission_check(
        actor=actor, permission="signing.manage_templates", action="signing.submission_revoke"
    )
    with transaction.atomic(durable=True):
        return submission_revoke_in_transaction(submission=submission, actor=actor, reason=reason)


def submission_revoke_in_transaction(
    *, submission: Submission, actor: User, reason: str = ""
) -> Submission:
    """`submission_revoke` inside the caller's transaction (composable: a cohort or sponsor
    change revokes the agreement that no longer applies as part of itself); the caller has
    checked that `actor` may."""
    with transaction.atomic():
        submission = submission_lock(submission)
        if submission.status != SubmissionStatus.PENDING:
            raise ValidationError(f"This agreement is {submission.get_status_display().lower()}.")
        _revoke(submission, actor, reason)
    return submission


def _revoke(submission: Submission, actor: User | None, reason: str) -> None:
    """Revoke a locked, pending submission."""
    submission.status = SubmissionStatus.REVOKED
    submission.save(update_fields=["status"])
    SigningLink.objects.filter(submitter__submission=submission, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    submission_event_record(
        submission,
        "revoked",
        reason=reason,
        by=(actor.full_name or actor.email) if actor is not None else "",
    )
    submission_audit_record("submission_revoked", submission, actor, reason=reason)


def submissions_revoke_pending(
    *, subjects: Iterable[models.Model], actor: User | None, reason: str
) -> int:
    """Revoke every agreement still waiting for a signature about `subjects` (a cancelled
    cohort and its enrolments, a withdrawn student ...), so that nobody signs, or is reminded
    to sign, what no longer applies; returns how many. The caller has checked its own
    permission (withdrawing a student is the admin's decision, not a signing one) and runs
    this in its transaction."""
    pending = (
        Submission.objects.select_for_update()
        .filter(subjects_q(subjects), status=SubmissionStatus.PENDING)
        .order_by("pk")
    )
    revoked = 0
    for submission in pending:
        _revoke(submission, actor, reason)
        revoked += 1
    return revoked


def submitters_readdress(
    *, subjects: Iterable[models.Model], role: str, old_email: str, name: str, email: str
) -> int:
    """The `role` signer who has not answered yet on the agreements still waiting about
    `subjects`, and was to be reached at `old_email`, is now `name` at `email` (a sponsor's
    contact changed): their agreements wait for the new contact, earlier links stop working,
    and each submission's trail says so. Returns how many. The caller has checked its own
    permission and runs this in its transaction."""
    signers = list(
        Submitter.objects.select_for_update()
        .select_related("submission")
        .filter(
            submission__in=Submission.objects.filter(subjects_q(subjects)),
            submission__status=SubmissionStatus.PENDING,
            role=role,
            email__iexact=old_email,
            signed_at__isnull=True,
            declined_at__isnull=True,
        )
        .order_by("pk")
    )
    for signer in signers:
        signer.name, signer.email = name, email
        signer.save(update_fields=["name", "email"])
        submission_event_record(signer.submission, "readdressed", signer)
    SigningLink.objects.filter(submitter__in=signers, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    return len(signers)
