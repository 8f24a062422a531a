"""Learners' stipends: the monthly rates (per programme, or per learner, which wins), and the
monthly run: prepared by one finance user from who is due (finance.selectors.stipends), approved
by another, paid through the institution's bank file (the only place learners' sealed bank
details are opened) and recorded as payments; recalculated while a draft, cancelled before it
is paid.

Only who holds finance.manage_finance writes: each change is checked before its transaction,
runs with the run's row locked and is audited; the refusals finance's rules give are audited
too (finance.services.refusals). The bank file's event says how many rows and how much, never
an account number."""

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from academics.currencies import cents
from academics.models import Programme
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from enrolments.exports import csv_cell
from finance.access import MANAGE_FINANCE
from finance.models import (
    PaymentDirection,
    PaymentPurpose,
    StipendDeduction,
    StipendLine,
    StipendPayer,
    StipendRate,
    StipendRun,
    StipendRunStatus,
)
from finance.selectors.settings import finance_settings_current
from finance.selectors.stipends import (
    StipendDue,
    month_first,
    stipend_bank_changed_since_export,
    stipend_lines_payable,
    stipend_lines_unbanked,
    stipends_due,
)
from finance.services.payments import PaymentInput, payment_record
from finance.services.refusals import Refused, refusals_audited
from learners.models import Learner
from partners.bank import bank_details_open
from partners.models import BankAccount

BANK_FILE_HEADER = [
    "Beneficiary name",
    "Bank",
    "Branch code",
    "Account number",
    "Account type",
    "Amount",
    "Reference",
]


def _month_text(month: datetime.date) -> str:
    return f"{month:%B %Y}"


def _refused(message: str, *, action: str, run: StipendRun) -> Refused:
    return Refused(message, action=action, entity_type="finance.stipendrun", entity_id=run.pk)


# --- Rates -----------------------------------------------------------------------------------


def stipend_rate_add(
    *,
    actor: User | None,
    monthly_amount: Decimal,
    starts_on: datetime.date,
    paid_through: str = StipendPayer.INSTITUTION,
    programme: Programme | None = None,
    learner: Learner | None = None,
) -> StipendRate:
    """A monthly amount for every learner of `programme`, or for `learner` alone, from the
    month of `starts_on` on. A rate is never changed: a later one replaces it (one of 0 ends
    the stipend), and one added for the same month wins over the earlier."""
    permission_check(actor=actor, action="stipend_rate.add", permission=MANAGE_FINANCE)
    errors: dict[str, str] = {}
    if (programme is None) == (learner is None):
        errors["__all__"] = "A rate is for a programme or for one learner: choose one."
    if monthly_amount < 0:
        errors["monthly_amount"] = "Give an amount of 0 or more."
    elif monthly_amount != cents(monthly_amount):
        errors["monthly_amount"] = "Give the amount in whole cents."
    if paid_through not in StipendPayer.values:
        errors["paid_through"] = "Say who pays it: the institution or the sponsor."
    if errors:
        raise ValidationError(errors)
    currency = finance_settings_current().currency
    with transaction.atomic(durable=True):
        rate = StipendRate.objects.create(
            programme=programme,
            learner=learner,
            monthly_amount=monthly_amount,
            currency=currency,
            paid_through=paid_through,
            starts_on=month_first(starts_on),
            created_by=actor,
        )
        audit_record(
            action="stipend_rate.added",
            entity=rate,
            actor=actor,
            new_values={
                "programme": programme.pk if programme else None,
                "learner": learner.pk if learner else None,
                "monthly_amount": str(monthly_amount),
                "currency": currency,
                "paid_through": paid_through,
                "starts_on": rate.starts_on.isoformat(),
            },
        )
    return rate


# --- Runs ------------------------------------------------------------------------------------


