"""Partners' commissions: accrued by their rule when a placement is confirmed or an enrolment
starts (finance.receivers answers placements' and enrolments' signals, inside the transaction
of the change), cancelled by a finance user when what earned one fell through, and paid out:
one payment (finance.services.payments.payment_record) settles the commissions chosen.

Accrual is idempotent: one commission per partner and placement (or enrolment), checked under
the lock the confirming (or starting) service holds on its row, and again by the database."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from academics.currencies import cents, money_text
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from delivery.models import CourseEnrollment, CourseEnrollmentStatus
from enrolments.models import CohortEnrollment
from finance.access import MANAGE_FINANCE
from finance.models import (
    Commission,
    CommissionStatus,
    Payment,
    PaymentDirection,
    PaymentPurpose,
)
from finance.selectors.commissions import Statement, statements_allowed
from finance.services.payments import PaymentInput, payment_record
from finance.services.refusals import Refused, refusals_audited
from finance.statement_pdf import statement_pdf
from learners.models import Learner
from partners.models import (
    BankAccount,
    CommissionBasis,
    CommissionTrigger,
    LearnerIntroduction,
    Partner,
    PaymentMethod,
)
from placements.models import Placement
from signing.documents import sha256_hex

TRIGGER_WORDS = {
    CommissionTrigger.PLACEMENT: "per placement confirmed",
    CommissionTrigger.ENROLMENT: "per enrolment started",
}


@dataclass(frozen=True)
class Worked:
    """What a partner's rule gives for one learner: an amount and how it was worked out, or
    why nothing is owed (`amount` None)."""

    amount: Decimal | None
    basis: str


def percent_text(value: Decimal) -> str:
    """10% or 12,5%: the percentage without trailing zeros, with a decimal comma."""
    return format(value.normalize(), "f").replace(".", ",") + "%"


def learner_fee(cohort_enrollment: CohortEnrollment | None) -> tuple[Decimal, str, str] | str:
    """The learner's fee in the cohort (amount, currency, where it comes from): the sum of
    their course enrolments' fees in the cohort's runs, or the programme's fee when none has
    one yet (dropped course enrolments left out, as fees owed leaves them). A string says why
    there is none."""
    if cohort_enrollment is None:
        return "the learner is in no cohort to take a fee from"
    fees = list(
        CourseEnrollment.objects.filter(
            enrollment=cohort_enrollment,
            course_run__cohort_id=cohort_enrollment.cohort_id,
            fee_amount__isnull=False,
        )
        .exclude(status=CourseEnrollmentStatus.DROPPED)
        .values("fee_currency")
        .annotate(total=Sum("fee_amount"))
        .order_by("fee_currency")
    )
    if len(fees) > 1:
        currencies = ", ".join(fee["fee_currency"] for fee in fees)
        return f"the learner's course fees are in more than one currency ({currencies})"
    if fees:
        return fees[0]["total"], fees[0]["fee_currency"], ""
    programme = cohort_enrollment.cohort.programme
    if programme is not None and programme.fee_amount is not None:
        return programme.fee_amount, programme.fee_currency, " (the programme's fee)"
    return "neither the learner's course enrolments nor the programme have a fee"


def commission_worked(partner: Partner, cohort_enrollment: CohortEnrollment | None) -> Worked:
    """The commission `partner`'s rule gives for the learner of `cohort_enrollment`."""
    value = partner.commission_value
    if partner.commission_basis == CommissionBasis.FIXED:
        words = TRIGGER_WORDS.get(CommissionTrigger(partner.commission_trigger), "")
        basis = f"{money_text(value, partner.currency)} {words}".strip()
        return Worked(value if value > 0 else None, basis)
    fee = learner_fee(cohort_enrollment)
    if isinstance(fee, str):
        return Worked(None, fee)
    amount, currency, source = fee
    if currency != partner.currency:
        reason = f"the learner's fee is in {currency}, the partner is paid in {partner.currency}"
        return Worked(None, reason)
    basis = f"{percent_text(value)} of {money_text(amount, currency)}{source}"
    commission = cents(amount * value / 100)
    return Worked(commission if commission > 0 else None, basis)


def _partners_for(learner: Learner, trigger: str) -> list[Partner]:
    """The learner's agent and broker whose commission is earned by `trigger`."""
    introduction = (
        LearnerIntroduction.objects.select_related("agent", "broker")
        .filter(learner=learner)
        .first()
    )
    if introduction is None:
        return []
    partners = [p for p in (introduction.agent, introduction.broker) if p is not None]
    return [p for p in partners if p.commission_trigger == trigger]


def commissions_accrue(
    *,
    learner: Learner,
    trigger: str,
    actor: User | None,
    cohort_enrollment: CohortEnrollment | None,
    placement: Placement | None = None,
    enrollment: CohortEnrollment | None = None,
) -> list[Commission]:
    """Accrue the commission of each active partner who brought `learner` and whose rule is
    earned by `trigger`, for `placement` (a placement confirmed) or `enrollment` (an enrolment
    started). Inside the caller's transaction, which holds that row's lock. A partner already
    credited for it gets nothing more; a rule that gives nothing is recorded with the reason."""
    if (placement is None) == (enrollment is None):
        raise TypeError("A commission is earned by one placement or one enrolment.")
    source = {"placement": placement} if placement is not None else {"enrollment": enrollment}
    accrued: list[Commission] = []
    for partner in _partners_for(learner, trigger):
        if not partner.is_active:
            continue
        if Commission.objects.filter(partner=partner, **source).exists():
            continue
        worked = commission_worked(partner, cohort_enrollment)
        if worked.amount is None:
            audit_record(
                action="commission.not_accrued",
                entity=partner,
                actor=actor,
                new_values={
                    "learner": learner.pk,
                    "trigger": trigger,
                    **{name: row.pk for name, row in source.items() if row is not None},
                    "reason": worked.basis,
                },
            )
            continue
        commission = Commission.objects.create(
            partner=partner,
            learner=learner,
            basis=worked.basis[:200],
            amount=worked.amount,
            currency=partner.currency,
            accrued_on=timezone.localdate(),
            **source,
        )
        audit_record(
            action="commission.accrued",
            entity=commission,
            actor=actor,
            new_values={
                "partner": partner.pk,
                "learner": learner.pk,
                "amount": str(commission.amount),
                "currency": commission.currency,
                "basis": commission.basis,
                **{name: row.pk for name, row in source.items() if row is not None},
            },
        )
        accrued.append(commission)
    return accrued


