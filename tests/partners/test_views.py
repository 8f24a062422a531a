"""Partners' pages: finance adds, edits and deactivates partners, asks for and confirms bank
details (never shown in full), and says who brought a learner; admins read the same pages
without the buttons and are refused every change; anyone else, and another institution's ids,
get a 404. The portal shows a contact only their own partner's candidates, name and e-mail
only."""

import datetime
import html

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import SystemRole
from audit.models import AuditEvent
from delivery.models import Assessment, AssessmentResult
from partners.models import (
    BankAccountChange,
    BankChangeStatus,
    LearnerIntroduction,
    Partner,
    PartnerContact,
    PartnerKind,
)
from partners.services.bank import bank_change_request
from tests.factories import UserFactory, roles_replace
from tests.finance.support import finance_world, partner_make
from tests.partners.test_services import ACCOUNT, DETAILS

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return finance_world(admin, learners=2)


def text(response) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def form_data(**overrides) -> dict[str, object]:
    return {**DETAILS, "kind": PartnerKind.AGENT, **overrides}


def contact_of(partner: Partner, email: str):
    user = UserFactory(
        roles=[SystemRole.AGENT if partner.kind == PartnerKind.AGENT else SystemRole.BROKER],
        email=email,
    )
    PartnerContact.objects.create(partner=partner, user=user)
    return user


# The list, adding and editing


def test_finance_adds_an_agent_and_sees_its_rule_in_words(world, client_of):
    client = client_of(world.finance)
    response = client.post(reverse("partners:add"), form_data())
    partner = Partner.objects.get(code="AG-100")
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:detail", args=[partner.pk])

    page = text(client.get(response["Location"]))
    assert "10% of the learner's fee on each enrolment that starts" in page
    assert "30 days after each statement" in page
    assert "Bank details" in page
    assert "None yet" in page
    assert "Edit" in page
    assert "Deactivate" in page


def test_a_taken_code_is_refused_beside_its_field(world, client_of):
    response = client_of(world.finance).post(reverse("partners:add"), form_data(code="ag-001"))
    assert response.status_code == 400
    assert "Ikhaya Recruitment already has the code AG-001" in text(response)
    assert not Partner.objects.filter(name=DETAILS["name"]).exists()


def test_the_list_filters_by_kind_activity_and_search(world, client_of):
    partner_make(PartnerKind.AGENT, "AG-050", name="Dormant Agency", is_active=False)
    client = client_of(world.finance)
    page = text(client.get(reverse("partners:list")))
    assert "Ikhaya Recruitment" in page
    assert "Bridge Placements" in page
    assert "R750,00 for each placement confirmed" in page

    brokers = text(client.get(reverse("partners:list"), {"kind": "broker"}))
    assert "Bridge Placements" in brokers
    assert "Ikhaya Recruitment" not in brokers
    inactive = text(client.get(reverse("partners:list"), {"active": "inactive"}))
    assert "Dormant Agency" in inactive
    assert "Ikhaya" not in inactive
    found = text(client.get(reverse("partners:list"), {"q": "ag-05"}))
    assert "Dormant Agency" in found
    assert "Bridge" not in found
    nothing = text(client.get(reverse("partners:list"), {"q": "zzz"}))
    assert "No agent or broker matches these filters." in nothing


def test_an_empty_list_says_what_to_do(institution, client_of):
    finance = UserFactory(roles=[SystemRole.FINANCE])
    page = text(client_of(finance).get(reverse("partners:list")))
    assert "No agents or brokers yet. Add the recruiting agents" in page


