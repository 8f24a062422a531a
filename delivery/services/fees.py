"""Fees and subsidies, which finance sets: a programme's fee (each new course enrolment starts
with it, see delivery.services.runs) and each learner's fee and subsidy in a course run, which
the training gateway is told with the enrolment (its gateway job is queued in the change's
transaction)."""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from academics.currencies import currency_error
from academics.models import Programme
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from delivery.models import CourseEnrollment, CourseEnrollmentStatus, CourseRun
from delivery.services.gateway_sync import course_enrolments_sync

MANAGE_FEES = "delivery.manage_fees"
FEE_FIELDS = ("fee_amount", "fee_currency", "subsidy_info")


@dataclass(frozen=True)
class Fee:
    """What a place costs, in which currency (ISO 4217), and who pays what."""

    amount: Decimal | None
    currency: str
    subsidy: str = ""

    def values(self) -> dict[str, object]:
        return {
            "fee_amount": self.amount,
            "fee_currency": self.currency,
            "subsidy_info": self.subsidy,
        }


def fee_validate(fee: Fee) -> Fee:
    """The fee as stored (the currency in capitals, the subsidy trimmed), or a ValidationError
    naming each wrong field: a negative amount, more than two decimals, an unknown currency."""
    errors: dict[str, str] = {}
    currency = fee.currency.strip().upper()
    if fee.amount is not None and fee.amount < 0:
        errors["fee_amount"] = "A fee cannot be negative: give 0 for a free place."
    elif fee.amount is not None and fee.amount != fee.amount.quantize(Decimal("0.01")):
        errors["fee_amount"] = "Give the fee in whole cents (at most two decimals)."
    if currency_error(currency):
        errors["fee_currency"] = currency_error(currency)
    if errors:
        raise ValidationError(errors)
    return Fee(fee.amount, currency, fee.subsidy.strip())


def _fees_set(obj: Programme | CourseEnrollment, fee: Fee) -> dict[str, dict[str, object]]:
    """Put `fee` on `obj`; the old and new values of the fields that changed (for the audit)."""
    old, new = {}, {}
    for name, value in fee.values().items():
        if getattr(obj, name) != value:
            old[name], new[name] = getattr(obj, name), value
            setattr(obj, name, value)
    if new:
        obj.clean_fields(exclude=[f.name for f in obj._meta.fields if f.name not in new])
    return {"old": _audited(old), "new": _audited(new)}


def _audited(values: dict[str, object]) -> dict[str, object]:
    return {
        name: str(value) if isinstance(value, Decimal) else value for name, value in values.items()
    }


def programme_fee_set(*, actor: User | None, programme: Programme, fee: Fee) -> Programme:
    """Set the fee and subsidy new course enrolments in the programme's runs start with;
    enrolments made before keep theirs (apply it to a run's learners from the run's fees)."""
    permission_check(actor=actor, permission=MANAGE_FEES, action="delivery.programme_fee_set")
    fee = fee_validate(fee)
    with transaction.atomic(durable=True):
        programme = Programme.objects.select_for_update().get(pk=programme.pk)
        _fee_saved(actor, programme, fee, action="programme.fee_set")
    return programme


def _fee_saved(
    actor: User | None, record: Programme | CourseEnrollment, fee: Fee, action: str
) -> bool:
    """Give `record` the fee, saving and auditing what changed; whether anything did."""
    changed = _fees_set(record, fee)
    if not changed["new"]:
        return False
    record.save(update_fields=[*changed["new"], "updated_at"])
    audit_record(
        actor=actor,
        action=action,
        entity=record,
        old_values=changed["old"],
        new_values=changed["new"],
    )
    return True


def _fee_check(actor: User | None, run: CourseRun, action: str) -> None:
    permission_check(actor=actor, permission=MANAGE_FEES, obj=run.cohort, action=action)


def _locked_enrolments(run: CourseRun) -> QuerySet[CourseEnrollment]:
    """The run's enrolments locked for a fee change, with what the gateway job is built from."""
    return (
        CourseEnrollment.objects.select_for_update(of=("self",))
        .select_related("enrollment__learner", "enrollment__user", "course_run")
        .filter(course_run=run)
    )


def course_enrollment_fee_set(
    *, actor: User | None, enrolment: CourseEnrollment, fee: Fee
) -> CourseEnrollment:
    """Set one learner's fee and subsidy in a run; the gateway is sent the changed enrolment
    (nothing when it is unchanged). A learner who left the run keeps the fee they had."""
    _fee_check(actor, enrolment.course_run, "delivery.course_enrollment_fee_set")
    fee = fee_validate(fee)
    with transaction.atomic(durable=True):
        enrolment = _locked_enrolments(enrolment.course_run).get(pk=enrolment.pk)
        if enrolment.status == CourseEnrollmentStatus.DROPPED:
            raise ValidationError(
                f"{enrolment.enrollment.learner.full_name} has left the run: "
                "their fee no longer changes."
            )
        if _fee_saved(actor, enrolment, fee, action="course_enrollment.fee_set"):
            course_enrolments_sync(CourseEnrollment.objects.filter(pk=enrolment.pk))
    return enrolment


def course_run_programme_fee_apply(*, actor: User | None, run: CourseRun) -> int:
    """Give every learner in the run (not those who left it) the programme's fee and subsidy;
    each changed enrolment is audited and sent to the gateway, in one transaction. Returns how
    many changed."""
    _fee_check(actor, run, "delivery.course_run_programme_fee_apply")
    programme = Programme.objects.get(courses__runs=run)
    if programme.fee_amount is None:
        raise ValidationError(
            f"{programme} has no fee yet: set the programme's fee first, then apply it."
        )
    fee = Fee(programme.fee_amount, programme.fee_currency, programme.subsidy_info)
    with transaction.atomic(durable=True):
        now = timezone.now()
        changed_enrolments = []
        enrolments = _locked_enrolments(run).exclude(status=CourseEnrollmentStatus.DROPPED)
        for enrolment in enrolments.order_by("pk"):
            changed = _fees_set(enrolment, fee)
            if not changed["new"]:
                continue
            audit_record(
                actor=actor,
                action="course_enrollment.fee_set",
                entity=enrolment,
                old_values=changed["old"],
                new_values={**changed["new"], "from_programme": programme.code},
            )
            enrolment.updated_at = now  # bulk_update does not touch auto_now fields
            changed_enrolments.append(enrolment)
        CourseEnrollment.objects.bulk_update(changed_enrolments, [*FEE_FIELDS, "updated_at"])
        course_enrolments_sync(
            CourseEnrollment.objects.filter(pk__in=[item.pk for item in changed_enrolments])
        )
    return len(changed_enrolments)