def _locked(commission: Commission) -> Commission:
    locked: Commission = Commission.objects.select_for_update().get(pk=commission.pk)
    return locked


@refusals_audited
def commission_cancel(*, actor: User, commission: Commission, reason: str) -> Commission:
    """Cancel a commission not yet paid (the placement it was earned on fell through): it is
    no longer owed. Refused once paid, or when already cancelled."""
    permission_check(actor=actor, action="commission.cancel", permission=MANAGE_FINANCE)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the commission is no longer owed."})
    with transaction.atomic(durable=True):
        commission = _locked(commission)
        if commission.status != CommissionStatus.ACCRUED:
            raise Refused(
                f"This commission is {commission.get_status_display().lower()}: only a "
                "commission still owed can be cancelled.",
                action="commission.cancel",
                entity_type="finance.commission",
                entity_id=commission.pk,
            )
        commission.status = CommissionStatus.CANCELLED
        commission.save(update_fields=["status"])
        audit_record(
            action="commission.cancelled",
            entity=commission,
            actor=actor,
            old_values={"status": CommissionStatus.ACCRUED},
            new_values={"status": CommissionStatus.CANCELLED, "reason": reason},
        )
    return commission


def _pay_refused(message: str, partner: Partner) -> Refused:
    return Refused(
        message, action="commission.pay", entity_type="partners.partner", entity_id=partner.pk
    )


@refusals_audited
def commissions_pay(
    *,
    actor: User,
    partner: Partner,
    commission_ids: Sequence[int],
    method: str,
    paid_on: datetime.date,
    reference: str = "",
    notes: str = "",
) -> Payment:
    """Pay `partner` the commissions chosen: one payment out (purpose commission) of their sum,
    and each commission marked paid by it, with their rows locked. Refused when nothing is
    chosen, when one is not the partner's or no longer owed, when they are in more than one
    currency, and by bank transfer when the partner has no confirmed bank account."""
    permission_check(actor=actor, action="commission.pay", permission=MANAGE_FINANCE)
    chosen = sorted(set(commission_ids))
    if not chosen:
        raise _pay_refused("Choose at least one commission to pay.", partner)
    with transaction.atomic(durable=True):
        commissions = list(
            Commission.objects.select_for_update()
            .filter(pk__in=chosen, partner=partner)
            .order_by("pk")
        )
        if len(commissions) != len(chosen):
            raise _pay_refused(f"Some of the commissions chosen are not {partner.name}'s.", partner)
        settled = [c for c in commissions if c.status != CommissionStatus.ACCRUED]
        if settled:
            raise _pay_refused(
                f"{len(settled)} of the commissions chosen {'is' if len(settled) == 1 else 'are'}"
                " already paid or cancelled. Choose only commissions still owed.",
                partner,
            )
        currencies = sorted({c.currency for c in commissions})
        if len(currencies) > 1:
            raise _pay_refused(
                f"The commissions chosen are in more than one currency ({', '.join(currencies)})"
                ": pay each currency separately.",
                partner,
            )
        if method == PaymentMethod.EFT and not BankAccount.objects.filter(partner=partner).exists():
            raise _pay_refused(
                f"{partner.name} has no confirmed bank account to pay by bank transfer: have "
                "their bank details confirmed first, or choose another method.",
                partner,
            )
        total = sum((c.amount for c in commissions), Decimal(0))
        payment = payment_record(
            actor=actor,
            payment=PaymentInput(
                direction=PaymentDirection.PAID_OUT,
                purpose=PaymentPurpose.COMMISSION,
                amount=total,
                currency=currencies[0],
                method=method,
                reference=reference,
                notes=notes,
                paid_on=paid_on,
                partner=partner,
            ),
        )
        Commission.objects.filter(pk__in=chosen).update(
            status=CommissionStatus.PAID, payout=payment
        )
        audit_record(
            action="commission.paid",
            entity=payment,
            actor=actor,
            new_values={
                "partner": partner.pk,
                "commissions": chosen,
                "amount": str(total),
                "currency": currencies[0],
            },
        )
    return payment


def partner_statement_produce(*, actor: User, statement: Statement) -> bytes:
    """The statement as a sealed PDF for `actor` (finance, or the partner's own contact), and
    the record that they took a copy, with its fingerprint."""
    permission_check(
        actor=actor,
        action="commission.statement_pdf",
        allowed=statements_allowed(actor, statement.partner),
    )
    pdf = statement_pdf(statement)
    with transaction.atomic(durable=True):
        audit_record(
            action="commission.statement_produced",
            entity=statement.partner,
            actor=actor,
            new_values={
                "month": f"{statement.month:%Y-%m}",
                "closing": str(statement.closing),
                "sha256": sha256_hex(pdf),
            },
        )
    return pdf
