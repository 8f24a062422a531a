"""Commissions accrue by each partner's rule when a placement is confirmed or an enrolment
starts (through the services that send the signals), once per partner and source; they are
cancelled while owed, and paid out by one payment that marks them paid. Every refusal is
audited."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from delivery.models import CourseEnrollment, CourseEnrollmentStatus
from enrolments.models import CohortEnrollment, EnrollmentState
from enrolments.services import enrollment_details_save
from enrolments.signals import enrollment_started
from finance.models import (
    Commission,
    CommissionStatus,
    Payment,
    PaymentDirection,
    PaymentPurpose,
)
from finance.services.commissions import commission_cancel, commissions_pay
from partners.models import (
    BankAccount,
    CommissionBasis,
    CommissionTrigger,
    LearnerIntroduction,
    Partner,
    PartnerKind,
    PaymentMethod,
)
from placements.models import Placement
from placements.services.placements import placement_confirm
from placements.signals import placement_confirmed
from tests.delivery.runs_support import enrol
from tests.factories import CourseRunFactory
from tests.finance.support import Finance, finance_world, partner_make
from tests.learners.support import details_of
from tests.placements.placements.support import world as placements_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin) -> Finance:
    return finance_world(admin)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def confirmed_again(placement: Placement, actor) -> None:
    """The signal sent again for a placement, as a second confirmation would."""
    with transaction.atomic():
        placement_confirmed.send(sender=Placement, placement=placement, actor=actor)


def bank_account_for(partner: Partner, confirmed_by) -> BankAccount:
    account: BankAccount = BankAccount.objects.create(
        partner=partner,
        bank_name="FNB",
        account_last4="6789",
        sealed=b"sealed",
        confirmed_by=confirmed_by,
        confirmed_at=timezone.now(),
    )
    return account


def broker_paid_per_placement(code: str = "BR-001", **fields) -> Partner:
    """A broker earning R750 on each placement confirmed."""
    return partner_make(
        PartnerKind.BROKER,
        code,
        commission_trigger=CommissionTrigger.PLACEMENT,
        commission_basis=CommissionBasis.FIXED,
        commission_value=Decimal("750.00"),
        **fields,
    )


def paid_in_cash(world: Finance, *commissions: Commission, actor=None) -> Payment:
    return commissions_pay(
        actor=actor or world.finance,
        partner=world.broker,
        commission_ids=[commission.pk for commission in commissions],
        method=PaymentMethod.CASH,
        paid_on=timezone.localdate(),
    )


# --- Accrual ---------------------------------------------------------------------------------


def test_a_confirmed_placement_accrues_the_brokers_fixed_commission(admin):
    here = placements_world(admin)
    learner = here.learner("Ayanda Dube")
    broker = broker_paid_per_placement("BR-777")
    LearnerIntroduction.objects.create(learner=learner, broker=broker)
    placement = here.propose(learner)

    placement_confirm(placement=placement, actor=here.member)

    commission = Commission.objects.get(partner=broker)
    assert commission.placement == placement
    assert commission.learner == learner
    assert commission.amount == Decimal("750.00")
    assert commission.currency == "ZAR"
    assert commission.basis == "R750,00 per placement confirmed"
    assert commission.status == CommissionStatus.ACCRUED
    assert commission.accrued_on == timezone.localdate()
    [event] = events("commission.accrued")
    assert event.actor == here.member
    assert event.entity_id == str(commission.pk)
    assert event.new_values["placement"] == placement.pk
    assert event.new_values["amount"] == "750.00"


def test_resending_the_placement_signal_accrues_nothing_more(world):
    placement = world.learner.placement
    confirmed_again(placement, world.admin)
    confirmed_again(placement, world.admin)
    assert Commission.objects.filter(partner=world.broker, placement=placement).count() == 1
    assert len(events("commission.accrued")) == 1
    # The agent is paid on enrolments, not placements.
    assert not Commission.objects.filter(partner=world.agent).exists()


def test_a_failed_confirmation_accrues_nothing(admin):
    here = placements_world(admin)
    learner = here.learner(cleared=False)
    LearnerIntroduction.objects.create(
        learner=learner,
        broker=broker_paid_per_placement("BR-778"),
    )
    placement = here.propose(learner)
    with pytest.raises(ValidationError):
        placement_confirm(placement=placement, actor=here.member)
    assert not Commission.objects.exists()


def test_a_percentage_on_a_placement_is_of_the_learners_fees_in_the_placements_cohort(world):
    world.broker.commission_basis = CommissionBasis.PERCENT_OF_FEE
    world.broker.commission_value = Decimal("12.50")
    world.broker.save()
    placed = world.learner
    confirmed_again(placed.placement, world.admin)
    commission = Commission.objects.get(partner=world.broker)
    assert commission.amount == Decimal("562.50")
    assert commission.basis == "12,5% of R4\xa0500,00"


def test_a_percentage_leaves_out_the_fees_of_dropped_course_enrolments(world):
    world.broker.commission_basis = CommissionBasis.PERCENT_OF_FEE
    world.broker.commission_value = Decimal("10")
    world.broker.save()
    placed = world.learner
    other_run = CourseRunFactory(cohort=world.workplace.run.cohort)
    CourseEnrollment.objects.create(
        enrollment=placed.course_enrollment.enrollment,
        course=other_run.course,
        academic_session=other_run.academic_session,
        course_run=other_run,
        enrollment_date=other_run.start_date,
        fee_amount=Decimal("2000.00"),
        fee_currency="ZAR",
        status=CourseEnrollmentStatus.DROPPED,
    )
    confirmed_again(placed.placement, world.admin)
    commission = Commission.objects.get(partner=world.broker)
    assert commission.amount == Decimal("450.00")
    assert commission.basis == "10% of R4\xa0500,00"


def test_the_enrolment_starting_accrues_the_agents_percentage_of_the_programme_fee(world):
    enrollment = enrol(world.admin, world.workplace.run.cohort, full_name="Zola Newcomer")
    LearnerIntroduction.objects.create(
        learner=enrollment.learner, agent=world.agent, broker=world.broker
    )
    assert enrollment.state == EnrollmentState.WAITING

    enrollment_details_save(enrollment=enrollment, actor=enrollment.user, details=details_of())

    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.IN_PROGRESS
    commission = Commission.objects.get(partner=world.agent)
    assert commission.enrollment == enrollment
    assert commission.amount == Decimal("450.00")
    assert commission.basis == "10% of R4\xa0500,00 (the programme's fee)"
    [event] = events("commission.accrued")
    assert event.actor == enrollment.user
    assert event.new_values["enrollment"] == enrollment.pk
    # The broker is paid on placements: nothing for an enrolment.
    assert not Commission.objects.filter(partner=world.broker).exists()

    # Sent again, the signal accrues nothing more.
    with transaction.atomic():
        enrollment_started.send(CohortEnrollment, enrollment=enrollment, actor=enrollment.user)
    assert Commission.objects.filter(partner=world.agent).count() == 1


def test_the_percentage_is_of_the_sum_of_the_learners_course_fees_in_the_cohort(world):
    enrollment = enrol(world.admin, world.workplace.run.cohort)
    LearnerIntroduction.objects.create(learner=enrollment.learner, agent=world.agent)
    run = world.workplace.run
    CourseEnrollment.objects.create(
        enrollment=enrollment,
        course=run.course,
        academic_session=run.academic_session,
        course_run=run,
        enrollment_date=run.start_date,
        fee_amount=Decimal("3210.55"),
    )
    enrollment_details_save(enrollment=enrollment, actor=enrollment.user, details=details_of())
    commission = Commission.objects.get(partner=world.agent)
    assert commission.amount == Decimal("321.06")  # 321.055, rounded half up
    assert commission.basis == "10% of R3\xa0210,55"


def test_no_fee_accrues_nothing_and_the_audit_says_why(world):
    programme = world.workplace.programme
    programme.fee_amount = None
    programme.save(update_fields=["fee_amount"])
    enrollment = enrol(world.admin, world.workplace.run.cohort)
    LearnerIntroduction.objects.create(learner=enrollment.learner, agent=world.agent)

    enrollment_details_save(enrollment=enrollment, actor=enrollment.user, details=details_of())

    assert not Commission.objects.exists()
    [event] = events("commission.not_accrued")
    assert event.entity_type == "partners.partner"
    assert event.entity_id == str(world.agent.pk)
    assert event.new_values["enrollment"] == enrollment.pk
    assert "neither" in event.new_values["reason"]
    assert "have a fee" in event.new_values["reason"]


def test_a_fee_in_another_currency_than_the_partners_accrues_nothing(world):
    world.agent.currency = "USD"
    world.agent.save(update_fields=["currency"])
    enrollment = enrol(world.admin, world.workplace.run.cohort)
    LearnerIntroduction.objects.create(learner=enrollment.learner, agent=world.agent)
    enrollment_details_save(enrollment=enrollment, actor=enrollment.user, details=details_of())
    assert not Commission.objects.exists()
    [event] = events("commission.not_accrued")
    assert event.new_values["reason"] == "the learner's fee is in ZAR, the partner is paid in USD"


def test_an_inactive_partner_accrues_nothing(world):
    world.broker.is_active = False
    world.broker.save(update_fields=["is_active"])
    confirmed_again(world.learner.placement, world.admin)
    assert not Commission.objects.exists()
    assert not events("commission.accrued")


def test_a_partner_without_commission_accrues_nothing(world):
    world.broker.commission_trigger = CommissionTrigger.NONE
    world.broker.save(update_fields=["commission_trigger"])
    confirmed_again(world.learner.placement, world.admin)
    assert not Commission.objects.exists()


def test_a_learner_nobody_brought_earns_nobody_commission(world):
    LearnerIntroduction.objects.all().delete()
    confirmed_again(world.learner.placement, world.admin)
    assert not Commission.objects.exists()


# --- Cancelling ------------------------------------------------------------------------------


@pytest.fixture
def owed(world) -> list[Commission]:
    """Three of the broker's commissions owed, one per placed learner."""
    for placed in world.learners_add(2):
        confirmed_again(placed.placement, world.admin)
    confirmed_again(world.learner.placement, world.admin)
    return list(Commission.objects.filter(partner=world.broker).order_by("pk"))


