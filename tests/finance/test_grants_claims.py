"""Grant agreements and their claims' way to the SETA: an agreement is unique per SETA and
reference; due claims are submitted only with their evidence (a refusal names what is missing
and is audited), submitted ones are paid (one payment received from the SETA, of their total,
linked from each) or rejected with a reason and submitted again."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from finance.models import (
    GrantAgreement,
    GrantClaimStatus,
    GrantMilestone,
    Payment,
    PaymentDirection,
    PaymentPurpose,
)
from finance.selectors.grants import grant_claims_evidence
from finance.services.grants import (
    AgreementInput,
    grant_agreement_create,
    grant_agreement_update,
    grant_claims_bring_up_to_date,
    grant_claims_mark_paid,
    grant_claims_reject,
    grant_claims_resubmit,
    grant_claims_submit,
)
from tests.finance.grants_support import (
    MIDPOINT,
    REGISTRATION,
    agreement_make,
    attendance_marked,
    completed,
    grants_world,
    registration_evidence,
)
from tests.workplace.support import ENDS_ON

pytestmark = pytest.mark.django_db

SUBMITTED_ON = datetime.date(2026, 11, 10)
PAID_ON = datetime.date(2026, 11, 20)


@pytest.fixture
def world(admin):
    return grants_world(admin)


def agreement_input(world, **overrides) -> AgreementInput:
    fields = {
        "cohort": world.workplace.run.cohort,
        "seta": "  MICT   SETA ",
        "reference": "MICT-DG-2027-014",
        "registration_amount": Decimal("5000.00"),
        "midpoint_amount": Decimal("7500.00"),
        "completion_amount": Decimal("12500.00"),
        "currency": "zar",
    }
    return AgreementInput(**{**fields, **overrides})


def test_an_agreement_is_created_tidied_and_audited(world):
    agreement = grant_agreement_create(actor=world.finance, data=agreement_input(world))
    assert (agreement.seta, agreement.currency) == ("MICT SETA", "ZAR")
    event = AuditEvent.objects.get(action="grant_agreement.created")
    assert event.entity_id == str(agreement.pk)
    assert event.new_values["registration_amount"] == "5000.00"


def test_an_agreement_reference_is_unique_per_seta(world):
    grant_agreement_create(actor=world.finance, data=agreement_input(world))
    with pytest.raises(ValidationError) as refused:
        grant_agreement_create(actor=world.finance, data=agreement_input(world, seta="mict seta"))
    assert "already has an agreement MICT-DG-2027-014" in refused.value.message_dict["reference"][0]
    other = grant_agreement_create(
        actor=world.finance, data=agreement_input(world, seta="W&R SETA")
    )
    assert other.reference == "MICT-DG-2027-014"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"seta": " "}, "seta", "Name the SETA"),
        ({"reference": ""}, "reference", "Give the SETA's grant agreement number"),
        ({"midpoint_amount": Decimal("-1")}, "midpoint_amount", "cannot be negative"),
        ({"completion_amount": Decimal("1.005")}, "completion_amount", "whole cents"),
        ({"currency": "ZZZ"}, "currency", "is not a currency"),
        (
            {
                "registration_amount": Decimal(0),
                "midpoint_amount": Decimal(0),
                "completion_amount": Decimal(0),
            },
            "registration_amount",
            "at least one milestone",
        ),
    ],
)
def test_a_wrong_agreement_is_refused_beside_its_field(world, overrides, field, message):
    with pytest.raises(ValidationError) as refused:
        grant_agreement_create(actor=world.finance, data=agreement_input(world, **overrides))
    assert message in refused.value.message_dict[field][0]
    assert not GrantAgreement.objects.exists()


def test_only_finance_creates_or_changes_an_agreement(world):
    with pytest.raises(PermissionDenied):
        grant_agreement_create(actor=world.admin, data=agreement_input(world))
    agreement = agreement_make(world)
    with pytest.raises(PermissionDenied):
        grant_agreement_update(
            actor=world.admin, agreement=agreement, data=agreement_input(world, seta="X")
        )
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="grant_agreement.update"
    ).exists()


def test_an_agreement_change_is_audited_and_its_cohort_stays_once_claimed(world, active_cohort):
    agreement = agreement_make(world)
    updated = grant_agreement_update(
        actor=world.finance,
        agreement=agreement,
        data=agreement_input(world, registration_amount=Decimal("6000.00")),
    )
    assert updated.registration_amount == Decimal("6000.00")
    event = AuditEvent.objects.get(action="grant_agreement.updated")
    assert event.old_values == {"registration_amount": "5000.00"}
    assert event.new_values == {"registration_amount": "6000.00"}
    grant_claims_bring_up_to_date(agreement=agreement, today=MIDPOINT)
    with pytest.raises(ValidationError, match="its cohort cannot change"):
        grant_agreement_update(
            actor=world.finance,
            agreement=agreement,
            data=agreement_input(world, cohort=active_cohort()),
        )


def test_an_agreement_keeps_its_currency_once_claimed(world):
    agreement = agreement_make(world)
    moved = grant_agreement_update(
        actor=world.finance, agreement=agreement, data=agreement_input(world, currency="USD")
    )
    assert moved.currency == "USD"
    grant_claims_bring_up_to_date(agreement=agreement, today=MIDPOINT)
    with pytest.raises(ValidationError, match="made under this agreement in USD") as refused:
        grant_agreement_update(
            actor=world.finance, agreement=moved, data=agreement_input(world, currency="ZAR")
        )
    assert "currency" in refused.value.error_dict
    moved.refresh_from_db()
    assert moved.currency == "USD"
    kept = grant_agreement_update(
        actor=world.finance,
        agreement=moved,
        data=agreement_input(world, currency="USD", reference="MICT-DG-2027-015"),
    )
    assert kept.reference == "MICT-DG-2027-015"


def due_claims(world, *, today=MIDPOINT):
    agreement = agreement_make(world)
    grant_claims_bring_up_to_date(agreement=agreement, today=today)
    return agreement


def registration_claims(agreement):
    return list(agreement.claims.filter(milestone=GrantMilestone.REGISTRATION).order_by("pk"))


def test_due_claims_with_their_evidence_are_submitted_and_audited(world):
    for placed in world.placed:
        registration_evidence(placed)
    agreement = due_claims(world)
    chosen = registration_claims(agreement)
    done = grant_claims_submit(
        actor=world.finance, agreement=agreement, claims=chosen, submitted_on=SUBMITTED_ON
    )
    assert len(done) == 2
    for claim in chosen:
        claim.refresh_from_db()
        assert (claim.status, claim.submitted_on, claim.submitted_by) == (
            GrantClaimStatus.SUBMITTED,
            SUBMITTED_ON,
            world.finance,
        )
    assert AuditEvent.objects.filter(action="grant_claim.submitted").count() == 2


def test_a_claim_missing_evidence_is_refused_nothing_submitted_and_the_refusal_audited(world):
    registration_evidence(world.placed[0])
    registration_evidence(world.placed[1], agreement=False)
    agreement = due_claims(world)
    chosen = registration_claims(agreement)
    with pytest.raises(ValidationError) as refused:
        grant_claims_submit(
            actor=world.finance, agreement=agreement, claims=chosen, submitted_on=SUBMITTED_ON
        )
    name = world.placed[1].learner.full_name
    assert f"{name}'s registration claim: No signed agreement yet" in refused.value.messages[0]
    assert agreement.claims.filter(status=GrantClaimStatus.SUBMITTED).count() == 0
    event = AuditEvent.objects.get(action="grant_claims.submit.refused")
    assert event.entity_id == str(agreement.pk)
    assert "No signed agreement yet" in event.new_values["reason"]


@pytest.mark.parametrize(
    ("milestone", "give", "missing"),
    [
        (
            GrantMilestone.REGISTRATION,
            lambda p: registration_evidence(p, id_document=False),
            "No verified ID document yet",
        ),
        (GrantMilestone.MIDPOINT, lambda p: None, "No attendance recorded yet"),
        (GrantMilestone.MIDPOINT, attendance_marked, None),
        (
            GrantMilestone.COMPLETION,
            lambda p: completed(p, ENDS_ON, certificate=False),
            "No certificate yet",
        ),
        (GrantMilestone.COMPLETION, lambda p: completed(p, ENDS_ON), None),
    ],
)
def test_each_milestone_needs_its_own_evidence(world, milestone, give, missing):
    placed = world.placed[0]
    completed(world.placed[1], ENDS_ON)  # so that a completion claim can exist at all
    give(placed)
    agreement = due_claims(world, today=ENDS_ON)
    claim = agreement.claims.get(learner=placed.learner, milestone=milestone)
    evidence = grant_claims_evidence(agreement=agreement, claims=[claim])[claim.pk]
    assert evidence.missing == ([missing] if missing else [])


def test_evidence_links_only_to_pages_the_viewer_may_open(world):
    registration_evidence(world.placed[0])
    agreement = due_claims(world)
    (claim, _other) = registration_claims(agreement)
    for_admin = grant_claims_evidence(agreement=agreement, claims=[claim], viewer=world.admin)
    for_finance = grant_claims_evidence(agreement=agreement, claims=[claim], viewer=world.finance)
    id_item = for_admin[claim.pk].items[1]
    assert id_item.label == "ID document"
    assert id_item.url.startswith("/review/documents/")
    assert for_finance[claim.pk].items[1].present
    assert for_finance[claim.pk].items[1].url == ""


def submitted(world):
    for placed in world.placed:
        registration_evidence(placed)
    agreement = due_claims(world)
    chosen = registration_claims(agreement)
    grant_claims_submit(
        actor=world.finance, agreement=agreement, claims=chosen, submitted_on=SUBMITTED_ON
    )
    return agreement, chosen


def test_submitted_claims_are_paid_by_one_payment_from_the_seta(world):
    agreement, chosen = submitted(world)
    grant_claims_mark_paid(
        actor=world.finance,
        agreement=agreement,
        claims=chosen,
        paid_on=PAID_ON,
        reference=" MICT-PAY-88 ",
    )
    payment = Payment.objects.get()
    assert (payment.direction, payment.purpose, payment.counterparty) == (
        PaymentDirection.RECEIVED,
        PaymentPurpose.GRANT,
        "MICT SETA",
    )
    assert (payment.amount, payment.reference, payment.paid_on) == (
        2 * REGISTRATION,
        "MICT-PAY-88",
        PAID_ON,
    )
    for claim in chosen:
        claim.refresh_from_db()
        assert (claim.status, claim.payment) == (GrantClaimStatus.PAID, payment)
    assert AuditEvent.objects.filter(action="grant_claim.paid").count() == 2
    assert AuditEvent.objects.filter(action="payment.recorded").count() == 1


def test_only_submitted_claims_are_paid_and_the_refusal_is_audited(world):
    agreement = due_claims(world)
    chosen = registration_claims(agreement)
    with pytest.raises(ValidationError, match="Only submitted claims"):
        grant_claims_mark_paid(
            actor=world.finance, agreement=agreement, claims=chosen, paid_on=PAID_ON, reference="R"
        )
    assert AuditEvent.objects.filter(action="grant_claims.mark_paid.refused").exists()
    assert not Payment.objects.exists()


def test_a_payment_needs_a_reference_and_a_date_not_in_the_future(world):
    agreement, chosen = submitted(world)
    with pytest.raises(ValidationError) as refused:
        grant_claims_mark_paid(
            actor=world.finance, agreement=agreement, claims=chosen, paid_on=PAID_ON, reference=" "
        )
    assert "reference" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        grant_claims_mark_paid(
            actor=world.finance,
            agreement=agreement,
            claims=chosen,
            paid_on=datetime.date(2099, 1, 1),
            reference="R",
        )
    assert "cannot be in the future" in refused.value.message_dict["paid_on"][0]


def test_a_rejected_claim_is_submitted_again_with_its_evidence(world):
    agreement, chosen = submitted(world)
    with pytest.raises(ValidationError, match="Say why"):
        grant_claims_reject(actor=world.finance, agreement=agreement, claims=chosen, reason=" ")
    grant_claims_reject(
        actor=world.finance, agreement=agreement, claims=chosen[:1], reason="ID copy unclear"
    )
    claim = chosen[0]
    claim.refresh_from_db()
    assert (claim.status, claim.rejection_reason) == (GrantClaimStatus.REJECTED, "ID copy unclear")
    assert AuditEvent.objects.get(action="grant_claim.rejected").new_values["rejection_reason"] == (
        "ID copy unclear"
    )
    # Only a rejected claim is submitted again.
    with pytest.raises(ValidationError, match="Only rejected claims"):
        grant_claims_resubmit(
            actor=world.finance, agreement=agreement, claims=chosen, submitted_on=PAID_ON
        )
    grant_claims_resubmit(
        actor=world.finance, agreement=agreement, claims=chosen[:1], submitted_on=PAID_ON
    )
    claim.refresh_from_db()
    assert (claim.status, claim.submitted_on, claim.rejection_reason) == (
        GrantClaimStatus.SUBMITTED,
        PAID_ON,
        "",
    )
    assert AuditEvent.objects.filter(action="grant_claim.resubmitted").count() == 1


def test_claims_of_another_agreement_are_refused(world):
    agreement, chosen = submitted(world)
    other = agreement_make(world, reference="OTHER-1")
    with pytest.raises(ValidationError, match="not this agreement's"):
        grant_claims_reject(actor=world.finance, agreement=other, claims=chosen, reason="No")
    assert AuditEvent.objects.filter(action="grant_claims.reject.refused").exists()


def test_only_finance_acts_on_claims(world):
    agreement, chosen = submitted(world)
    for act, extra in [
        (grant_claims_submit, {"submitted_on": SUBMITTED_ON}),
        (grant_claims_resubmit, {"submitted_on": SUBMITTED_ON}),
        (grant_claims_reject, {"reason": "No"}),
        (grant_claims_mark_paid, {"paid_on": PAID_ON, "reference": "R"}),
    ]:
        with pytest.raises(PermissionDenied):
            act(actor=world.admin, agreement=agreement, claims=chosen, **extra)
    assert set(
        agreement.claims.filter(pk__in=[c.pk for c in chosen]).values_list("status", flat=True)
    ) == {GrantClaimStatus.SUBMITTED}
