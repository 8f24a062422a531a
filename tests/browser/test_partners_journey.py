"""Finance adds a recruiting agent with its commission rule (a taken code and a percentage over
100 refused first), asks for its bank details (a short branch code refused), cannot confirm
them themselves, and a second finance user confirms them; finance then records the agent as a
learner's and invites the agent's contact, who signs in and sees only that learner's progress
(another learner's page is not there)."""

import pytest
from django.urls import reverse
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole, User
from partners.models import BankAccount, LearnerIntroduction, Partner, PartnerContact
from tests.browser.support import PageChecker, sign_in
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.finance.support import finance_world

pytestmark = pytest.mark.browser


def test_finance_adds_an_agent_whose_contact_follows_their_candidate(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("partners")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        world = finance_world(admin, learners=2)
        ours, theirs = world.placed
        run_title = world.workplace.run.title
        organisation = world.workplace.organisation.name
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "partners", structure=True)

    sign_in(page, url("/accounts/login/"), world.finance.email, FACTORY_PASSWORD)
    page.goto(url("/partners/"))
    expect(page.get_by_role("heading", name="Agents and brokers")).to_be_visible()
    checker.look("list")
    page.get_by_role("link", name="Add a partner").click()
    expect(page.get_by_role("heading", name="Add an agent or a broker")).to_be_visible()
    page.get_by_label("Agent").check()
    page.get_by_label("Name").fill("Khanya Talent Agency")
    page.get_by_label("Code").fill("ag-001")
    page.get_by_label("Contact person").fill("Nomsa Khanya")
    page.get_by_label("E-mail address").fill("nomsa@khanya.example")
    page.get_by_label("Tax number").fill("9123456789")
    page.get_by_label("Payment terms (days)").fill("45")
    page.get_by_label("What earns commission").select_option(label="Each enrolment that starts")
    page.get_by_label("Commission is").select_option(label="A percentage of the learner's fee")
    page.get_by_label("Percentage or amount").fill("150")
    page.get_by_role("button", name="Add partner").click()
    expect(page.get_by_text("Ikhaya Recruitment already has the code AG-001")).to_be_visible()
    expect(page.get_by_text("A percentage of the fee is at most 100.")).to_be_visible()
    checker.look("add-refused")

    page.get_by_label("Code").fill("ag-200")
    page.get_by_label("Percentage or amount").fill("12.5")
    page.get_by_role("button", name="Add partner").click()
    expect(page.get_by_role("heading", name="Khanya Talent Agency")).to_be_visible()
    expect(page.get_by_test_id("commission-rule")).to_have_text(
        "12,5% of the learner's fee on each enrolment that starts"
    )
    expect(page.get_by_text("No learners recorded as brought by Khanya")).to_be_visible()
    checker.look("detail-new")

    # Bank details: a short branch code is refused, then the request waits for a second person.
    page.get_by_role("link", name="Add bank details").click()
    expect(page.get_by_role("heading", name="New bank details for Khanya")).to_be_visible()
    page.get_by_label("Account holder").fill("Khanya Talent Agency")
    page.get_by_label("Bank", exact=False).fill("FNB")
    page.get_by_label("Branch code").fill("2506")
    page.get_by_label("Account number").fill("62012346789")
    page.get_by_role("button", name="Ask for confirmation").click()
    expect(page.get_by_text("Give the six-digit branch (universal) code.")).to_be_visible()
    expect(page.get_by_label("Account number")).to_have_value("")
    checker.look("bank-refused")
    page.get_by_label("Branch code").fill("250655")
    page.get_by_label("Account number").fill("62012346789")
    page.get_by_role("button", name="Ask for confirmation").click()
    expect(page.get_by_text("wait for another person to confirm them")).to_be_visible()
    expect(page.get_by_test_id("bank")).to_contain_text("FNB ••••6789")
    checker.look("detail-bank-pending")

    # The one who asked cannot confirm.
    page.get_by_role("link", name="Confirm or reject them").click()
    expect(page.get_by_role("heading", name="New bank details for Khanya")).to_be_visible()
    page.get_by_label("Account number, from the document").fill("62012346789")
    page.get_by_label("Branch code, from the document").fill("250655")
    page.get_by_role("button", name="Confirm these details").click()
    expect(page.get_by_test_id("refused")).to_contain_text("someone else must confirm them")
    checker.look("bank-own-confirm-refused")

    # Who brought a learner: find them from the agent's page.
    page.goto(url("/partners/"))
    page.get_by_role("link", name="Khanya Talent Agency").click()
    page.get_by_label("Add a candidate: learner's name or e-mail address").fill(
        ours.learner.last_name
    )
    page.get_by_role("button", name="Add a candidate").click()
    expect(page.get_by_role("heading", name="Add a candidate of Khanya")).to_be_visible()
    checker.look("candidate-search")
    page.get_by_role("link", name="Choose Khanya Talent Agency").click()
    expect(
        page.get_by_role("heading", name=f"Who brought {ours.learner.full_name}")
    ).to_be_visible()
    expect(page.get_by_label("Agent")).to_have_value(str(khanya_pk(institution)))
    checker.look("introduction")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"Saved who brought {ours.learner.full_name}.")).to_be_visible()
    expect(page.locator("[data-candidate]")).to_have_count(1)

    # Its contact gets an account with the Agent role.
    page.get_by_role("link", name="Invite a contact").click()
    page.get_by_label("E-mail address").fill("sipho@khanya.example")
    page.get_by_label("Full name").fill("Sipho Khanya")
    checker.look("contact-invite")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_text("Sipho Khanya now speaks for Khanya Talent Agency.")).to_be_visible()
    checker.look("detail-with-candidate")

    # The second finance user confirms the bank details from the queue.
    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), world.second_finance.email, FACTORY_PASSWORD)
    page.locator('[data-panel="finance"]').get_by_role("link", name="1 thing").click()
    expect(page.get_by_role("heading", name="Finance", exact=True)).to_be_visible()
    page.get_by_role("link", name="Bank details to confirm").click()
    expect(page.get_by_role("heading", name="Bank details to confirm")).to_be_visible()
    checker.look("bank-queue")
    page.get_by_role("link", name="Confirm or reject").click()
    page.get_by_label("Account number, from the document").fill("62012346780")
    page.get_by_label("Branch code, from the document").fill("250655")
    page.get_by_role("button", name="Confirm these details").click()
    expect(page.get_by_text("differs from the details asked for")).to_be_visible()
    expect(page.get_by_label("Account number, from the document")).to_have_value("")
    checker.look("bank-confirm-mismatch")
    page.get_by_label("Account number, from the document").fill("62012346789")
    page.get_by_label("Branch code, from the document").fill("250655")
    page.get_by_role("button", name="Confirm these details").click()
    expect(page.get_by_text("new bank details (FNB ••••6789) are in force")).to_be_visible()
    expect(page.get_by_test_id("bank")).to_contain_text("Confirmed by Frank Finance")
    expect(page.get_by_test_id("bank-history")).to_contain_text("confirmed")
    checker.look("detail-bank-confirmed")
    assert "62012346789" not in page.content()

    with tenant_context(institution):
        khanya = Partner.objects.get(code="AG-200")
        assert BankAccount.objects.get(partner=khanya).confirmed_by == world.second_finance
        assert LearnerIntroduction.objects.get(learner=ours.learner).agent == khanya
        contact = PartnerContact.objects.select_related("user").get(partner=khanya).user
        assert contact.role_keys == {SystemRole.AGENT}
        # The contact accepts the invitation (accounts' own journey): a password set here.
        contact.set_password(FACTORY_PASSWORD)
        contact.save(update_fields=["password"])
        theirs_url = reverse("partners:portal_candidate", args=[theirs.learner.pk])

    # The contact sees their one candidate's progress, and nothing of the other learner.
    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), "sipho@khanya.example", FACTORY_PASSWORD)
    panel = page.locator('[data-panel="partner-contact"]')
    expect(panel).to_contain_text("1 learner brought by Khanya Talent Agency")
    checker.look("contact-home")
    panel.get_by_role("link", name="1 learner").click()
    expect(page.get_by_role("heading", name="Khanya Talent Agency's candidates")).to_be_visible()
    expect(page.locator("[data-candidate]")).to_have_count(1)
    expect(page.get_by_text(theirs.learner.full_name)).to_have_count(0)
    checker.look("portal")
    page.get_by_role("link", name=ours.learner.full_name).click()
    expect(page.get_by_role("heading", name=ours.learner.full_name)).to_be_visible()
    expect(page.get_by_text(run_title)).to_be_visible()
    expect(page.get_by_role("cell", name=organisation)).to_be_visible()
    checker.look("portal-candidate")
    response = page.goto(url(theirs_url))
    assert response is not None
    assert response.status == 404

    with tenant_context(institution):
        assert User.objects.get(email="sipho@khanya.example").is_active
    checker.assert_clean()


def khanya_pk(institution) -> int:
    with tenant_context(institution):
        return Partner.objects.get(code="AG-200").pk
