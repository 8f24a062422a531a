"""Every write to cohorts: creation, edits, the admin's signature and each state transition."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import User
from accounts.permissions import permission_check
from audit.services import CHANGED, audit_record
from cohorts.models import Cohort, CohortState, DocumentType
from cohorts.selectors import (
    cohort_completion_blockers,
    cohort_merge_fields,
    responsible_admin_choices,
)
from cohorts.signals import cohort_activated, cohort_agreements_ended, cohort_completed
from integrations.services import sync_enqueue_for
from signing.models import AgreementTemplate, Submission, SubmissionStatus, TemplateVersion
from signing.selectors import submissions_for_subject
from signing.services.submissions import (
    submission_create,
    submission_revoke_in_transaction,
    submission_send,
    submissions_revoke_pending,
)

# While a cohort is running only these may change; everything else is fixed at activation.
ALWAYS_EDITABLE = frozenset({"start_date", "end_date", "student_count"})
SCALAR_FIELDS = (
    "name",
    "program_type",
    "student_count",
    "start_date",
    "end_date",
    "main_template",
)
RELATION_FIELDS = ("supporting_templates", "required_document_types", "fresh_document_types")
NOT_REQUIRED_FRESH = (
    "Only a required document can be asked for again: tick it among the required documents, "
    "or untick it here."
)
# Filled from the chosen sponsor's contact (sponsors.services), never typed.
SPONSOR_ONLY_FIELDS = frozenset({"sponsor", "sponsor_email"})


def _sponsor_fields_refuse(fields: dict[str, Any]) -> None:
    typed = SPONSOR_ONLY_FIELDS.intersection(fields)
    if typed:
        raise ValidationError(
            {
                name: "The cohort's sponsor, and the address its notices go to, come from the "
                "sponsor chosen on the cohort's page."
                for name in sorted(typed)
            }
        )


def _audit_value(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set) or hasattr(value, "model"):
        return sorted(item.pk for item in value)
    return value


def _fresh_documents_check(required: Iterable[DocumentType], fresh: Iterable[DocumentType]) -> None:
    """The documents a cohort asks for a fresh copy of are among those it requires."""
    if {document_type.pk for document_type in fresh} - {doc.pk for doc in required}:
        raise ValidationError({"fresh_document_types": NOT_REQUIRED_FRESH})


def _lock(cohort: Cohort) -> Cohort:
    """The cohort, locked for a change: refused once it is archived (read-only)."""
    locked: Cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
    locked.archived_check()
    return locked


def programme_settable(cohort: Cohort) -> bool:
    """A cohort picks its programme while a draft, or later while it has none yet (a cohort
    made before programmes existed) and is still running."""
    return cohort.is_editable or (cohort.programme_id is None and not cohort.is_closed)


def _programme_change_check(cohort: Cohort) -> None:
    """A cohort's runs deliver courses of its programme: it keeps the programme while it has
    runs that are not cancelled (through the reverse relation: cohorts does not import
    delivery)."""
    runs = cohort.runs.exclude(status="cancelled").order_by("course_ref")
    first = runs.values_list("course_ref", flat=True).first()
    if first is not None:
        raise ValidationError(
            {
                "programme": f"The programme cannot change while the cohort has course runs "
                f"({first}{' and others' if runs.count() > 1 else ''}): cancel them first."
            },
            code="programme_has_runs",
        )


def cohort_create(*, actor: User, **fields: Any) -> Cohort:
    """Create a draft cohort from the fields of `CohortForm`. Its sponsor is chosen afterwards
    (sponsors.services.cohort_sponsor_set), which also sets where the sponsor's notices go."""
    permission_check(
        actor=actor, permission="cohorts.manage_cohorts", action="cohorts.cohort_create"
    )
    _sponsor_fields_refuse(fields)
    relations = {name: fields.pop(name, []) for name in RELATION_FIELDS}
    _fresh_documents_check(relations["required_document_types"], relations["fresh_document_types"])
    with transaction.atomic(durable=True):
        cohort: Cohort = Cohort(created_by=actor, **fields)
        cohort.full_clean(exclude=["state"])  # protected FSM field: clean_fields would set it
        cohort.save()
        for name, values in relations.items():
            getattr(cohort, name).set(values)
        cohort.responsible_admins.set([actor])
        audit_record(
            actor=actor,
            action="cohort.created",
            entity=cohort,
            new_values={
                name: _audit_value(value) for name, value in {**fields, **relations}.items()
            },
        )
        sync_enqueue_for(cohort)
    return cohort


