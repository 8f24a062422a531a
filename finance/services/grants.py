"""SETA discretionary grants: the agreement for a cohort (what the SETA pays per learner at
registration, mid-point and completion), the claims that fall due as learners reach those
milestones (finance.selectors.grants says when), and their way to the SETA: submitted with
their evidence, paid (one payment received from the SETA for the claims it settles) or
rejected and submitted again.

Only who holds finance.manage_finance writes (the daily run, `actor=None`, brings claims up to
date); each change is checked before its transaction, runs with its rows locked and is
audited. A business rule's refusal (a claim in the wrong state, evidence missing) is a
`Refused`, audited by `refusals_audited`."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from academics.currencies import cents, currency_error, money_text
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from cohorts.models import Cohort
from finance.access import MANAGE_FINANCE
from finance.models import (
    GrantAgreement,
    GrantClaim,
    GrantClaimStatus,
    PaymentDirection,
    PaymentPurpose,
)
from finance.selectors.grants import (
    MILESTONE_AMOUNT_FIELDS,
    grant_claims_evidence,
    grant_milestones_reached,
    milestone_amount,
)
from finance.services.payments import PaymentInput, payment_record
from finance.services.refusals import Refused, refusals_audited

AMOUNT_FIELDS = tuple(MILESTONE_AMOUNT_FIELDS.values())
# How many claims one action takes at most (one SETA submission batch).
MAX_CLAIMS = 500


@dataclass(frozen=True)
class AgreementInput:
    cohort: Cohort
    seta: str
    reference: str
    registration_amount: Decimal
    midpoint_amount: Decimal
    completion_amount: Decimal
    currency: str = "ZAR"


def _agreement_clean(agreement: GrantAgreement | None, data: AgreementInput) -> AgreementInput:
    """The agreement as it would be saved, tidied; a ValidationError keyed by field otherwise."""
    errors: dict[str, str] = {}
    seta, reference = " ".join(data.seta.split()), " ".join(data.reference.split())
    currency = data.currency.strip().upper()
    if not seta:
        errors["seta"] = "Name the SETA that awarded the grant."
    if not reference:
        errors["reference"] = "Give the SETA's grant agreement number."
    elif seta:
        taken = GrantAgreement.objects.filter(seta__iexact=seta, reference__iexact=reference)
        if agreement is not None:
            taken = taken.exclude(pk=agreement.pk)
        if taken.exists():
            errors["reference"] = f"{seta} already has an agreement {reference}: open that one."
    for name in AMOUNT_FIELDS:
        amount: Decimal = getattr(data, name)
        if amount < 0:
            errors[name] = "An amount cannot be negative."
        elif amount != cents(amount):
            errors[name] = "Give the amount in whole cents."
    if not errors and not any(getattr(data, name) for name in AMOUNT_FIELDS):
        errors["registration_amount"] = "Give the amount of at least one milestone."
    if currency_error(currency):
        errors["currency"] = currency_error(currency)
    if (
        agreement is not None
        and data.cohort.pk != agreement.cohort_id
        and agreement.claims.exists()
    ):
        errors["cohort"] = "Claims were made under this agreement: its cohort cannot change."
    if (
        agreement is not None
        and currency != agreement.currency
        and "currency" not in errors
        and agreement.claims.exists()
    ):
        errors["currency"] = (
            f"Claims were made under this agreement in {agreement.currency}: its currency "
            "cannot change."
        )
    if errors:
        raise ValidationError(errors)
    return AgreementInput(
        cohort=data.cohort,
        seta=seta,
        reference=reference,
        registration_amount=data.registration_amount,
        midpoint_amount=data.midpoint_amount,
        completion_amount=data.completion_amount,
        currency=currency,
    )


def _agreement_values(agreement: GrantAgreement) -> dict[str, str]:
    return {
        "cohort": str(agreement.cohort_id),
        "seta": agreement.seta,
        "reference": agreement.reference,
        **{name: str(getattr(agreement, name)) for name in AMOUNT_FIELDS},
        "currency": agreement.currency,
    }


def _agreement_saved(agreement: GrantAgreement, **kwargs: object) -> None:
    """Save, turning a lost race on the SETA's reference into the refusal the check gives."""
    try:
        with transaction.atomic():
            agreement.save(**kwargs)  # type: ignore[arg-type]
    except IntegrityError as error:
        raise ValidationError(
            {"reference": "Another agreement with this reference was saved at the same moment."}
        ) from error