def test_finance_cancels_a_commission_owed_with_a_reason(world, owed):
    cancelled = commission_cancel(
        actor=world.finance, commission=owed[0], reason=" Placement terminated in week one. "
    )
    assert cancelled.status == CommissionStatus.CANCELLED
    [event] = events("commission.cancelled")
    assert event.actor == world.finance
    assert event.new_values == {
        "status": "cancelled",
        "reason": "Placement terminated in week one.",
    }


def test_cancelling_needs_a_reason(world, owed):
    with pytest.raises(ValidationError, match="Say why"):
        commission_cancel(actor=world.finance, commission=owed[0], reason="  ")
    owed[0].refresh_from_db()
    assert owed[0].status == CommissionStatus.ACCRUED


def test_only_finance_cancels_and_the_refusal_is_audited(world, owed):
    with pytest.raises(PermissionDenied):
        commission_cancel(actor=world.admin, commission=owed[0], reason="No")
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="commission.cancel", actor=world.admin
    ).exists()


def test_a_paid_commission_cannot_be_cancelled_and_the_refusal_is_audited(world, owed):
    paid_in_cash(world, owed[0])
    with pytest.raises(ValidationError, match="is paid: only a commission still owed"):
        commission_cancel(actor=world.finance, commission=owed[0], reason="Changed our minds")
    [event] = events("commission.cancel.refused")
    assert event.entity_id == str(owed[0].pk)
    assert event.actor == world.finance
    assert "only a commission still owed" in event.new_values["reason"]


