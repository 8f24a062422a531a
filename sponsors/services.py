"""Every write about sponsors: each permission-checked before its transaction opens, in one
(durable) transaction, audited."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.models import SystemRole, User
from accounts.permissions import permission_check
from audit.services import audit_record, personal_values_masked
from cohorts.models import Cohort, CohortState
from cohorts.selectors import cohort_merge_fields, cohort_people_to_tell
from enrolments.models import CohortEnrollment
from notifications.services import email_enqueue
from signing.models import SignerRole, Submission, SubmissionStatus, Submitter
from signing.services.submissions import (
    submission_create,
    submission_revoke_in_transaction,
    submission_send,
    submissions_revoke_pending,
    submitters_readdress,
)
from sponsors.models import Sponsor, SponsorAgreement
from sponsors.selectors import sponsor_submission
from tenants.db import tenant_connection
from tenants.sites import institution_url

FIELDS = ("company_name", "contact_name", "contact_email", "contact_phone", "tax_number")
SPONSOR_ROLE = "sponsor"


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = {name: (values.get(name) or "").strip() for name in FIELDS}
    cleaned["contact_email"] = cleaned["contact_email"].lower()
    errors = {
        name: "This field is required."
        for name in ("company_name", "contact_name", "contact_email")
        if not cleaned[name]
    }
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_account(user: User | None, current: User | None = None) -> None:
    """A new account for the contact must be an active sponsor contact; the one already set may
    stay, so that the sponsor can still be edited after that account changed."""
    if user is None or user == current:
        return
    if not (user.is_in_service and user.roles.filter(key=SystemRole.SPONSOR_CONTACT).exists()):
        raise ValidationError({"user": "Choose an active account with the sponsor contact role."})


def sponsor_create(*, actor: User, user: User | None = None, **values: Any) -> Sponsor:
    permission_check(actor=actor, permission="sponsors.manage_sponsors", action="sponsor.create")
    cleaned = _clean(values)
    _check_account(user)
    with transaction.atomic(durable=True):
        sponsor = Sponsor(**cleaned, user=user)
        sponsor.full_clean()
        sponsor.save()
        audit_record(
            actor=actor,
            action="sponsor.created",
            entity=sponsor,
            new_values=cleaned | {"user": user.pk if user is not None else None},
        )
    return sponsor


def sponsor_update(
    *, sponsor: Sponsor, actor: User, user: User | None = None, **values: Any
) -> Sponsor:
    """Save the sponsor's details. A new contact address revokes the agreements still waiting
    at the old one (whoever reads that mailbox may no longer speak for the company; the cohort
    page then offers to invite the sponsor at the new address), and the cohorts' notices go to
    the new one."""
    permission_check(actor=actor, permission="sponsors.manage_sponsors", action="sponsor.update")
    cleaned = _clean(values)
    _check_account(user, current=sponsor.user)
    with transaction.atomic(durable=True):
        sponsor = Sponsor.objects.select_for_update().get(pk=sponsor.pk)
        old = {name: getattr(sponsor, name) for name in FIELDS} | {"user": sponsor.user_id}
        for name, value in cleaned.items():
            setattr(sponsor, name, value)
        sponsor.user = user
        cleaned |= {"user": user.pk if user is not None else None}
        sponsor.full_clean()
        sponsor.save()
        revoked = []
        if sponsor.contact_email.lower() != old["contact_email"].lower():
            # The cohorts' notices follow the contact, unless a cohort chose another address.
            Cohort.objects.filter(
                sponsor=sponsor, sponsor_email__iexact=old["contact_email"]
            ).update(sponsor_email=sponsor.contact_email)
            revoked = [
                submission_revoke_in_transaction(
                    submission=submission, actor=actor, reason="The sponsor's address changed."
                ).pk
                for submission in Submission.objects.filter(
                    sponsor_agreement__sponsor=sponsor, status=SubmissionStatus.PENDING
                ).order_by("pk")
            ]
            # The learners' agreements the sponsor has yet to sign wait for the new contact.
            submitters_readdress(
                subjects=CohortEnrollment.objects.filter(cohort__sponsor=sponsor),
                role=SignerRole.SPONSOR,
                old_email=old["contact_email"],
                name=sponsor.contact_name,
                email=sponsor.contact_email,
            )
        audit_record(
            actor=actor,
            action="sponsor.updated",
            entity=sponsor,
            old_values={k: v for k, v in old.items() if v != cleaned[k]},
            new_values={
                **{k: v for k, v in cleaned.items() if v != old[k]},
                **({"revoked_submissions": revoked} if revoked else {}),
            },
        )
    return sponsor


def cohort_sponsor_set(*, cohort: Cohort, sponsor: Sponsor | None, actor: User) -> Cohort:
    """Choose (or clear) the cohort's sponsor while it is draft or active. A link still open for
    the previous sponsor is revoked: they must not sign for a cohort they no longer sponsor."""
    permission_check(
        actor=actor, permission="sponsors.manage_sponsors", action="cohort.sponsor_set"
    )
    with transaction.atomic(durable=True):
        cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
        if cohort.state not in (CohortState.DRAFT, CohortState.ACTIVE):
            raise ValidationError(f"This cohort is {cohort.get_state_display().lower()}.")
        old = cohort.sponsor_id
        revoked = None
        if old != (sponsor.pk if sponsor is not None else None):
            revoked = _open_invitation_revoke(cohort, actor, reason="The cohort's sponsor changed.")
            # The learners' agreements still waiting name the previous sponsor: each learner
            # signs a new one, made for the new sponsor, from the portal.
            submissions_revoke_pending(
                subjects=cohort.enrollments.all(),
                actor=actor,
                reason="The cohort's sponsor changed.",
            )
        cohort.sponsor = sponsor
        update = ["sponsor", "updated_at"]
        if sponsor is not None:
            cohort.sponsor_email = sponsor.contact_email
            update.append("sponsor_email")
        cohort.save(update_fields=update)
        audit_record(
            actor=actor,
            action="cohort.sponsor_set",
            entity=cohort,
            old_values={"sponsor": old},
            new_values={
                "sponsor": cohort.sponsor_id,
                **({"revoked_submission": revoked.pk} if revoked is not None else {}),
            },
        )
    return cohort


def sponsor_invite(*, cohort: Cohort, actor: User) -> Submission:
    """Send the cohort's sponsor the main agreement to sign by e-mailed link. If an
    invitation is still open, send it again instead (the old link stops working); if it went to
    an address the sponsor no longer has, revoke it and send a new agreement."""
    permission_check(actor=actor, permission="sponsors.manage_sponsors", action="sponsor.invite")
    with transaction.atomic(durable=True):
        cohort = (
            Cohort.objects.select_for_update(of=("self",))
            .select_related("sponsor", "main_template", "main_template_version")
            .get(pk=cohort.pk)
        )
        sponsor = cohort.sponsor
        if cohort.state not in (CohortState.DRAFT, CohortState.ACTIVE):
            raise ValidationError(f"This cohort is {cohort.get_state_display().lower()}.")
        if sponsor is None:
            raise ValidationError("Choose the cohort's sponsor first.")
        if cohort.main_template is None:
            raise ValidationError("Choose the cohort's main agreement first.")
        agreement = cohort.main_template_version
        if agreement is None:
            raise ValidationError(
                "Sign the main agreement first: the sponsor signs the text the institution signed."
            )
        if SPONSOR_ROLE not in agreement.signer_roles:
            raise ValidationError(f"{agreement.title} has no sponsor signer.")
        current = sponsor_submission(cohort)
        replaced = None
        if current is not None and current.status == SubmissionStatus.PENDING:
            submitter = next(s for s in current.submitters.all() if s.role == SPONSOR_ROLE)
            if (
                submitter.email == sponsor.contact_email.lower()
                and current.template_version_id == agreement.pk
            ):
                submission_send(submission=current, notify=True, actor=actor)
                audit_record(
                    actor=actor,
                    action="sponsor.invite_resent",
                    entity=cohort,
                    new_values={"submission": current.pk},
                )
                return current
            replaced = submission_revoke_in_transaction(
                submission=current,
                actor=actor,
                reason="The sponsor's address or the cohort's agreement changed.",
            )
        submission = submission_create(
            template=cohort.main_template,
            version=cohort.main_template_version,
            context=cohort_merge_fields(cohort),
            signers=[
                {"role": SPONSOR_ROLE, "name": sponsor.contact_name, "email": sponsor.contact_email}
            ],
            on_complete="sponsors.agreement_signed",
            on_decline="sponsors.agreement_declined",
            subject=cohort,
            actor=actor,
        )
        SponsorAgreement.objects.create(cohort=cohort, sponsor=sponsor, submission=submission)
        submission_send(submission=submission, notify=True, actor=actor)
        audit_record(
            actor=actor,
            action="sponsor.invited",
            entity=cohort,
            new_values={
                "sponsor": sponsor.pk,
                "submission": submission.pk,
                **({"revoked_submission": replaced.pk} if replaced is not None else {}),
            },
        )
    return submission


def _open_invitation_revoke(cohort: Cohort, actor: User, *, reason: str) -> Submission | None:
    """Revoke the cohort's sponsor agreement if it still waits for a signature; returns it."""
    current = sponsor_submission(cohort)
    if current is None or current.status != SubmissionStatus.PENDING:
        return None
    return submission_revoke_in_transaction(submission=current, actor=actor, reason=reason)