def _lines_write(run: StipendRun, due: list[StipendDue]) -> None:
    lines = StipendLine.objects.bulk_create(
        StipendLine(
            run=run,
            learner=one.learner,
            cohort=one.cohort,
            paid_through=one.paid_through,
            base_amount=one.base_amount,
            deductions=one.deducted,
            amount=one.amount,
        )
        for one in due
    )
    StipendDeduction.objects.bulk_create(
        StipendDeduction(
            line=line,
            attendance_id=item.attendance_id,
            description=item.description,
            amount=item.amount,
        )
        for line, one in zip(lines, due, strict=True)
        for item in one.deductions
    )
    run.total = sum((one.amount for one in due), Decimal("0.00"))


def _locked(run: StipendRun) -> StipendRun:
    locked: StipendRun = StipendRun.objects.select_for_update().get(pk=run.pk)
    return locked


def _state_refused(run: StipendRun, action: str, doing: str) -> Refused:
    return _refused(
        f"The stipend run for {_month_text(run.month)} is {run.get_status_display().lower()}: "
        f"it cannot be {doing}.",
        action=action,
        run=run,
    )


@refusals_audited
def stipend_run_prepare(*, actor: User | None, month: datetime.date) -> StipendRun:
    """The run for `month`: one line per learner due a stipend (finance.selectors.stipends.
    stipends_due), with its deductions. One run per month: cancel it to prepare it again."""
    permission_check(actor=actor, action="stipend_run.prepare", permission=MANAGE_FINANCE)
    first = month_first(month)
    with transaction.atomic(durable=True):
        existing = StipendRun.objects.filter(month=first).exclude(status=StipendRunStatus.CANCELLED)
        if existing.exists():
            raise Refused(
                f"There is already a stipend run for {_month_text(first)}: open it (cancel it to "
                "prepare the month again).",
                action="stipend_run.prepare",
            )
        due = stipends_due(month=first)
        if not due:
            raise Refused(
                f"Nobody is due a stipend for {_month_text(first)}: no learner on a learnership "
                "that month has a stipend rate above 0. Add a rate for their programme first.",
                action="stipend_run.prepare",
            )
        try:
            with transaction.atomic():
                run: StipendRun = StipendRun.objects.create(
                    month=first, currency=finance_settings_current().currency, prepared_by=actor
                )
        except IntegrityError as error:
            raise Refused(
                f"Someone prepared the run for {_month_text(first)} at the same moment: open it.",
                action="stipend_run.prepare",
            ) from error
        _lines_write(run, due)
        run.save(update_fields=["total"])
        audit_record(
            action="stipend_run.prepared",
            entity=run,
            actor=actor,
            new_values={
                "month": first.isoformat(),
                "lines": len(due),
                "total": str(run.total),
                "currency": run.currency,
            },
        )
    return run


@refusals_audited
def stipend_run_recalculate(*, actor: User | None, run: StipendRun) -> StipendRun:
    """Work a draft out again (rates, attendance or the deduction changed since). Whoever
    recalculates it becomes its preparer: someone else approves it."""
    permission_check(actor=actor, action="stipend_run.recalculate", permission=MANAGE_FINANCE)
    with transaction.atomic(durable=True):
        run = _locked(run)
        if run.status != StipendRunStatus.DRAFT:
            raise _state_refused(run, "stipend_run.recalculate", "recalculated")
        old_total, old_lines = run.total, run.lines.count()
        run.lines.all().delete()
        due = stipends_due(month=run.month)
        _lines_write(run, due)
        run.prepared_by = actor
        run.prepared_at = timezone.now()
        run.save(update_fields=["total", "prepared_by", "prepared_at"])
        audit_record(
            action="stipend_run.recalculated",
            entity=run,
            actor=actor,
            old_values={"lines": old_lines, "total": str(old_total)},
            new_values={"lines": len(due), "total": str(run.total)},
        )
    return run