def grant_agreement_create(*, actor: User | None, data: AgreementInput) -> GrantAgreement:
    """A cohort's grant agreement; its claims come as learners reach each milestone."""
    permission_check(actor=actor, action="grant_agreement.create", permission=MANAGE_FINANCE)
    data = _agreement_clean(None, data)
    with transaction.atomic(durable=True):
        agreement = GrantAgreement(
            cohort=data.cohort,
            seta=data.seta,
            reference=data.reference,
            registration_amount=data.registration_amount,
            midpoint_amount=data.midpoint_amount,
            completion_amount=data.completion_amount,
            currency=data.currency,
            created_by=actor,
        )
        _agreement_saved(agreement)
        audit_record(
            action="grant_agreement.created",
            entity=agreement,
            actor=actor,
            new_values=_agreement_values(agreement),
        )
    return agreement


def grant_agreement_update(
    *, actor: User | None, agreement: GrantAgreement, data: AgreementInput
) -> GrantAgreement:
    """Change an agreement. Claims already made keep their amounts; new ones take the new."""
    permission_check(actor=actor, action="grant_agreement.update", permission=MANAGE_FINANCE)
    data = _agreement_clean(agreement, data)
    with transaction.atomic(durable=True):
        agreement = GrantAgreement.objects.select_for_update().get(pk=agreement.pk)
        old = _agreement_values(agreement)
        agreement.cohort = data.cohort
        agreement.seta, agreement.reference = data.seta, data.reference
        for name in AMOUNT_FIELDS:
            setattr(agreement, name, getattr(data, name))
        agreement.currency = data.currency
        _agreement_saved(
            agreement, update_fields=["cohort", "seta", "reference", "currency", *AMOUNT_FIELDS]
        )
        new = _agreement_values(agreement)
        audit_record(
            action="grant_agreement.updated",
            entity=agreement,
            actor=actor,
            old_values={name: value for name, value in old.items() if new[name] != value},
            new_values={name: value for name, value in new.items() if old[name] != value},
        )
    return agreement


def grant_claims_bring_up_to_date(
    *, agreement: GrantAgreement, today: datetime.date, actor: User | None = None
) -> int:
    """Make the claims that have become due by `today` (one per learner and milestone, ever;
    none for a milestone the agreement pays nothing for); how many were made. Idempotent: the
    agreement's row is held while the claims are made, and the database keeps them unique."""
    if actor is not None:
        permission_check(
            actor=actor, action="grant_claims.bring_up_to_date", permission=MANAGE_FINANCE
        )
    with transaction.atomic(durable=True):
        agreement = (
            GrantAgreement.objects.select_for_update().select_related("cohort").get(pk=agreement.pk)
        )
        made = set(agreement.claims.values_list("learner_id", "milestone"))
        claims = [
            GrantClaim(
                agreement=agreement,
                learner_id=reached.learner_id,
                milestone=reached.milestone,
                amount=milestone_amount(agreement, reached.milestone),
                due_on=reached.due_on,
            )
            for reached in grant_milestones_reached(agreement=agreement, today=today)
            if (reached.learner_id, reached.milestone) not in made
            and milestone_amount(agreement, reached.milestone) > 0
        ]
        GrantClaim.objects.bulk_create(claims)
        if claims:
            audit_record(
                action="grant_claims.due",
                entity=agreement,
                actor=actor,
                new_values={
                    "claims": len(claims),
                    "amount": str(sum((claim.amount for claim in claims), Decimal(0))),
                    "today": str(today),
                },
            )
    return len(claims)