def sponsor_invite_revoke(*, cohort: Cohort, actor: User, reason: str = "") -> Submission:
    """Withdraw the sponsor's open link from the cohort page: it stops working at once, and the
    sponsor can be invited again later. `reason` is kept in the agreement's trail."""
    permission_check(
        actor=actor, permission="sponsors.manage_sponsors", action="sponsor.invite_revoke"
    )
    with transaction.atomic(durable=True):
        cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
        revoked = _open_invitation_revoke(
            cohort, actor, reason=reason or "Revoked from the cohort page."
        )
        if revoked is None:
            raise ValidationError("The sponsor has no open link to revoke.")
        audit_record(
            actor=actor,
            action="sponsor.invite_revoked",
            entity=cohort,
            new_values={"submission": revoked.pk},
        )
    return revoked


def _tell_admins(submission: Submission, *, outcome: str, reason: str = "") -> None:
    if submission.subject_type != Cohort._meta.label_lower:
        return
    cohort = Cohort.objects.select_related("sponsor").get(pk=submission.subject_id)
    url = institution_url(tenant_connection.tenant, reverse("cohorts:dashboard", args=[cohort.pk]))
    sponsor_name = cohort.sponsor.company_name if cohort.sponsor else "The sponsor"
    for recipient in cohort_people_to_tell(cohort):
        email_enqueue(
            recipient=recipient,
            template="sponsor_outcome",
            context={
                "cohort_name": cohort.name,
                "sponsor_name": sponsor_name,
                "outcome": outcome,
                "reason": reason,
                "cohort_url": url,
            },
        )
    # A decline reason is the sponsor contact's own words: recorded as given, not its text.
    old_values, new_values = personal_values_masked(
        Submitter,
        {},
        {"submission": submission.pk, **({"decline_reason": reason} if reason else {})},
    )
    audit_record(
        action=f"sponsor.agreement_{outcome}",
        entity=cohort,
        old_values=old_values,
        new_values=new_values,
    )