def cohort_update(*, cohort: Cohort, actor: User, changes: dict[str, Any]) -> Cohort:
    """Change a cohort. A draft may change anything (a new main agreement must be signed
    again); after that only its dates and the expected number of students."""
    permission_check(
        actor=actor, permission="cohorts.manage_cohorts", action="cohorts.cohort_update"
    )
    _sponsor_fields_refuse(changes)
    with transaction.atomic(durable=True):
        cohort = _lock(cohort)
        old_values, new_values = {}, {}
        for name, value in changes.items():
            current = getattr(cohort, name)
            current_value = current.all() if name in RELATION_FIELDS else current
            if _audit_value(current_value) == _audit_value(value):
                continue
            if (
                not cohort.is_editable
                and name not in ALWAYS_EDITABLE
                and not (name == "programme" and programme_settable(cohort))
            ):
                raise ValidationError(
                    {
                        name: f"Only dates and the expected number of students can change once a "
                        f"cohort is {cohort.get_state_display().lower()}."
                    }
                )
            if name == "programme":
                _programme_change_check(cohort)
            old_values[name], new_values[name] = _audit_value(current_value), _audit_value(value)
            if name not in RELATION_FIELDS:
                setattr(cohort, name, value)
        if "main_template" in new_values and cohort.admin_signed_at is not None:
            # What the admin signed is no longer the cohort's agreement: sign the new one.
            old_values["admin_signed_at"] = _audit_value(cohort.admin_signed_at)
            new_values["admin_signed_at"] = None
            cohort.admin_signed_at = cohort.admin_signed_by = cohort.main_template_version = None
        if "main_template" in new_values:
            # Nobody goes on signing the text the cohort no longer has (the sponsor's link).
            _agreements_revoke(cohort, actor, reason="The cohort's agreement changed.")
        if {"required_document_types", "fresh_document_types"} & new_values.keys():
            _fresh_documents_check(
                changes.get("required_document_types", cohort.required_document_types.all()),
                changes.get("fresh_document_types", cohort.fresh_document_types.all()),
            )
        cohort.full_clean(exclude=["state"])  # protected FSM field: clean_fields would set it
        cohort.save()
        for name in RELATION_FIELDS:
            if name in new_values:
                getattr(cohort, name).set(changes[name])
        if new_values:
            audit_record(
                actor=actor,
                action="cohort.updated",
                entity=cohort,
                old_values=old_values,
                new_values=new_values,
            )
        sync_enqueue_for(cohort)
    return cohort


def _main_agreement_check_signable(cohort: Cohort) -> AgreementTemplate:
    """The cohort's main agreement, if an admin may sign it now."""
    if cohort.state != CohortState.DRAFT:
        raise ValidationError("The main agreement is signed before the cohort is activated.")
    if cohort.main_template is None:
        raise ValidationError("Choose the main agreement template before signing it.")
    if cohort.admin_signed_at is not None:
        raise ValidationError("The main agreement has already been signed.")
    return cohort.main_template