@refusals_audited
def stipend_run_approve(*, actor: User | None, run: StipendRun) -> StipendRun:
    """A second finance user approves the run: never the one who prepared it."""
    permission_check(actor=actor, action="stipend_run.approve", permission=MANAGE_FINANCE)
    with transaction.atomic(durable=True):
        run = _locked(run)
        if run.status != StipendRunStatus.DRAFT:
            raise _state_refused(run, "stipend_run.approve", "approved")
        if actor is not None and run.prepared_by_id == actor.pk:
            raise _refused(
                "You prepared this run, so another finance user must approve it: two people "
                "check every stipend before it is paid.",
                action="stipend_run.approve",
                run=run,
            )
        if not run.lines.exists():
            raise _refused(
                "This run has no lines: there is nothing to approve. Recalculate it or cancel it.",
                action="stipend_run.approve",
                run=run,
            )
        run.approve()
        run.approved_by = actor
        run.approved_at = timezone.now()
        run.save(update_fields=["status", "approved_by", "approved_at"])
        audit_record(
            action="stipend_run.approved",
            entity=run,
            actor=actor,
            new_values={"total": str(run.total), "prepared_by": run.prepared_by_id},
        )
    return run


@dataclass(frozen=True)
class BankFile:
    filename: str
    content: bytes
    rows: int
    total: Decimal


def bank_reference(run: StipendRun, learner: Learner) -> str:
    """What the learner's bank statement shows, e.g. STIPEND 2027-03 L42."""
    return f"STIPEND {run.month:%Y-%m} L{learner.pk}"


@refusals_audited
def stipend_bank_file_make(*, actor: User | None, run: StipendRun) -> BankFile:
    """The approved run's payment file for the institution's bank (CSV: beneficiary, bank,
    branch code, account number, account type, amount, reference), one row per line the
    institution pays to confirmed bank details. The sponsor pays its own lines. Audited with
    its number of rows and total; the details are opened here and nowhere else."""
    permission_check(actor=actor, action="stipend_run.bank_file", permission=MANAGE_FINANCE)
    with transaction.atomic(durable=True):
        run = _locked(run)
        if run.status != StipendRunStatus.APPROVED:
            raise _refused(
                "The bank file is made once a second finance user has approved the run, and "
                f"until it is paid: this one is {run.get_status_display().lower()}.",
                action="stipend_run.bank_file",
                run=run,
            )
        lines = list(stipend_lines_payable(run))
        if not lines:
            raise _refused(
                "No line of this run is paid by the institution to confirmed bank details: "
                "there is no bank file to make.",
                action="stipend_run.bank_file",
                run=run,
            )
        learner_ids = [line.learner_id for line in lines]
        accounts = {
            account.learner_id: account
            for account in BankAccount.objects.filter(learner_id__in=learner_ids)
        }
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(BANK_FILE_HEADER)
        total = Decimal("0.00")
        for line in lines:
            details = bank_details_open(accounts[line.learner_id].sealed)
            writer.writerow(
                [
                    csv_cell(details.holder),
                    csv_cell(details.bank_name),
                    details.branch_code,
                    details.account_number,
                    details.account_type,
                    f"{line.amount:.2f}",
                    bank_reference(run, line.learner),
                ]
            )
            total += line.amount
        run.exported_at = timezone.now()
        run.save(update_fields=["exported_at"])
        audit_record(
            action="stipend_run.bank_file_downloaded",
            entity=run,
            actor=actor,
            new_values={"rows": len(lines), "total": str(total), "currency": run.currency},
        )
    return BankFile(
        filename=f"stipends-{run.month:%Y-%m}-bank-file.csv",
        content=buffer.getvalue().encode(),
        rows=len(lines),
        total=total,
    )