# --- Paying out ------------------------------------------------------------------------------


def test_paying_records_one_payment_out_and_marks_the_commissions_paid(world, owed):
    bank_account_for(world.broker, world.second_finance)
    paid_on = datetime.date(2027, 4, 5)
    payment = commissions_pay(
        actor=world.finance,
        partner=world.broker,
        commission_ids=[owed[0].pk, owed[2].pk],
        method=PaymentMethod.EFT,
        paid_on=paid_on,
        reference=" BR-001 April ",
    )
    assert payment.direction == PaymentDirection.PAID_OUT
    assert payment.purpose == PaymentPurpose.COMMISSION
    assert payment.partner == world.broker
    assert payment.amount == Decimal("1500.00")
    assert payment.currency == "ZAR"
    assert payment.reference == "BR-001 April"
    assert payment.recorded_by == world.finance
    statuses = dict(Commission.objects.values_list("pk", "status"))
    assert statuses == {
        owed[0].pk: CommissionStatus.PAID,
        owed[1].pk: CommissionStatus.ACCRUED,
        owed[2].pk: CommissionStatus.PAID,
    }
    assert set(payment.commissions.values_list("pk", flat=True)) == {owed[0].pk, owed[2].pk}
    [event] = events("commission.paid")
    assert event.entity_id == str(payment.pk)
    assert event.new_values["commissions"] == [owed[0].pk, owed[2].pk]
    assert events("payment.recorded")


