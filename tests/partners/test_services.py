"""Partners' services: adding and changing an agent or a broker (a code unique and in
capitals, a percentage at most 100, personal fields audited as changed), deactivating and
reactivating, who brought a learner (only an active partner of the right kind), partner
contacts invited with the partner's role and removed, and bank details needing a second person.
Each refusal is audited."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import SystemRole, User
from audit.models import AuditEvent
from notifications.models import OutboundEmail
from partners.bank import BankDetails, bank_details_open
from partners.models import (
    BankAccount,
    BankChangeStatus,
    CommissionBasis,
    CommissionTrigger,
    LearnerIntroduction,
    Partner,
    PartnerContact,
    PartnerKind,
    PaymentMethod,
)
from partners.rules import commission_rule_text
from partners.services.bank import bank_change_confirm, bank_change_reject, bank_change_request
from partners.services.contacts import partner_contact_invite, partner_contact_remove
from partners.services.introductions import learner_introduction_set
from partners.services.partners import partner_active_set, partner_create, partner_update
from tests.factories import UserFactory
from tests.finance.support import finance_world, partner_make

pytestmark = pytest.mark.django_db

DETAILS = {
    "name": "Khanya Talent Agency",
    "code": "ag-100",
    "contact_name": "Nomsa Khanya",
    "email": "Nomsa@Khanya.example",
    "phone": "082 555 0101",
    "address": "12 Long Street\nCape Town",
    "tax_number": "9123456789",
    "vat_number": "4123456789",
    "payment_terms_days": 30,
    "payment_method": PaymentMethod.EFT,
    "commission_trigger": CommissionTrigger.ENROLMENT,
    "commission_basis": CommissionBasis.PERCENT_OF_FEE,
    "commission_value": Decimal("10.00"),
}
ACCOUNT = BankDetails(
    holder="Khanya Talent Agency",
    bank_name="FNB",
    branch_code="250655",
    account_number="62012346789",
)
TYPED = {"account_number": "62012346789", "branch_code": "250655"}


@pytest.fixture
def world(admin):
    return finance_world(admin, learners=2)


def refused(action: str) -> AuditEvent:
    return AuditEvent.objects.get(action=f"{action}.refused")


def denied(action: str) -> AuditEvent:
    return AuditEvent.objects.get(action="permission.denied", entity_id=action)


# Adding and changing partners


def test_a_partner_is_added_with_its_code_in_capitals_and_audited_without_personal_values(world):
    partner = partner_create(actor=world.finance, kind=PartnerKind.AGENT, **DETAILS)

    assert partner.code == "AG-100"
    assert partner.email == "nomsa@khanya.example"
    assert commission_rule_text(partner) == "10% of the learner's fee on each enrolment that starts"
    event = AuditEvent.objects.get(action="partner.created")
    assert event.actor == world.finance
    assert event.new_values["code"] == "AG-100"
    assert event.new_values["commission_value"] == "10.00"
    for personal in ("contact_name", "email", "phone"):
        assert event.new_values[personal] == "(changed)"
    assert "Nomsa" not in str(event.new_values)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"code": "AG-001"}, "code", "Ikhaya Recruitment already has the code AG-001"),
        ({"code": "AG_1!"}, "code", "capital letters, digits and hyphens"),
        ({"commission_value": Decimal("100.01")}, "commission_value", "at most 100"),
        ({"commission_value": Decimal("0")}, "commission_value", "Give the commission"),
        ({"payment_terms_days": 400}, "payment_terms_days", "at most 365 days"),
    ],
)
def test_a_partner_is_refused_with_a_clear_message_and_the_refusal_audited(
    world, overrides, field, message
):
    with pytest.raises(ValidationError) as error:
        partner_create(actor=world.finance, kind=PartnerKind.AGENT, **{**DETAILS, **overrides})

    assert message in " ".join(error.value.message_dict[field])
    assert not Partner.objects.filter(name=DETAILS["name"]).exists()
    event = refused("partner.create")
    assert event.actor == world.finance
    assert message in event.new_values["reason"]


def test_no_commission_keeps_no_value_and_a_fixed_amount_reads_as_money(world):
    partner = partner_create(
        actor=world.finance,
        kind=PartnerKind.BROKER,
        **{**DETAILS, "commission_trigger": CommissionTrigger.NONE},
    )
    assert partner.commission_value == 0
    assert commission_rule_text(partner) == "No commission"
    assert commission_rule_text(world.broker) == "R750,00 for each placement confirmed"
    world.agent.commission_value = Decimal("12.50")
    assert commission_rule_text(world.agent).startswith("12,5% of the learner's fee")


def test_only_finance_adds_or_changes_partners_and_each_refusal_is_audited(world):
    with pytest.raises(PermissionDenied):
        partner_create(actor=world.admin, kind=PartnerKind.AGENT, **DETAILS)
    assert denied("partner.create").actor == world.admin
    with pytest.raises(PermissionDenied):
        partner_update(actor=world.admin, partner=world.agent, **DETAILS)
    assert denied("partner.update").actor == world.admin
    with pytest.raises(PermissionDenied):
        partner_active_set(actor=world.admin, partner=world.agent, active=False)
    assert denied("partner.active_set").actor == world.admin
    assert Partner.objects.get(pk=world.agent.pk).is_active


def test_a_change_is_audited_with_old_and_new_values_and_nothing_when_unchanged(world):
    agent = world.agent
    details = {name: getattr(agent, name) for name in DETAILS}
    partner_update(
        actor=world.finance,
        partner=agent,
        **{**details, "commission_value": Decimal("12.5"), "email": "new@ikhaya.example"},
    )

    event = AuditEvent.objects.get(action="partner.updated")
    assert event.old_values == {"commission_value": "10.00"}
    assert event.new_values == {"commission_value": "12.5", "email": "(changed)"}
    agent.refresh_from_db()
    assert agent.commission_value == Decimal("12.50")
    assert agent.kind == PartnerKind.AGENT

    partner_update(
        actor=world.finance,
        partner=agent,
        **{**details, "commission_value": "12.50", "email": "NEW@ikhaya.example "},
    )
    assert AuditEvent.objects.filter(action="partner.updated").count() == 1


def test_a_change_to_a_code_another_partner_has_is_refused_and_audited(world):
    details = {name: getattr(world.broker, name) for name in DETAILS}
    with pytest.raises(ValidationError) as error:
        partner_update(actor=world.finance, partner=world.broker, **{**details, "code": "ag-001"})
    assert "already has the code AG-001" in error.value.message_dict["code"][0]
    assert refused("partner.update").entity_id == str(world.broker.pk)
    world.broker.refresh_from_db()
    assert world.broker.code == "BR-001"


def test_a_partner_is_deactivated_and_reactivated_once_each(world):
    partner_active_set(actor=world.finance, partner=world.agent, active=False)
    world.agent.refresh_from_db()
    assert not world.agent.is_active
    assert AuditEvent.objects.get(action="partner.deactivated").new_values == {"is_active": False}

    with pytest.raises(ValidationError, match="already deactivated"):
        partner_active_set(actor=world.finance, partner=world.agent, active=False)
    assert "already deactivated" in refused("partner.active_set").new_values["reason"]

    partner_active_set(actor=world.finance, partner=world.agent, active=True)
    world.agent.refresh_from_db()
    assert world.agent.is_active
    assert AuditEvent.objects.filter(action="partner.reactivated").count() == 1


# Who brought a learner


def test_finance_sets_who_brought_a_learner(world):
    learner = world.learner.learner
    other_agent = partner_make(PartnerKind.AGENT, "AG-002", name="Second Agency")

    learner_introduction_set(actor=world.finance, learner=learner, agent=other_agent, broker=None)
    introduction = LearnerIntroduction.objects.get(learner=learner)
    assert (introduction.agent, introduction.broker) == (other_agent, None)
    assert introduction.updated_by == world.finance
    event = AuditEvent.objects.get(action="learner_introduction.set")
    assert event.old_values == {"agent": world.agent.pk, "broker": world.broker.pk}
    assert event.new_values == {"agent": other_agent.pk, "broker": None}

    learner_introduction_set(
        actor=world.second_finance, learner=learner, agent=world.agent, broker=world.broker
    )
    introduction.refresh_from_db()
    assert (introduction.agent, introduction.broker) == (world.agent, world.broker)

    # A learner nobody introduced yet gets their first record.
    fresh = world.learners_add(1)[0].learner
    LearnerIntroduction.objects.filter(learner=fresh).delete()
    learner_introduction_set(actor=world.finance, learner=fresh, agent=None, broker=world.broker)
    assert LearnerIntroduction.objects.get(learner=fresh).broker == world.broker


def test_a_learners_partner_must_be_active_and_of_the_right_kind(world):
    learner = world.learner.learner
    stopped = partner_make(PartnerKind.AGENT, "AG-009", name="Closed Agency", is_active=False)

    with pytest.raises(ValidationError) as error:
        learner_introduction_set(
            actor=world.finance, learner=learner, agent=world.broker, broker=world.agent
        )
    assert "Bridge Placements is not an agent" in error.value.message_dict["agent"][0]
    assert "Ikhaya Recruitment is not a broker" in error.value.message_dict["broker"][0]
    assert refused("learner_introduction.set").entity_id == str(learner.pk)

    with pytest.raises(ValidationError, match="Closed Agency is deactivated"):
        learner_introduction_set(
            actor=world.finance, learner=learner, agent=stopped, broker=world.broker
        )
    # A partner already chosen stays valid when deactivated later.
    partner_active_set(actor=world.finance, partner=world.agent, active=False)
    learner_introduction_set(actor=world.finance, learner=learner, agent=world.agent, broker=None)
    assert LearnerIntroduction.objects.get(learner=learner).agent == world.agent


@pytest.mark.parametrize("role", [SystemRole.TRAINER, SystemRole.ADMIN])
def test_nobody_else_sets_who_brought_a_learner(world, role):
    someone = UserFactory(roles=[role])
    with pytest.raises(PermissionDenied):
        learner_introduction_set(
            actor=someone, learner=world.learner.learner, agent=None, broker=None
        )
    assert denied("learner_introduction.set").actor == someone
    assert LearnerIntroduction.objects.get(learner=world.learner.learner).agent == world.agent


# Contacts


def test_a_contact_is_invited_with_the_partners_role_and_removed(world):
    contact = partner_contact_invite(
        actor=world.finance,
        partner=world.agent,
        email="Sipho@Ikhaya.example",
        full_name="Sipho Ikhaya",
    )
    user = contact.user
    assert user.email == "sipho@ikhaya.example"
    assert user.role_keys == {SystemRole.AGENT}
    assert not user.has_usable_password()
    assert OutboundEmail.objects.filter(
        recipient="sipho@ikhaya.example", template="invitation"
    ).exists()
    added = AuditEvent.objects.get(action="partner_contact.added")
    assert added.new_values == {"partner": world.agent.pk, "user": user.pk, "role": "agent"}

    partner_contact_remove(actor=world.finance, contact=contact)
    assert not PartnerContact.objects.exists()
    user = User.objects.get(pk=user.pk)
    assert user.role_keys == frozenset()
    assert not user.invitations.filter(revoked_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="partner_contact.removed").count() == 1


def test_an_existing_account_gets_the_brokers_role(world):
    person = UserFactory(roles=[SystemRole.STUDENT], email="thabo@bridge.example")
    partner_contact_invite(actor=world.finance, partner=world.broker, email="thabo@bridge.example")
    assert person.role_keys == {SystemRole.STUDENT, SystemRole.BROKER}
    assert not OutboundEmail.objects.filter(recipient="thabo@bridge.example").exists()


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("no_name", "full_name", "give the person's name"),
        ("other_partner", "email", "already speaks for Ikhaya Recruitment"),
        ("deactivated_account", "email", "account is deactivated"),
        ("deactivated_partner", None, "Bridge Placements is deactivated"),
    ],
)
def test_a_contact_is_refused_with_a_clear_message_and_audited(world, case, field, message):
    email = "someone@partners.example"
    if case == "other_partner":
        partner_contact_invite(
            actor=world.finance, partner=world.agent, email=email, full_name="Some One"
        )
    elif case == "deactivated_account":
        UserFactory(email=email, is_active=False)
    elif case == "deactivated_partner":
        Partner.objects.filter(pk=world.broker.pk).update(is_active=False)
    with pytest.raises(ValidationError) as error:
        partner_contact_invite(
            actor=world.finance,
            partner=world.broker,
            email=email,
            full_name="" if case == "no_name" else "Some One",
        )
    messages = error.value.message_dict[field] if field else error.value.messages
    assert message in " ".join(messages)
    assert not PartnerContact.objects.filter(partner=world.broker).exists()
    reason = refused("partner_contact.invite").new_values["reason"]
    assert message in reason
    assert email not in reason


def test_only_finance_invites_and_removes_contacts(world):
    with pytest.raises(PermissionDenied):
        partner_contact_invite(
            actor=world.admin, partner=world.agent, email="x@y.example", full_name="X"
        )
    assert denied("partner_contact.invite").actor == world.admin
    contact = partner_contact_invite(
        actor=world.finance, partner=world.agent, email="x@y.example", full_name="X"
    )
    with pytest.raises(PermissionDenied):
        partner_contact_remove(actor=world.admin, contact=contact)
    assert denied("partner_contact.remove").actor == world.admin
    assert PartnerContact.objects.filter(pk=contact.pk).exists()


# Bank details


def test_bank_details_need_a_second_person_and_are_kept_sealed(world):
    change = bank_change_request(actor=world.finance, details=ACCOUNT, partner=world.agent)
    assert change.status == BankChangeStatus.PENDING
    assert (change.bank_name, change.account_last4) == ("FNB", "6789")
    assert b"62012346789" not in bytes(change.sealed)

    with pytest.raises(PermissionDenied):
        bank_change_confirm(actor=world.finance, change=change, **TYPED)
    assert denied("bank_account.change_confirm").actor == world.finance
    assert not BankAccount.objects.exists()

    account = bank_change_confirm(actor=world.second_finance, change=change, **TYPED)
    assert account.confirmed_by == world.second_finance
    assert bank_details_open(account.sealed).account_number == "62012346789"
    event = AuditEvent.objects.get(action="bank_account.change_confirmed")
    assert event.new_values == {"bank_name": "FNB", "account": "••••6789"}
    assert "62012346789" not in str(AuditEvent.objects.values_list("new_values", flat=True))


@pytest.mark.parametrize(
    "typed",
    [
        {"account_number": "62012346788", "branch_code": "250655"},
        {"account_number": "62012346789", "branch_code": "250656"},
        {"account_number": "", "branch_code": ""},
    ],
)
def test_bank_details_are_confirmed_only_against_the_numbers_typed_from_the_document(world, typed):
    change = bank_change_request(actor=world.finance, details=ACCOUNT, partner=world.agent)
    with pytest.raises(ValidationError, match="differs from the details asked for"):
        bank_change_confirm(actor=world.second_finance, change=change, **typed)
    event = refused("bank_account.change_confirm")
    assert event.actor == world.second_finance
    assert event.entity_id == str(change.pk)
    assert "6201" not in str(event.new_values)
    assert "2506" not in str(event.new_values)
    change.refresh_from_db()
    assert change.status == BankChangeStatus.PENDING
    assert not BankAccount.objects.exists()

    spaced = {"account_number": "6201 234 6789", "branch_code": "250 655"}
    bank_change_confirm(actor=world.second_finance, change=change, **spaced)
    assert BankAccount.objects.get().confirmed_by == world.second_finance


def test_bank_details_rejected_with_a_reason_are_not_used(world):
    change = bank_change_request(actor=world.finance, details=ACCOUNT, partner=world.agent)
    with pytest.raises(ValidationError):
        bank_change_request(actor=world.second_finance, details=ACCOUNT, partner=world.agent)
    with pytest.raises(ValidationError):
        bank_change_reject(actor=world.second_finance, change=change, reason="  ")
    bank_change_reject(actor=world.finance, change=change, reason="Withdrawn: a typo.")
    change.refresh_from_db()
    assert change.status == BankChangeStatus.REJECTED
    assert not BankAccount.objects.exists()