# --- Submitting, paying, rejecting -----------------------------------------------------------


def _claims_locked(
    agreement: GrantAgreement, claims: Sequence[GrantClaim], *, action: str, source: str
) -> list[GrantClaim]:
    """The chosen claims of `agreement`, locked in pk order, each `source`; Refused otherwise."""
    if not claims:
        raise ValidationError("Choose at least one claim.")
    if len(claims) > MAX_CLAIMS:
        raise ValidationError(f"Choose at most {MAX_CLAIMS} claims at a time.")
    pks = sorted({claim.pk for claim in claims})
    locked = list(
        GrantClaim.objects.select_for_update(of=("self",))
        .select_related("learner")
        .filter(agreement=agreement, pk__in=pks)
        .order_by("pk")
    )
    if len(locked) != len(pks):
        raise Refused(
            "Some of the claims chosen are not this agreement's.",
            action=action,
            entity_type="finance.grantagreement",
            entity_id=agreement.pk,
        )
    wrong = [claim for claim in locked if claim.status != source]
    if wrong:
        state = GrantClaimStatus(source).label.lower()
        names = ", ".join(_claim_name(claim) for claim in wrong[:5])
        raise Refused(
            f"Only {state} claims can be chosen for this: {names} "
            f"{'is' if len(wrong) == 1 else 'are'} not.",
            action=action,
            entity_type="finance.grantagreement",
            entity_id=agreement.pk,
        )
    return locked


def _claim_name(claim: GrantClaim) -> str:
    return f"{claim.learner.full_name}'s {claim.get_milestone_display().lower()} claim"


def _evidence_check(agreement: GrantAgreement, claims: list[GrantClaim], *, action: str) -> None:
    """Refused unless every claim has the evidence its milestone needs."""
    evidence = grant_claims_evidence(agreement=agreement, claims=claims)
    lacking = [
        f"{_claim_name(claim)}: {', '.join(evidence[claim.pk].missing)}"
        for claim in claims
        if not evidence[claim.pk].complete
    ]
    if lacking:
        raise Refused(
            "Evidence is missing, so nothing was submitted. " + "; ".join(lacking) + ".",
            action=action,
            entity_type="finance.grantagreement",
            entity_id=agreement.pk,
        )


def _date_check(value: datetime.date, *, field: str, what: str) -> None:
    if value > timezone.localdate():
        raise ValidationError({field: f"The {what} date cannot be in the future."})


def _claims_audit(action: str, claims: list[GrantClaim], actor: User | None, **values: str) -> None:
    for claim in claims:
        audit_record(
            action=action,
            entity=claim,
            actor=actor,
            new_values={"status": claim.status, "amount": str(claim.amount), **values},
        )


def _claims_send(
    *,
    actor: User | None,
    agreement: GrantAgreement,
    claims: Sequence[GrantClaim],
    submitted_on: datetime.date,
    again: bool,
) -> list[GrantClaim]:
    """Send claims (due ones, or rejected ones `again`) to the SETA on `submitted_on`. All
    or none: each needs its evidence."""
    action = "grant_claims.resubmit" if again else "grant_claims.submit"
    permission_check(actor=actor, action=action, permission=MANAGE_FINANCE)
    _date_check(submitted_on, field="submitted_on", what="submission")
    with transaction.atomic(durable=True):
        agreement = GrantAgreement.objects.select_related("cohort").get(pk=agreement.pk)
        source = GrantClaimStatus.REJECTED if again else GrantClaimStatus.DUE
        locked = _claims_locked(agreement, claims, action=action, source=source)
        _evidence_check(agreement, locked, action=action)
        for claim in locked:
            if again:
                claim.resubmit()
            else:
                claim.submit()
            claim.submitted_on, claim.submitted_by = submitted_on, actor
            claim.rejection_reason = ""
        GrantClaim.objects.bulk_update(
            locked, ["status", "submitted_on", "submitted_by", "rejection_reason"]
        )
        _claims_audit(
            "grant_claim.resubmitted" if again else "grant_claim.submitted",
            locked,
            actor,
            submitted_on=str(submitted_on),
        )
    return locked