def cohort_record_admin_signature(
    *, cohort: Cohort, actor: User, signature: str, version: TemplateVersion | None = None
) -> Cohort:
    """Record that an admin signed `version` of the cohort's main agreement (its current
    version if not given). It is what activation waits for, and the version is the text
    students and the sponsor then sign. Composable: the signing flow calls it inside the
    signature's transaction (`cohort_main_agreement_signed`). The typed `signature` stays on
    the signed agreement; the trail records only that there is one."""
    if not signature.strip():
        raise ValidationError("The admin's signature is missing.")
    permission_check(
        actor=actor,
        permission="cohorts.manage_cohorts",
        action="cohorts.cohort_record_admin_signature",
    )
    with transaction.atomic():
        cohort = _lock(cohort)
        template = _main_agreement_check_signable(cohort)
        if version is None:
            version = template.versions.get(number=template.version)
        if version.template_id != cohort.main_template_id:
            raise ValidationError("That agreement is no longer the cohort's main agreement.")
        cohort.admin_signed_at = timezone.now()
        cohort.admin_signed_by = actor
        cohort.main_template_version = version
        cohort.save(
            update_fields=[
                "admin_signed_at",
                "admin_signed_by",
                "main_template_version",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="cohort.main_agreement_signed",
            entity=cohort,
            new_values={
                "template": cohort.main_template_id,
                "template_version": version.number,
                "signature": CHANGED,
            },
        )
    return cohort


def cohort_main_agreement_start(*, cohort: Cohort, actor: User) -> str:
    """Send the cohort's main agreement to `actor` to sign for the institution; returns the
    signing link. The agreement `actor` already has open for the template's current version is
    reused; one left open by another admin, or from older text, is revoked, so a cohort never
    has two main agreements waiting. Signing it runs `cohort_main_agreement_signed`."""
    permission_check(
        actor=actor,
        permission="cohorts.manage_cohorts",
        action="cohorts.cohort_record_admin_signature",
    )
    with transaction.atomic(durable=True):
        cohort = (
            Cohort.objects.select_for_update(of=("self",))
            .select_related("main_template")
            .get(pk=cohort.pk)
        )
        template = _main_agreement_check_signable(cohort)
        open_agreements = (
            submissions_for_subject(cohort)
            .filter(status=SubmissionStatus.PENDING, submitters__role="institution_admin")
            .select_related("template_version")
        )
        for submission in open_agreements:
            signer = submission.submitters.all()[0]
            version = submission.template_version
            current = (version.template_id, version.number) == (template.pk, template.version)
            if signer.user_id == actor.pk and current:
                return submission_send(submission=submission, notify=False, actor=actor)
            submission_revoke_in_transaction(
                submission=submission,
                actor=actor,
                reason="Replaced by a newer main agreement for this cohort.",
            )
        submission = submission_create(
            template=template,
            context=cohort_merge_fields(cohort, admin=actor),
            signers=[
                {
                    "role": "institution_admin",
                    "name": actor.full_name or actor.email,
                    "email": actor.email,
                    "user": actor,
                }
            ],
            on_complete="cohorts.main_agreement_signed",
            subject=cohort,
            actor=actor,
        )
        return submission_send(submission=submission, notify=False, actor=actor)


def cohort_main_agreement_signed(*, submission: Submission) -> None:
    """Completion callback of the main agreement's submission (inside the last signature's
    transaction)."""
    signer = submission.submitters.get(role="institution_admin")
    if signer.user is None:  # the institution's signer is always made from an admin's account
        raise ValidationError("This agreement was not signed by an admin of the institution.")
    cohort_record_admin_signature(
        cohort=Cohort.objects.get(pk=submission.subject_id),
        actor=signer.user,
        signature=signer.signed_name,
        version=submission.template_version,
    )


def cohort_activate(*, cohort: Cohort, actor: User) -> Cohort:
    """Open the cohort; the apps built on it act in the same transaction (cohorts.signals):
    after commit, a task sends each enrolled student their agreement and the sponsor is told."""
    permission_check(
        actor=actor, permission="cohorts.manage_cohorts", action="cohorts.cohort_activate"
    )
    with transaction.atomic(durable=True):
        cohort = _lock(cohort)
        if cohort.state != CohortState.DRAFT:
            raise ValidationError(f"Cannot activate: the cohort is {cohort.get_state_display()}.")
        blockers = cohort.activation_blockers()
        if blockers:
            raise ValidationError(f"Cannot activate: {'; '.join(blockers)}.")
        cohort.activate()
        cohort.save()
        audit_record(
            actor=actor,
            action="cohort.activated",
            entity=cohort,
            old_values={"state": CohortState.DRAFT},
            new_values={"state": CohortState.ACTIVE},
        )
        sync_enqueue_for(cohort)
        cohort_activated.send(sender=Cohort, cohort=cohort, actor=actor)
    return cohort


def cohort_complete(*, cohort: Cohort, actor: User, force_reason: str = "") -> Cohort:
    """Complete a running cohort once every enrolment is complete and verified; an admin may
    force it with a reason, which is audited."""
    permission_check(
        actor=actor, permission="cohorts.manage_cohorts", action="cohorts.cohort_complete"
    )
    force_reason = force_reason.strip()
    with transaction.atomic(durable=True):
        cohort = _lock(cohort)
        if cohort.state != CohortState.ACTIVE:
            raise ValidationError(f"Cannot complete: the cohort is {cohort.get_state_display()}.")
        blockers = cohort_completion_blockers(cohort)
        if blockers and not force_reason:
            raise ValidationError(
                f"Cannot complete: {'; '.join(blockers)}. Give a reason to complete it anyway."
            )
        cohort.complete()
        cohort.forced_completion_reason = force_reason if blockers else ""
        cohort.save()
        audit_record(
            actor=actor,
            action="cohort.completed_forcibly" if blockers else "cohort.completed",
            entity=cohort,
            old_values={"state": CohortState.ACTIVE},
            new_values={
                "state": CohortState.COMPLETED,
                **({"reason": force_reason, "blockers": blockers} if blockers else {}),
            },
        )
        _agreements_revoke(cohort, actor, reason="The cohort was completed.")
        cohort_completed.send(sender=Cohort, cohort=cohort, actor=actor)
    return cohort


def cohort_cancel(*, cohort: Cohort, actor: User, reason: str) -> Cohort:
    permission_check(
        actor=actor, permission="cohorts.manage_cohorts", action="cohorts.cohort_cancel"
    )
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the cohort is cancelled."})
    with transaction.atomic(durable=True):
        cohort = _lock(cohort)
        old_state = cohort.state
        try:
            cohort.cancel()
        except TransitionNotAllowed as error:
            raise ValidationError(
                f"Cannot cancel: the cohort is {cohort.get_state_display()}."
            ) from error
        cohort.cancellation_reason = reason
        cohort.save()
        audit_record(
            actor=actor,
            action="cohort.cancelled",
            entity=cohort,
            old_values={"state": old_state},
            new_values={"state": CohortState.CANCELLED, "reason": reason},
        )
        _agreements_revoke(cohort, actor, reason="The cohort was cancelled.")
        sync_enqueue_for(cohort)
    return cohort


def _agreements_revoke(cohort: Cohort, actor: User, *, reason: str) -> None:
    """Revoke the agreements about the cohort (its main and sponsor agreements, and through
    cohorts.signals its students') still waiting for a signature, once they no longer apply
    (the cohort ended, or its agreement changed): their links stop working and nobody is
    reminded to sign them."""
    submissions_revoke_pending(subjects=[cohort], actor=actor, reason=reason)
    cohort_agreements_ended.send(sender=Cohort, cohort=cohort, actor=actor, reason=reason)


def cohort_reviewer_set(*, cohort: Cohort, actor: User, reviewer: User, allowed: bool) -> None:
    """Let a verifier review this cohort's students and documents (or stop them)."""
    permission_check(
        actor=actor, permission="cohorts.manage_cohorts", action="cohorts.cohort_reviewer_set"
    )
    cohort.archived_check()
    if not reviewer.may("verification.review_documents"):
        raise ValidationError(
            f"{reviewer} is not a verifier: none of their roles may review documents."
        )
    with transaction.atomic(durable=True):
        (assign_perm if allowed else remove_perm)("cohorts.review_cohort", reviewer, cohort)
        audit_record(
            actor=actor,
            action="cohort.reviewer_granted" if allowed else "cohort.reviewer_revoked",
            entity=cohort,
            new_values={"reviewer": reviewer.pk},
        )


NO_RESPONSIBLE_ADMIN = (
    "Choose at least one responsible admin: someone must be told of declines and decisions "
    "in this cohort."
)


def cohort_responsible_admins_set(*, cohort: Cohort, actor: User, admins: list[User]) -> Cohort:
    """Make `admins` the cohort's responsible admins (told of its declines and decisions, its
    work first on their start pages). Refuses an empty list and anyone who may not manage
    this cohort, so that the news always reaches someone who can act on it."""
    permission_check(
        actor=actor,
        permission="cohorts.manage_cohorts",
        action="cohorts.cohort_responsible_admins_set",
        obj=cohort,
    )
    chosen = {admin.pk: admin for admin in admins}
    if not chosen:
        raise ValidationError({"admins": NO_RESPONSIBLE_ADMIN}, code="required")
    eligible = set(
        responsible_admin_choices(cohort=cohort).filter(pk__in=chosen).values_list("pk", flat=True)
    )
    refused = sorted(str(admin) for pk, admin in chosen.items() if pk not in eligible)
    if refused:
        raise ValidationError(
            {
                "admins": f"{', '.join(refused)} may not manage this cohort: only people whose "
                "roles may manage cohorts, and who work in this one, can be responsible for it."
            },
            code="not_an_admin",
        )
    with transaction.atomic(durable=True):
        cohort = _lock(cohort)
        before = sorted(cohort.responsible_admins.values_list("pk", flat=True))
        after = sorted(chosen)
        if before != after:
            cohort.responsible_admins.set(after)
            audit_record(
                actor=actor,
                action="cohort.responsible_admins_set",
                entity=cohort,
                old_values={"responsible_admins": before},
                new_values={"responsible_admins": after},
            )
    return cohort


def document_type_save(*, actor: User, document_type: DocumentType) -> DocumentType:
    """Create or change an entry of the institution's document catalogue."""
    permission_check(
        actor=actor, permission="cohorts.manage_cohorts", action="cohorts.document_type_save"
    )
    with transaction.atomic(durable=True):
        created = document_type.pk is None
        document_type.full_clean()
        document_type.save()
        audit_record(
            actor=actor,
            action="document_type.created" if created else "document_type.updated",
            entity=document_type,
            new_values={
                "name": document_type.name,
                "accepted_kinds": document_type.accepted_kinds,
                "max_size_mb": document_type.max_size_mb,
                "is_active": document_type.is_active,
            },
        )
    return document_type


def cohort_archive(*, cohort: Cohort) -> Cohort:
    """Archive a completed cohort under the retention rules: read-only from now on, out of the
    everyday lists, still counted in reports. Composed inside the data protection job's
    transaction (not durable); the job checks the permission and records the run."""
    cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
    if not cohort.can_archive():
        raise ValidationError(
            f"Only a completed cohort that is not archived yet can be archived; "
            f"“{cohort.name}” is {cohort.get_state_display().lower()}"
            f"{' and archived' if cohort.is_archived else ''}.",
            code="not_archivable",
        )
    cohort.archived_at = timezone.now()
    cohort.save(update_fields=["archived_at", "updated_at"])
    audit_record(
        action="cohort.archived", entity=cohort, new_values={"archived_at": cohort.archived_at}
    )
    return cohort