@refusals_audited
def stipend_run_mark_paid(
    *,
    actor: User | None,
    run: StipendRun,
    paid_on: datetime.date,
    leave_out_unbanked: bool = False,
    today: datetime.date | None = None,
) -> StipendRun:
    """The bank paid the run's file: each of its lines becomes a payment paid out to the
    learner (purpose stipend), and the run is paid. Refused before the bank file is made, and
    when bank details were confirmed after it was (make it again). Refused too while learners
    the institution pays have no confirmed bank details, unless `leave_out_unbanked` says
    finance leaves them out of this month (the event names them by learner id)."""
    permission_check(actor=actor, action="stipend_run.mark_paid", permission=MANAGE_FINANCE)
    if paid_on > (today or timezone.localdate()):
        raise _refused(
            "The payment date cannot be in the future: mark the run paid once the bank has "
            "paid it.",
            action="stipend_run.mark_paid",
            run=run,
        )
    with transaction.atomic(durable=True):
        run = _locked(run)
        if run.status != StipendRunStatus.APPROVED:
            raise _state_refused(run, "stipend_run.mark_paid", "marked paid")
        lines = list(stipend_lines_payable(run))
        if lines and run.exported_at is None:
            raise _refused(
                "Download the bank file and have the bank pay it first.",
                action="stipend_run.mark_paid",
                run=run,
            )
        left_out = list(stipend_lines_unbanked(run).values_list("learner_id", flat=True))
        if left_out and not leave_out_unbanked:
            count = len(left_out)
            raise _refused(
                f"{count} learner{'s' if count > 1 else ''} the institution pays "
                f"{'have' if count > 1 else 'has'} no confirmed bank details and "
                f"{'are' if count > 1 else 'is'} not in the bank file: confirm their bank "
                "details and download the file again, or confirm that you leave them out "
                "(they are not paid this month).",
                action="stipend_run.mark_paid",
                run=run,
            )
        changed = stipend_bank_changed_since_export(run)
        if changed:
            raise _refused(
                f"Bank details of {changed} learner{'s' if changed > 1 else ''} in this run were "
                "confirmed after the bank file was made: download it again, and have the bank "
                "pay that one.",
                action="stipend_run.mark_paid",
                run=run,
            )
        for line in lines:
            line.payment = payment_record(
                actor=actor,
                payment=PaymentInput(
                    direction=PaymentDirection.PAID_OUT,
                    purpose=PaymentPurpose.STIPEND,
                    amount=line.amount,
                    currency=run.currency,
                    paid_on=paid_on,
                    reference=bank_reference(run, line.learner),
                    learner=line.learner,
                ),
            )
        StipendLine.objects.bulk_update(lines, ["payment"])
        run.mark_paid()
        run.paid_at = timezone.now()
        run.save(update_fields=["status", "paid_at"])
        total = sum((line.amount for line in lines), Decimal("0.00"))
        audit_record(
            action="stipend_run.paid",
            entity=run,
            actor=actor,
            new_values={
                "paid_on": paid_on.isoformat(),
                "payments": len(lines),
                "total": str(total),
                "currency": run.currency,
                "left_out_learners": left_out,
            },
        )
    return run


@refusals_audited
def stipend_run_cancel(*, actor: User | None, run: StipendRun, reason: str) -> StipendRun:
    """Cancel a draft or approved run, saying why; its month may then be prepared again.
    Refused once its bank file was downloaded: the bank may have paid it."""
    permission_check(actor=actor, action="stipend_run.cancel", permission=MANAGE_FINANCE)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the run is cancelled."})
    with transaction.atomic(durable=True):
        run = _locked(run)
        if run.status not in (StipendRunStatus.DRAFT, StipendRunStatus.APPROVED):
            raise _state_refused(run, "stipend_run.cancel", "cancelled")
        if run.exported_at is not None:
            downloaded = timezone.localtime(run.exported_at)
            raise _refused(
                f"The bank file has been downloaded ({downloaded:%-d %b %Y}):"
                " if the bank did not pay it, have the bank pay it (download it again if need "
                "be) and mark the run paid. The run cannot be cancelled: the bank may already "
                "have paid it, and the month could then be prepared and paid again.",
                action="stipend_run.cancel",
                run=run,
            )
        old_status = run.status
        run.cancel()
        run.cancelled_at = timezone.now()
        run.cancellation_reason = reason
        run.save(update_fields=["status", "cancelled_at", "cancellation_reason"])
        audit_record(
            action="stipend_run.cancelled",
            entity=run,
            actor=actor,
            old_values={"status": old_status},
            new_values={"status": run.status, "reason": reason},
        )
    return run