@refusals_audited
def grant_claims_submit(
    *,
    actor: User | None,
    agreement: GrantAgreement,
    claims: Sequence[GrantClaim],
    submitted_on: datetime.date,
) -> list[GrantClaim]:
    """Send due claims to the SETA on `submitted_on`. All or none: each needs its evidence."""
    return _claims_send(
        actor=actor, agreement=agreement, claims=claims, submitted_on=submitted_on, again=False
    )


@refusals_audited
def grant_claims_resubmit(
    *,
    actor: User | None,
    agreement: GrantAgreement,
    claims: Sequence[GrantClaim],
    submitted_on: datetime.date,
) -> list[GrantClaim]:
    """Send rejected claims again, their evidence put right (checked again); the rejection's
    reason is cleared (the audit trail keeps it)."""
    return _claims_send(
        actor=actor, agreement=agreement, claims=claims, submitted_on=submitted_on, again=True
    )


@refusals_audited
def grant_claims_reject(
    *,
    actor: User | None,
    agreement: GrantAgreement,
    claims: Sequence[GrantClaim],
    reason: str,
) -> list[GrantClaim]:
    """The SETA turned submitted claims down, for `reason`."""
    permission_check(actor=actor, action="grant_claims.reject", permission=MANAGE_FINANCE)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the SETA rejected the claims."})
    with transaction.atomic(durable=True):
        locked = _claims_locked(
            agreement, claims, action="grant_claims.reject", source=GrantClaimStatus.SUBMITTED
        )
        for claim in locked:
            claim.reject()
            claim.rejection_reason = reason
        GrantClaim.objects.bulk_update(locked, ["status", "rejection_reason"])
        _claims_audit("grant_claim.rejected", locked, actor, rejection_reason=reason)
    return locked


@refusals_audited
def grant_claims_mark_paid(
    *,
    actor: User | None,
    agreement: GrantAgreement,
    claims: Sequence[GrantClaim],
    paid_on: datetime.date,
    reference: str,
) -> list[GrantClaim]:
    """The SETA paid submitted claims: one payment received from it, of their total, recorded
    (finance.services.payments) and linked from each claim."""
    permission_check(actor=actor, action="grant_claims.mark_paid", permission=MANAGE_FINANCE)
    _date_check(paid_on, field="paid_on", what="payment")
    reference = reference.strip()
    if not reference:
        raise ValidationError({"reference": "Give the reference the SETA paid with."})
    with transaction.atomic(durable=True):
        agreement = GrantAgreement.objects.get(pk=agreement.pk)
        locked = _claims_locked(
            agreement, claims, action="grant_claims.mark_paid", source=GrantClaimStatus.SUBMITTED
        )
        total = sum((claim.amount for claim in locked), Decimal(0))
        payment = payment_record(
            actor=actor,
            payment=PaymentInput(
                direction=PaymentDirection.RECEIVED,
                purpose=PaymentPurpose.GRANT,
                amount=total,
                currency=agreement.currency,
                paid_on=paid_on,
                reference=reference,
                counterparty=agreement.seta,
                notes=f"Grant agreement {agreement.reference}: {len(locked)} claim"
                f"{'s' if len(locked) != 1 else ''} ({money_text(total, agreement.currency)}).",
            ),
        )
        for claim in locked:
            claim.mark_paid()
            claim.payment = payment
        GrantClaim.objects.bulk_update(locked, ["status", "payment"])
        _claims_audit("grant_claim.paid", locked, actor, payment=str(payment.pk))
    return locked