def sponsor_agreement_signed(*, submission: Submission) -> None:
    """Signing callback (inside the signature's transaction): tell the admins."""
    _tell_admins(submission, outcome="signed")


def sponsor_agreement_declined(*, submission: Submission, submitter: Submitter) -> None:
    """Signing callback (inside the decline's transaction): tell the admins why."""
    _tell_admins(submission, outcome="declined", reason=submitter.decline_reason)


def _sponsor_cohort_notify(*, cohort: Cohort, actor: User, event: str) -> bool:
    """E-mail the cohort's sponsor notice address (the sponsor's contact unless the cohort names
    another) the `sponsor_cohort_<event>` notice with the cohort's summary, and audit it (not
    the address: it is a person's). Sends nothing when the cohort has no sponsor. Composable:
    inside the caller's transaction (activating or completing the cohort), the e-mail goes only
    if it commits; returns whether one was queued. The cohort's own service has checked that
    `actor` may activate or complete it."""
    from sponsors.selectors import cohort_summary

    if cohort.sponsor_id is None:
        return False
    with transaction.atomic():
        sponsor = Sponsor.objects.get(pk=cohort.sponsor_id)
        recipient = cohort.sponsor_email or sponsor.contact_email
        summary = cohort_summary(cohort)
        counts = {name: summary[name] for name in ("enrolled", "complete", "withdrawn", "verified")}
        template = f"sponsor_cohort_{event}"
        email_enqueue(
            recipient=recipient,
            template=template,
            context={
                "company_name": sponsor.company_name,
                "cohort_name": cohort.name,
                "program_type": cohort.get_program_type_display(),
                "start_date": cohort.start_date.strftime("%-d %B %Y"),
                "end_date": cohort.end_date.strftime("%-d %B %Y"),
                **counts,
            },
        )
        audit_record(
            actor=actor,
            action=f"sponsor.notified_cohort_{event}",
            entity=cohort,
            new_values={"sponsor": sponsor.pk, "template": template},
        )
    return True


def sponsor_cohort_activated_notify(*, cohort: Cohort, actor: User) -> bool:
    """Tell the sponsor that the cohort has started: programme, dates and students enrolled."""
    return _sponsor_cohort_notify(cohort=cohort, actor=actor, event="activated")


def sponsor_cohort_completed_notify(*, cohort: Cohort, actor: User) -> bool:
    """Tell the sponsor that the cohort is complete, with its completion summary."""
    return _sponsor_cohort_notify(cohort=cohort, actor=actor, event="completed")
