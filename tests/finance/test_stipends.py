"""Learners' stipends: who is due (learnerships only, learners still on the programme, the
learner's rate over the programme's, the rate in force that month), deductions for unexcused
absences of that month (never below 0), one run per month, approval by a second finance user,
the bank file (approved runs only, opened details, audited without numbers), marking paid
(one payment per line in the file) and cancelling; every refusal audited."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import AuditEvent
from cohorts.models import ProgramType
from delivery.models import AttendanceStatus, SessionStatus
from enrolments.models import CohortEnrollment, EnrollmentState, ProgrammeOutcome
from finance.models import (
    Payment,
    PaymentDirection,
    PaymentPurpose,
    StipendLine,
    StipendPayer,
    StipendRate,
    StipendRun,
    StipendRunStatus,
)
from finance.selectors.stipends import stipend_rate_list, stipends_due
from finance.services.stipends import (
    stipend_bank_file_make,
    stipend_rate_add,
    stipend_run_approve,
    stipend_run_cancel,
    stipend_run_mark_paid,
    stipend_run_prepare,
    stipend_run_recalculate,
)
from partners.bank import BankDetails, bank_details_seal
from partners.models import BankAccount
from tests.finance.stipend_support import (
    MARCH,
    PER_ABSENCE,
    RATE,
    absent_in,
    attended,
    bank_confirmed,
    deduction_set,
    programme_rate,
    second_learnership,
)
from tests.finance.support import finance_world

pytestmark = pytest.mark.django_db

APRIL = datetime.date(2027, 4, 1)


@pytest.fixture
def world(admin):
    return finance_world(admin, learners=3)


def _due(world) -> dict[int, object]:
    return {one.learner.pk: one for one in stipends_due(month=MARCH)}


def _approved(world) -> StipendRun:
    run = stipend_run_prepare(actor=world.finance, month=MARCH)
    return stipend_run_approve(actor=world.second_finance, run=run)


# --- Rates -----------------------------------------------------------------------------------


def test_a_rate_is_added_from_its_month_and_audited(world):
    rate = stipend_rate_add(
        actor=world.finance,
        programme=world.workplace.programme,
        monthly_amount=Decimal("2500.00"),
        starts_on=datetime.date(2027, 3, 17),
        paid_through=StipendPayer.SPONSOR,
    )
    assert rate.starts_on == MARCH
    assert rate.created_by == world.finance
    event = AuditEvent.objects.get(action="stipend_rate.added")
    assert event.new_values["monthly_amount"] == "2500.00"
    assert event.new_values["paid_through"] == "sponsor"


@pytest.mark.parametrize(
    ("amount", "message"),
    [(Decimal("-1.00"), "0 or more"), (Decimal("10.005"), "whole cents")],
)
def test_a_rate_needs_an_amount_of_0_or_more_in_whole_cents(world, amount, message):
    with pytest.raises(ValidationError, match=message):
        stipend_rate_add(
            actor=world.finance,
            programme=world.workplace.programme,
            monthly_amount=amount,
            starts_on=MARCH,
        )
    assert not StipendRate.objects.exists()


def test_a_rate_is_for_a_programme_or_a_learner_not_both(world):
    with pytest.raises(ValidationError, match="choose one"):
        stipend_rate_add(
            actor=world.finance,
            programme=world.workplace.programme,
            learner=world.learner.learner,
            monthly_amount=RATE,
            starts_on=MARCH,
        )


def test_only_finance_adds_rates_and_the_refusal_is_audited(world):
    with pytest.raises(PermissionDenied):
        stipend_rate_add(
            actor=world.admin,
            programme=world.workplace.programme,
            monthly_amount=RATE,
            starts_on=MARCH,
        )
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="stipend_rate.add"
    ).exists()


def test_the_rate_list_keeps_history_and_says_which_is_in_force(world):
    old = programme_rate(world, Decimal("2000.00"), starts_on=datetime.date(2027, 1, 1))
    current = programme_rate(world, Decimal("2500.00"), starts_on=datetime.date(2027, 3, 1))
    later = programme_rate(world, Decimal("2700.00"), starts_on=datetime.date(2027, 6, 1))
    own = StipendRate.objects.create(
        learner=world.learner.learner, monthly_amount=0, starts_on=MARCH
    )
    standing = {
        rate.pk: rate.standing for rate in stipend_rate_list(today=datetime.date(2027, 4, 9))
    }
    assert standing == {
        old.pk: "replaced",
        current.pk: "current",
        later.pk: "upcoming",
        own.pk: "current",
    }


# --- Who is due ------------------------------------------------------------------------------


def test_learners_of_a_learnership_with_a_rate_are_due_it(world):
    programme_rate(world)
    due = _due(world)
    assert set(due) == {p.learner.pk for p in world.placed}
    one = due[world.learner.learner.pk]
    assert (one.base_amount, one.amount, one.paid_through) == (RATE, RATE, "institution")


def test_nobody_is_due_without_a_rate_or_with_a_rate_of_0(world):
    assert _due(world) == {}
    programme_rate(world, Decimal("0.00"))
    assert _due(world) == {}


def test_an_internship_pays_no_stipend(world):
    programme_rate(world)
    cohort = world.workplace.run.cohort
    cohort.program_type = ProgramType.INTERNSHIP
    cohort.save(update_fields=["program_type"])
    assert _due(world) == {}


def test_only_learners_still_on_the_programme_are_due(world):
    programme_rate(world)
    waiting, withdrawn, finished = world.placed
    CohortEnrollment.objects.filter(learner=waiting.learner).update(state=EnrollmentState.WAITING)
    CohortEnrollment.objects.filter(learner=withdrawn.learner).update(
        state=EnrollmentState.WITHDRAWN
    )
    CohortEnrollment.objects.filter(learner=finished.learner).update(
        programme_outcome=ProgrammeOutcome.COMPLETED, completion_date=datetime.date(2027, 2, 26)
    )
    assert _due(world) == {}
    # Onboarding complete is still on the programme; finishing during the month still pays it.
    CohortEnrollment.objects.filter(learner=waiting.learner).update(state=EnrollmentState.COMPLETE)
    CohortEnrollment.objects.filter(learner=finished.learner).update(
        completion_date=datetime.date(2027, 3, 20)
    )
    assert set(_due(world)) == {waiting.learner.pk, finished.learner.pk}


def test_a_cohort_not_running_that_month_pays_nothing(world):
    programme_rate(world)
    cohort = world.workplace.run.cohort
    cohort.start_date, cohort.end_date = datetime.date(2027, 4, 1), datetime.date(2027, 11, 30)
    cohort.save(update_fields=["start_date", "end_date"])
    assert _due(world) == {}


def test_the_learners_own_rate_wins_over_the_programmes_and_the_month_picks_the_rate(world):
    programme_rate(world, Decimal("2000.00"), starts_on=datetime.date(2027, 1, 1))
    programme_rate(world, Decimal("2200.00"), starts_on=datetime.date(2027, 3, 1))
    programme_rate(world, Decimal("9999.00"), starts_on=datetime.date(2027, 4, 1))
    own, ended, _other = world.placed
    StipendRate.objects.create(
        learner=own.learner,
        monthly_amount=Decimal("3100.00"),
        starts_on=datetime.date(2027, 2, 1),
        paid_through=StipendPayer.SPONSOR,
    )
    StipendRate.objects.create(learner=own.learner, monthly_amount=1, starts_on=APRIL)
    StipendRate.objects.create(learner=ended.learner, monthly_amount=0, starts_on=MARCH)
    due = _due(world)
    assert ended.learner.pk not in due
    assert due[own.learner.pk].base_amount == Decimal("3100.00")
    assert due[own.learner.pk].paid_through == StipendPayer.SPONSOR
    assert due[_other.learner.pk].base_amount == Decimal("2200.00")


def test_each_unexcused_absence_of_the_month_is_deducted_line_by_line(world):
    programme_rate(world)
    deduction_set()
    placed = world.learner
    absent = attended(world, placed, datetime.date(2027, 3, 2), AttendanceStatus.ABSENT)
    attended(world, placed, datetime.date(2027, 3, 3), AttendanceStatus.EXCUSED)
    attended(world, placed, datetime.date(2027, 3, 4), AttendanceStatus.PRESENT)
    attended(world, placed, datetime.date(2027, 2, 26), AttendanceStatus.ABSENT)  # February
    attended(world, placed, datetime.date(2027, 4, 1), AttendanceStatus.ABSENT)  # April
    cancelled = attended(world, placed, datetime.date(2027, 3, 5), AttendanceStatus.ABSENT)
    cancelled.session.status = SessionStatus.CANCELLED
    cancelled.session.save(update_fields=["status"])
    attended(world, world.placed[1], datetime.date(2027, 3, 2), AttendanceStatus.ABSENT, hour=11)
    one = _due(world)[placed.learner.pk]
    assert [d.attendance_id for d in one.deductions] == [absent.pk]
    assert one.deductions[0].amount == PER_ABSENCE
    assert "Tue 2 Mar 2027" in one.deductions[0].description
    assert "WP101" in one.deductions[0].description
    assert one.amount == RATE - PER_ABSENCE


def test_deductions_never_take_a_stipend_below_0(world):
    programme_rate(world, Decimal("200.00"))
    deduction_set()
    for day in (2, 3):
        attended(world, world.learner, datetime.date(2027, 3, day), AttendanceStatus.ABSENT)
    one = _due(world)[world.learner.learner.pk]
    assert one.absences_total == Decimal("300.00")
    assert one.deducted == Decimal("200.00")
    assert one.amount == Decimal("0.00")


def test_a_line_records_only_what_is_taken_and_keeps_every_absence(world):
    programme_rate(world, Decimal("200.00"))
    deduction_set()
    for day in (2, 3):
        attended(world, world.learner, datetime.date(2027, 3, day), AttendanceStatus.ABSENT)
    run = stipend_run_prepare(actor=world.finance, month=MARCH)
    line = run.lines.get(learner=world.learner.learner)
    assert (line.base_amount, line.deductions, line.amount) == (
        Decimal("200.00"),
        Decimal("200.00"),
        Decimal("0.00"),
    )
    assert [item.amount for item in line.deduction_items.all()] == [PER_ABSENCE, PER_ABSENCE]


def test_a_learner_in_two_learnerships_is_paid_by_the_one_with_a_rate(world):
    """Their earliest learnership's programme has no rate: the other's pays them, and their
    absences in both are deducted."""
    programme_rate(world)
    deduction_set()
    placed = world.learner
    earlier = second_learnership(placed)
    absent_there = absent_in(earlier, datetime.date(2027, 3, 9))
    absent_here = attended(world, placed, datetime.date(2027, 3, 2), AttendanceStatus.ABSENT)
    absent_in(earlier, datetime.date(2027, 4, 6))  # April
    one = _due(world)[placed.learner.pk]
    assert one.cohort == world.workplace.run.cohort
    assert one.base_amount == RATE
    assert [d.attendance_id for d in one.deductions] == [absent_here.pk, absent_there.pk]
    assert one.amount == RATE - 2 * PER_ABSENCE
    assert len([d for d in stipends_due(month=MARCH) if d.learner == placed.learner]) == 1


def test_a_learner_in_two_learnerships_with_rates_is_paid_once_by_the_earliest(world):
    programme_rate(world)
    earlier = second_learnership(world.learner)
    StipendRate.objects.create(
        programme=earlier.course_run.cohort.programme,
        monthly_amount=Decimal("1800.00"),
        starts_on=datetime.date(2027, 1, 1),
    )
    due = [d for d in stipends_due(month=MARCH) if d.learner == world.learner.learner]
    assert [(d.cohort, d.base_amount) for d in due] == [
        (earlier.course_run.cohort, Decimal("1800.00"))
    ]


def test_no_deduction_when_the_setting_is_0(world):
    programme_rate(world)
    attended(world, world.learner, datetime.date(2027, 3, 2), AttendanceStatus.ABSENT)
    assert _due(world)[world.learner.learner.pk].deductions == []


# --- Runs ------------------------------------------------------------------------------------


def test_preparing_a_run_writes_a_line_per_learner_with_its_deductions(world):
    programme_rate(world)
    deduction_set()
    absence = attended(world, world.learner, datetime.date(2027, 3, 2), AttendanceStatus.ABSENT)
    run = stipend_run_prepare(actor=world.finance, month=datetime.date(2027, 3, 15))
    assert (run.month, run.status, run.prepared_by) == (MARCH, "draft", world.finance)
    assert run.lines.count() == 3
    assert run.total == 3 * RATE - PER_ABSENCE
    line = run.lines.get(learner=world.learner.learner)
    assert (line.base_amount, line.deductions, line.amount) == (RATE, PER_ABSENCE, RATE - 150)
    assert line.cohort == world.workplace.run.cohort
    assert [d.attendance_id for d in line.deduction_items.all()] == [absence.pk]
    event = AuditEvent.objects.get(action="stipend_run.prepared")
    assert event.new_values["lines"] == 3


def test_one_run_per_month_until_it_is_cancelled(world):
    programme_rate(world)
    run = stipend_run_prepare(actor=world.finance, month=MARCH)
    with pytest.raises(ValidationError, match="already a stipend run for March 2027"):
        stipend_run_prepare(actor=world.second_finance, month=MARCH)
    assert AuditEvent.objects.filter(action="stipend_run.prepare.refused").exists()
    stipend_run_cancel(actor=world.finance, run=run, reason="Attendance corrected.")
    again = stipend_run_prepare(actor=world.finance, month=MARCH)
    assert again.pk != run.pk


def test_a_month_nobody_is_due_is_refused_and_audited(world):
    with pytest.raises(ValidationError, match="Nobody is due a stipend for March 2027"):
        stipend_run_prepare(actor=world.finance, month=MARCH)
    assert AuditEvent.objects.filter(action="stipend_run.prepare.refused").exists()
    assert not StipendRun.objects.exists()


def test_only_finance_prepares_a_run(world):
    programme_rate(world)
    with pytest.raises(PermissionDenied):
        stipend_run_prepare(actor=world.admin, month=MARCH)
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="stipend_run.prepare"
    ).exists()


def test_recalculating_a_draft_takes_new_rates_and_attendance(world):
    programme_rate(world)
    run = stipend_run_prepare(actor=world.finance, month=MARCH)
    deduction_set()
    attended(world, world.learner, datetime.date(2027, 3, 2), AttendanceStatus.ABSENT)
    StipendRate.objects.create(
        learner=world.placed[2].learner, monthly_amount=Decimal("0"), starts_on=MARCH
    )
    run = stipend_run_recalculate(actor=world.second_finance, run=run)
    assert run.lines.count() == 2
    assert run.total == 2 * RATE - PER_ABSENCE
    assert run.prepared_by == world.second_finance
    event = AuditEvent.objects.get(action="stipend_run.recalculated")
    assert event.old_values == {"lines": 3, "total": "7500.00"}


def test_an_approved_run_is_not_recalculated(world):
    programme_rate(world)
    run = _approved(world)
    with pytest.raises(ValidationError, match="is approved: it cannot be recalculated"):
        stipend_run_recalculate(actor=world.finance, run=run)
    assert AuditEvent.objects.filter(action="stipend_run.recalculate.refused").exists()


def test_the_preparer_cannot_approve_and_the_refusal_is_audited(world):
    programme_rate(world)
    run = stipend_run_prepare(actor=world.finance, month=MARCH)
    with pytest.raises(ValidationError, match="another finance user must approve it"):
        stipend_run_approve(actor=world.finance, run=run)
    event = AuditEvent.objects.get(action="stipend_run.approve.refused")
    assert event.actor == world.finance
    assert event.entity_id == str(run.pk)
    assert StipendRun.objects.get(pk=run.pk).status == StipendRunStatus.DRAFT


def test_a_second_finance_user_approves_once(world):
    programme_rate(world)
    run = _approved(world)
    assert (run.status, run.approved_by) == ("approved", world.second_finance)
    assert AuditEvent.objects.filter(action="stipend_run.approved").exists()
    with pytest.raises(ValidationError, match="is approved: it cannot be approved"):
        stipend_run_approve(actor=world.second_finance, run=run)


def test_an_admin_cannot_approve(world):
    programme_rate(world)
    run = stipend_run_prepare(actor=world.finance, month=MARCH)
    with pytest.raises(PermissionDenied):
        stipend_run_approve(actor=world.admin, run=run)


def test_an_empty_run_is_not_approved(world):
    programme_rate(world)
    run = stipend_run_prepare(actor=world.finance, month=MARCH)
    StipendRate.objects.all().delete()
    run = stipend_run_recalculate(actor=world.finance, run=run)
    with pytest.raises(ValidationError, match="nothing to approve"):
        stipend_run_approve(actor=world.second_finance, run=run)


# --- The bank file ---------------------------------------------------------------------------


def _rows(bank_file) -> list[list[str]]:
    return list(csv.reader(io.StringIO(bank_file.content.decode())))


def test_the_bank_file_needs_an_approved_run(world):
    programme_rate(world)
    bank_confirmed(world, world.learner)
    run = stipend_run_prepare(actor=world.finance, month=MARCH)
    with pytest.raises(ValidationError, match="once a second finance user has approved"):
        stipend_bank_file_make(actor=world.finance, run=run)
    assert AuditEvent.objects.filter(action="stipend_run.bank_file.refused").exists()
    run.refresh_from_db(fields=["exported_at"])
    assert run.exported_at is None


def test_the_bank_file_holds_institution_paid_lines_to_confirmed_details(world):
    programme_rate(world)
    deduction_set()
    attended(world, world.learner, datetime.date(2027, 3, 2), AttendanceStatus.ABSENT)
    with_bank, no_bank, by_sponsor = world.placed
    bank_confirmed(world, with_bank, "62000012345")
    bank_confirmed(world, by_sponsor, "62000099999")
    StipendRate.objects.create(
        learner=by_sponsor.learner,
        monthly_amount=RATE,
        starts_on=MARCH,
        paid_through=StipendPayer.SPONSOR,
    )
    run = _approved(world)
    bank_file = stipend_bank_file_make(actor=world.finance, run=run)
    assert _rows(bank_file) == [
        [
            "Beneficiary name",
            "Bank",
            "Branch code",
            "Account number",
            "Account type",
            "Amount",
            "Reference",
        ],
        [
            with_bank.learner.full_name,
            "Capitec Bank",
            "470010",
            "62000012345",
            "savings",
            "2350.00",
            f"STIPEND 2027-03 L{with_bank.learner.pk}",
        ],
    ]
    assert (bank_file.rows, bank_file.total) == (1, Decimal("2350.00"))
    assert bank_file.filename == "stipends-2027-03-bank-file.csv"
    event = AuditEvent.objects.get(action="stipend_run.bank_file_downloaded")
    assert event.actor == world.finance
    assert event.new_values == {"rows": 1, "total": "2350.00", "currency": "ZAR"}
    assert "62000012345" not in str(event.new_values) + str(event.old_values)
    run.refresh_from_db(fields=["exported_at"])
    assert run.exported_at is not None
    assert run.lines.filter(learner=no_bank.learner).exists()  # a line, not in the file


def test_a_name_that_looks_like_a_formula_is_written_as_text(world):
    programme_rate(world)
    placed = world.learner
    placed.learner.first_name = "=HYPERLINK"
    placed.learner.save(update_fields=["first_name"])
    bank_confirmed(world, placed)
    BankAccount.objects.filter(learner=placed.learner).update(
        sealed=bank_details_seal(
            BankDetails("=HYPERLINK(1)", "Capitec Bank", "470010", "1234567890", "savings")
        )
    )
    run = _approved(world)
    assert _rows(stipend_bank_file_make(actor=world.finance, run=run))[1][0] == "'=HYPERLINK(1)"


# --- Marking paid ----------------------------------------------------------------------------


def test_marking_paid_records_a_payment_per_line_in_the_bank_file(world):
    programme_rate(world)
    with_bank, no_bank, _third = world.placed
    bank_confirmed(world, with_bank)
    bank_confirmed(world, _third, "9876543210")
    run = _approved(world)
    stipend_bank_file_make(actor=world.second_finance, run=run)
    today = timezone.localdate()
    run = stipend_run_mark_paid(
        actor=world.finance, run=run, paid_on=today, leave_out_unbanked=True
    )
    assert run.status == StipendRunStatus.PAID
    payments = Payment.objects.order_by("pk")
    assert payments.count() == 2
    for payment in payments:
        assert payment.direction == PaymentDirection.PAID_OUT
        assert payment.purpose == PaymentPurpose.STIPEND
        assert (payment.amount, payment.paid_on, payment.currency) == (RATE, today, "ZAR")
        assert payment.reference == f"STIPEND 2027-03 L{payment.learner_id}"
    assert {p.learner_id for p in payments} == {with_bank.learner.pk, _third.learner.pk}
    unpaid = StipendLine.objects.get(run=run, learner=no_bank.learner)
    assert unpaid.payment is None
    assert StipendLine.objects.filter(run=run, payment__isnull=False).count() == 2
    event = AuditEvent.objects.get(action="stipend_run.paid")
    assert event.new_values["payments"] == 2
    assert event.new_values["left_out_learners"] == [no_bank.learner.pk]
    assert AuditEvent.objects.filter(action="payment.recorded").count() == 2


def test_learners_without_bank_details_are_left_out_only_when_finance_says_so(world):
    programme_rate(world)
    with_bank, no_bank, no_bank_either = world.placed
    bank_confirmed(world, with_bank)
    run = _approved(world)
    stipend_bank_file_make(actor=world.second_finance, run=run)
    with pytest.raises(ValidationError, match="2 learners the institution pays have no confirmed"):
        stipend_run_mark_paid(actor=world.finance, run=run, paid_on=timezone.localdate())
    refusal = AuditEvent.objects.get(action="stipend_run.mark_paid.refused")
    assert "confirm that you leave them out" in str(refusal.new_values)
    run.refresh_from_db()
    assert run.status == StipendRunStatus.APPROVED
    assert not Payment.objects.exists()
    stipend_run_mark_paid(
        actor=world.finance, run=run, paid_on=timezone.localdate(), leave_out_unbanked=True
    )
    event = AuditEvent.objects.get(action="stipend_run.paid")
    assert sorted(event.new_values["left_out_learners"]) == sorted(
        [no_bank.learner.pk, no_bank_either.learner.pk]
    )
    assert no_bank.learner.full_name not in str(event.new_values)


def test_sponsor_paid_or_nil_lines_without_bank_details_need_no_confirmation(world):
    programme_rate(world, paid_through=StipendPayer.SPONSOR)
    run = _approved(world)
    run = stipend_run_mark_paid(actor=world.finance, run=run, paid_on=timezone.localdate())
    assert run.status == StipendRunStatus.PAID
    assert AuditEvent.objects.get(action="stipend_run.paid").new_values["left_out_learners"] == []


def test_marking_paid_needs_the_bank_file_first(world):
    programme_rate(world)
    bank_confirmed(world, world.learner)
    run = _approved(world)
    with pytest.raises(ValidationError, match="Download the bank file"):
        stipend_run_mark_paid(actor=world.finance, run=run, paid_on=timezone.localdate())
    assert AuditEvent.objects.filter(action="stipend_run.mark_paid.refused").exists()
    assert not Payment.objects.exists()


def test_bank_details_confirmed_after_the_file_was_made_need_a_new_file(world):
    programme_rate(world)
    bank_confirmed(world, world.learner)
    run = _approved(world)
    stipend_bank_file_make(actor=world.finance, run=run)
    bank_confirmed(world, world.placed[1])
    paid = {"paid_on": timezone.localdate(), "leave_out_unbanked": True}
    with pytest.raises(ValidationError, match="download it again"):
        stipend_run_mark_paid(actor=world.finance, run=run, **paid)
    stipend_bank_file_make(actor=world.finance, run=run)
    run = stipend_run_mark_paid(actor=world.finance, run=run, **paid)
    assert Payment.objects.count() == 2


def test_a_draft_or_a_future_date_is_not_marked_paid(world):
    programme_rate(world)
    run = stipend_run_prepare(actor=world.finance, month=MARCH)
    with pytest.raises(ValidationError, match="is draft: it cannot be marked paid"):
        stipend_run_mark_paid(actor=world.finance, run=run, paid_on=timezone.localdate())
    run = stipend_run_approve(actor=world.second_finance, run=run)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="cannot be in the future"):
        stipend_run_mark_paid(actor=world.finance, run=run, paid_on=tomorrow)
    assert AuditEvent.objects.filter(action="stipend_run.mark_paid.refused").count() == 2


# --- Cancelling ------------------------------------------------------------------------------


def test_cancelling_keeps_the_reason_and_is_audited(world):
    programme_rate(world)
    run = _approved(world)
    run = stipend_run_cancel(actor=world.finance, run=run, reason="  Wrong month.  ")
    assert run.status == StipendRunStatus.CANCELLED
    assert run.cancellation_reason == "Wrong month."
    event = AuditEvent.objects.get(action="stipend_run.cancelled")
    assert event.old_values == {"status": "approved"}


def test_cancelling_needs_a_reason_and_a_run_not_paid(world):
    programme_rate(world)
    bank_confirmed(world, world.learner)
    run = _approved(world)
    with pytest.raises(ValidationError, match="Say why"):
        stipend_run_cancel(actor=world.finance, run=run, reason=" ")
    stipend_bank_file_make(actor=world.finance, run=run)
    stipend_run_mark_paid(
        actor=world.finance, run=run, paid_on=timezone.localdate(), leave_out_unbanked=True
    )
    with pytest.raises(ValidationError, match="is paid: it cannot be cancelled"):
        stipend_run_cancel(actor=world.finance, run=run, reason="Too late.")
    assert AuditEvent.objects.filter(action="stipend_run.cancel.refused").exists()


def test_a_run_whose_bank_file_was_downloaded_is_not_cancelled(world):
    programme_rate(world)
    bank_confirmed(world, world.learner)
    run = _approved(world)
    stipend_bank_file_make(actor=world.finance, run=run)
    with pytest.raises(
        ValidationError, match="The bank file has been downloaded .*: if the bank did not pay it"
    ):
        stipend_run_cancel(actor=world.finance, run=run, reason="Wrong amounts.")
    run.refresh_from_db()
    assert run.status == StipendRunStatus.APPROVED
    assert run.cancellation_reason == ""
    assert AuditEvent.objects.filter(action="stipend_run.cancel.refused").count() == 1
    assert not AuditEvent.objects.filter(action="stipend_run.cancelled").exists()
    with pytest.raises(ValidationError, match="There is already a stipend run"):
        stipend_run_prepare(actor=world.finance, month=MARCH)