def refused_payout(world, **changes) -> str:
    arguments = {
        "actor": world.finance,
        "partner": world.broker,
        "commission_ids": [],
        "method": PaymentMethod.CASH,
        "paid_on": timezone.localdate(),
        **changes,
    }
    with pytest.raises(ValidationError) as refusal:
        commissions_pay(**arguments)
    [event] = events("commission.pay.refused")
    assert event.entity_type == "partners.partner"
    assert event.entity_id == str(arguments["partner"].pk)
    assert event.actor == world.finance
    assert event.new_values["reason"] == refusal.value.messages[0]
    assert not Payment.objects.exists()
    return refusal.value.messages[0]


def test_a_payout_of_nothing_is_refused_and_audited(world, owed):
    assert refused_payout(world) == "Choose at least one commission to pay."


def test_a_payout_of_a_commission_already_paid_is_refused_and_audited(world, owed):
    paid_in_cash(world, owed[0])
    with pytest.raises(ValidationError, match="already paid or cancelled"):
        paid_in_cash(world, owed[0], owed[1])
    [event] = events("commission.pay.refused")
    assert "1 of the commissions chosen is already paid" in event.new_values["reason"]
    assert Payment.objects.count() == 1
    owed[1].refresh_from_db()
    assert owed[1].status == CommissionStatus.ACCRUED


def test_a_payout_in_mixed_currencies_is_refused_and_audited(world, owed):
    Commission.objects.filter(pk=owed[1].pk).update(currency="USD")
    message = refused_payout(world, commission_ids=[owed[0].pk, owed[1].pk])
    assert message == (
        "The commissions chosen are in more than one currency (USD, ZAR): pay each currency "
        "separately."
    )
    assert Commission.objects.filter(status=CommissionStatus.ACCRUED).count() == 3


def test_a_payout_by_bank_transfer_needs_a_confirmed_bank_account(world, owed):
    message = refused_payout(world, commission_ids=[owed[0].pk], method=PaymentMethod.EFT)
    assert "Bridge Placements has no confirmed bank account" in message


def test_a_payout_of_another_partners_commission_is_refused(world, owed):
    message = refused_payout(world, partner=world.agent, commission_ids=[owed[0].pk])
    assert message == "Some of the commissions chosen are not Ikhaya Recruitment's."


def test_only_finance_pays_commissions(world, owed):
    with pytest.raises(PermissionDenied):
        paid_in_cash(world, owed[0], actor=world.admin)
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="commission.pay", actor=world.admin
    ).exists()
    assert not Payment.objects.exists()


def test_a_cancelled_commission_cannot_be_paid(world, owed):
    commission_cancel(actor=world.finance, commission=owed[0], reason="Placement fell through")
    message = refused_payout(world, commission_ids=[owed[0].pk])
    assert "already paid or cancelled" in message