def test_finance_edits_and_deactivates_after_confirming(world, client_of):
    client = client_of(world.finance)
    agent = world.agent
    edit = client.get(reverse("partners:edit", args=[agent.pk]))
    assert 'name="kind"' not in edit.content.decode()
    response = client.post(
        reverse("partners:edit", args=[agent.pk]),
        form_data(code="AG-001", name="Ikhaya Recruitment (Pty) Ltd", commission_value="12.5"),
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.name == "Ikhaya Recruitment (Pty) Ltd"
    assert agent.kind == PartnerKind.AGENT

    confirm = text(client.get(reverse("partners:active", args=[agent.pk])))
    assert "Deactivate Ikhaya Recruitment (Pty) Ltd?" in confirm
    agent.refresh_from_db()
    assert agent.is_active
    client.post(reverse("partners:active", args=[agent.pk]))
    agent.refresh_from_db()
    assert not agent.is_active
    assert "Reactivate" in text(client.get(reverse("partners:detail", args=[agent.pk])))


def test_an_admin_reads_partners_without_buttons_and_cannot_change_them(world, client_of):
    client = client_of(world.admin)
    page = text(client.get(reverse("partners:detail", args=[world.agent.pk])))
    assert "Ikhaya Recruitment" in page
    for button in ("Edit", "Deactivate", "Change bank details", "Invite a contact"):
        assert f">{button}<" not in page
    assert "Add a partner" not in text(client.get(reverse("partners:list")))
    for name in ("partners:edit", "partners:active", "partners:bank_request"):
        assert client.get(reverse(name, args=[world.agent.pk])).status_code == 404
    assert client.post(reverse("partners:add"), form_data()).status_code == 404
    assert not Partner.objects.filter(code="AG-100").exists()
    assert AuditEvent.objects.filter(action="permission.denied").count() == 4


@pytest.mark.parametrize("role", [SystemRole.TRAINER, SystemRole.STUDENT, SystemRole.AGENT])
def test_other_roles_get_a_404_on_every_staff_page(world, client_of, role):
    client = client_of(UserFactory(roles=[role]))
    pk = world.agent.pk
    for url in (
        reverse("partners:list"),
        reverse("partners:detail", args=[pk]),
        reverse("partners:bank_changes"),
        reverse("partners:candidate_search", args=[pk]),
        reverse("partners:introduction", args=[world.learner.learner.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_another_institutions_partner_is_not_there(
    world, institution, other_institution, client_of
):
    connection.set_tenant(other_institution)
    foreign = partner_make(PartnerKind.AGENT, "AG-777", name="Foreign Agency")
    Partner.objects.filter(pk=foreign.pk).update(id=900_001)
    connection.set_tenant(institution)
    assert not Partner.objects.filter(pk=900_001).exists()
    client = client_of(world.finance)
    for name in ("partners:detail", "partners:edit", "partners:active", "partners:bank_request"):
        assert client.get(reverse(name, args=[900_001])).status_code == 404


# Candidates and who brought a learner


def test_the_partners_page_lists_its_candidates_with_their_cohorts(world, client_of):
    page = text(client_of(world.finance).get(reverse("partners:detail", args=[world.agent.pk])))
    cohort = world.workplace.run.cohort.name
    for placed in world.placed:
        assert placed.learner.full_name in page
    assert cohort in page
    assert "In progress" in page
    assert "Add a candidate" in page


def test_a_candidate_is_found_and_given_the_partner(world, client_of):
    newcomer = world.learners_add(1)[0].learner
    LearnerIntroduction.objects.filter(learner=newcomer).delete()
    other = partner_make(PartnerKind.AGENT, "AG-003", name="Third Agency")
    client = client_of(world.finance)

    found = client.get(
        reverse("partners:candidate_search", args=[other.pk]), {"q": newcomer.last_name}
    )
    page = text(found)
    assert newcomer.full_name in page
    assert "Not known" in page
    introduction = reverse("partners:introduction", args=[newcomer.pk])
    link = f"{introduction}?agent={other.pk}&amp;partner={other.pk}"
    assert link in found.content.decode()

    form = client.get(
        reverse("partners:introduction", args=[newcomer.pk]), {"agent": other.pk}
    ).content.decode()
    assert f'<option value="{other.pk}" selected>' in form
    response = client.post(
        reverse("partners:introduction", args=[newcomer.pk]),
        {"agent": other.pk, "broker": "", "partner": other.pk},
    )
    assert response["Location"] == reverse("partners:detail", args=[other.pk])
    assert LearnerIntroduction.objects.get(learner=newcomer).agent == other


def test_only_active_partners_of_each_kind_are_offered(world, client_of):
    partner_make(PartnerKind.AGENT, "AG-060", name="Dormant Agency", is_active=False)
    page = client_of(world.finance).get(
        reverse("partners:introduction", args=[world.learner.learner.pk])
    )
    agent_select = page.content.decode().split('name="broker"')[0].split('name="agent"')[1]
    assert "Ikhaya Recruitment" in agent_select
    assert "Dormant Agency" not in agent_select
    assert "Bridge Placements" not in agent_select


def test_who_brought_a_learner_is_linked_from_their_page_and_set_by_finance_only(world, client_of):
    learner = world.learner.learner
    url = reverse("partners:introduction", args=[learner.pk])
    page = client_of(world.admin).get(reverse("learners:detail", args=[learner.pk]))
    assert url in page.content.decode()
    assert "Ikhaya Recruitment (agent), Bridge Placements (broker)" in text(page)
    assert "Agent and broker" in text(page)
    assert "Change who brought" not in text(page)
    # Who brought a learner decides commissions: the admin reads it, finance alone sets it.
    shown = client_of(world.admin).get(url)
    assert shown.status_code == 200
    assert 'name="agent"' not in shown.content.decode()
    response = client_of(world.admin).post(url, {"agent": "", "broker": world.broker.pk})
    assert response.status_code == 404
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="learner_introduction.set", actor=world.admin
    ).exists()
    assert LearnerIntroduction.objects.get(learner=learner).agent == world.agent


# Bank details


def test_finance_asks_for_bank_details_and_another_confirms_them(world, client_of):
    first, second = client_of(world.finance), client_of(world.second_finance)
    response = first.post(
        reverse("partners:bank_request", args=[world.agent.pk]),
        {
            "holder": "Ikhaya Recruitment",
            "bank_name": "FNB",
            "branch_code": "250655",
            "account_number": "6201 234 6789",
            "account_type": "current",
        },
    )
    assert response.status_code == 302
    change = BankAccountChange.objects.get()

    queue = second.get(reverse("partners:bank_changes"))
    assert "Ikhaya Recruitment" in text(queue)
    assert "FNB ••••6789" in text(queue)
    assert "62012346789" not in queue.content.decode()

    typed = {"account_number": "62012346789", "branch_code": "250655"}
    own = first.post(reverse("partners:bank_change_confirm", args=[change.pk]), typed)
    assert own.status_code == 400
    assert "You asked for these bank details, so someone else must confirm them" in text(own)
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="bank_account.change_confirm"
    ).exists()

    confirm_page = second.get(reverse("partners:bank_change", args=[change.pk])).content.decode()
    assert 'name="account_number"' in confirm_page
    assert 'autocomplete="off"' in confirm_page

    wrong = second.post(
        reverse("partners:bank_change_confirm", args=[change.pk]),
        {"account_number": "62012346780", "branch_code": "250655"},
    )
    assert wrong.status_code == 400
    assert "differs from the details asked for" in text(wrong)
    assert "62012346780" not in wrong.content.decode()
    assert "62012346789" not in wrong.content.decode()
    assert AuditEvent.objects.filter(action="bank_account.change_confirm.refused").exists()
    change.refresh_from_db()
    assert change.status == BankChangeStatus.PENDING

    confirmed = second.post(reverse("partners:bank_change_confirm", args=[change.pk]), typed)
    assert confirmed.status_code == 302
    page = text(first.get(reverse("partners:detail", args=[world.agent.pk])))
    assert "FNB ••••6789" in page
    assert "Confirmed by Frank Finance on" in page
    assert "62012346789" not in page
    assert "Ikhaya Recruitment Ikhaya" not in page


def test_a_wrong_number_is_refused_without_being_shown_again(world, client_of):
    response = client_of(world.finance).post(
        reverse("partners:bank_request", args=[world.agent.pk]),
        {
            "holder": "Ikhaya",
            "bank_name": "FNB",
            "branch_code": "2506",
            "account_number": "620123467891234567",
            "account_type": "current",
        },
    )
    assert response.status_code == 400
    page = text(response)
    assert "Give the six-digit branch (universal) code." in page
    assert "6 to 16 digits" in page
    assert "620123467891234567" not in page
    assert not BankAccountChange.objects.exists()


def test_a_change_is_rejected_with_a_reason_shown_in_the_history(world, client_of):
    change = bank_change_request(actor=world.finance, details=ACCOUNT, partner=world.agent)
    client = client_of(world.second_finance)
    empty = client.post(reverse("partners:bank_change_reject", args=[change.pk]), {"reason": ""})
    assert empty.status_code == 400
    client.post(
        reverse("partners:bank_change_reject", args=[change.pk]),
        {"reason": "The letter names another account."},
    )
    change.refresh_from_db()
    assert change.status == BankChangeStatus.REJECTED
    page = text(client.get(reverse("partners:detail", args=[world.agent.pk])))
    assert "rejected by Frank Finance" in page
    assert "The letter names another account." in page


def test_the_queue_lists_learners_changes_too_and_admins_only_read_it(world, client_of):
    learner = world.learner.learner
    change = bank_change_request(actor=world.finance, details=ACCOUNT, learner=learner)
    client = client_of(world.admin)
    queue = text(client.get(reverse("partners:bank_changes")))
    assert learner.full_name in queue
    assert "learner (stipend)" in queue
    page = text(client.get(reverse("partners:bank_change", args=[change.pk])))
    assert "Confirm these details" not in page
    assert client.post(reverse("partners:bank_change_confirm", args=[change.pk])).status_code == 404
    change.refresh_from_db()
    assert change.status == BankChangeStatus.PENDING


def test_the_queue_says_when_nothing_waits(world, client_of):
    page = text(client_of(world.finance).get(reverse("partners:bank_changes")))
    assert "No bank details wait for confirmation." in page


# Contacts


def test_finance_invites_a_contact_and_removes_them_after_confirming(world, client_of):
    client = client_of(world.finance)
    response = client.post(
        reverse("partners:contact_invite", args=[world.agent.pk]),
        {"email": "sipho@ikhaya.example", "full_name": "Sipho Ikhaya"},
    )
    assert response.status_code == 302
    contact = PartnerContact.objects.get()
    assert "sipho@ikhaya.example" in text(
        client.get(reverse("partners:detail", args=[world.agent.pk]))
    )
    url = reverse("partners:contact_remove", args=[world.agent.pk, contact.pk])
    assert "Remove Sipho Ikhaya as a contact" in text(client.get(url))
    assert PartnerContact.objects.exists()
    client.post(url)
    assert not PartnerContact.objects.exists()
    # Another partner's contact is not reached through this one.
    other = contact_of(world.broker, "thabo@bridge.example").partner_contact
    assert (
        client.get(reverse("partners:contact_remove", args=[world.agent.pk, other.pk])).status_code
        == 404
    )


# The portal


def test_a_contact_sees_only_their_partners_candidates_and_no_personal_details(world, client_of):
    mine, theirs = world.placed
    LearnerIntroduction.objects.filter(learner=theirs.learner).update(agent=None)
    other_agent = partner_make(PartnerKind.AGENT, "AG-004", name="Other Agency")
    LearnerIntroduction.objects.filter(learner=theirs.learner).update(agent=other_agent)
    learner = mine.learner
    type(learner).objects.filter(pk=learner.pk).update(
        phone_number="0825550199", city="Polokwane", date_of_birth=datetime.date(2001, 5, 4)
    )
    Assessment.objects.create(
        enrolment=mine.course_enrollment,
        assessment_type="Formative 1",
        score=72,
        result=AssessmentResult.PASS,
        assessed_at=datetime.datetime(2027, 4, 1, 10, tzinfo=datetime.UTC),
        assessor=world.admin,
    )
    client = client_of(contact_of(world.agent, "sipho@ikhaya.example"))

    listing = text(client.get(reverse("partners:portal")))
    assert learner.full_name in listing
    assert theirs.learner.full_name not in listing
    assert world.workplace.organisation.name in listing

    detail = client.get(reverse("partners:portal_candidate", args=[learner.pk]))
    page = text(detail)
    assert learner.email in page
    assert world.workplace.run.title in page
    assert "1 of 1 assessment passed" in page
    assert world.workplace.organisation.name in page
    for personal in ("0825550199", "Polokwane", "2001", "4 May"):
        assert personal not in page

    assert (
        client.get(reverse("partners:portal_candidate", args=[theirs.learner.pk])).status_code
        == 404
    )
    # The other agency's contact sees theirs, not ours.
    other = client_of(contact_of(other_agent, "lindi@other.example"))
    assert theirs.learner.full_name in text(other.get(reverse("partners:portal")))
    assert other.get(reverse("partners:portal_candidate", args=[learner.pk])).status_code == 404
    probes = AuditEvent.objects.filter(
        action="permission.denied", entity_id="view:partners.portal_candidate"
    )
    assert probes.count() == 2


def test_the_portal_is_for_contacts_only(world, client_of):
    assert client_of(world.finance).get(reverse("partners:portal")).status_code == 404
    no_partner = UserFactory(roles=[SystemRole.AGENT])
    assert client_of(no_partner).get(reverse("partners:portal")).status_code == 404


def test_the_start_page_shows_a_contact_their_partner_and_finance_the_waiting_changes(
    world, client_of
):
    contact = contact_of(world.broker, "thabo@bridge.example")
    page = text(client_of(contact).get("/"))
    assert 'data-panel="partner-contact"' in page
    assert "2 learners</a> brought by Bridge Placements" in page

    bank_change_request(actor=world.finance, details=ACCOUNT, partner=world.agent)
    staff = text(client_of(world.second_finance).get("/"))
    assert 'data-panel="partner-contact"' not in staff
    assert "1 thing</a> waits for a finance user" in staff


def test_a_contact_whose_role_was_taken_away_sees_nothing_of_the_partner(world, client_of):
    contact = contact_of(world.broker, "thabo@bridge.example")
    roles_replace(contact)
    assert 'data-panel="partner-contact"' not in text(client_of(contact).get("/"))
    assert client_of(contact).get("/partners/portal/").status_code == 404
