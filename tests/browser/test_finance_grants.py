"""A finance user adds a SETA grant agreement for a running cohort, brings its claims up to
date and finds the registration claims due, each with its evidence: one learner has not signed
their agreement, so submitting all three is refused; the other two are submitted, then marked
paid. An admin reads the same page, without the buttons, and follows an evidence link."""

import re

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from finance.models import GrantClaim, GrantClaimStatus, Payment
from tests.browser.support import PageChecker, sign_in
from tests.factories import PASSWORD
from tests.finance.grants_support import grants_world, registration_evidence, started_days_ago

pytestmark = pytest.mark.browser


def test_finance_claims_a_setas_registration_tranches_and_marks_them_paid(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("grants")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        world = grants_world(admin, learners=3)
        started_days_ago(world, 10)
        signed, also_signed, unsigned = world.placed
        registration_evidence(signed)
        registration_evidence(also_signed)
        registration_evidence(unsigned, agreement=False)
        cohort_pk = world.workplace.run.cohort_id
        finance_email = world.finance.email
        names = [p.learner.full_name for p in world.placed]
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "grants", structure=True)

    sign_in(page, url("/accounts/login/"), finance_email, PASSWORD)
    page.goto(url("/finance/grants/"))
    expect(page.get_by_role("heading", name="Grant agreements")).to_be_visible()
    expect(page.get_by_text("No grant agreements yet.")).to_be_visible()
    checker.look("list-empty")

    page.get_by_role("link", name="Add an agreement").click()
    expect(page.get_by_role("heading", name="Add a grant agreement")).to_be_visible()
    page.get_by_label("Cohort").select_option(str(cohort_pk))
    page.get_by_label("SETA").fill("MICT SETA")
    page.get_by_label("Agreement reference").fill("MICT-DG-2027-014")
    page.get_by_label("Per learner at registration").fill("5000")
    page.get_by_label("Per learner at mid-point").fill("7500")
    page.get_by_label("Per learner at completion").fill("-1")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Ensure this value is greater than or equal to 0.")).to_be_visible()
    checker.look("form-refused")
    page.get_by_label("Per learner at completion").fill("12500")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", name="MICT SETA grant MICT-DG-2027-014")).to_be_visible()
    expect(page.get_by_text("No claims yet.")).to_be_visible()
    checker.look("agreement-empty")

    page.get_by_role("button", name="Bring claims up to date").click()
    expect(page.get_by_text("3 claims became due.")).to_be_visible()
    rows = page.locator("[data-claim]")
    expect(rows).to_have_count(3)
    expect(page.locator('[data-milestone="registration"] [data-status="due"]')).to_contain_text(
        "3 · R15 000,00"
    )
    unsigned_row = page.locator(f'[data-claim][data-learner="{names[2]}"]')
    expect(unsigned_row).to_contain_text("No signed agreement yet")
    expect(page.locator(f'[data-claim][data-learner="{names[0]}"]')).to_contain_text(
        "Signed agreement"
    )
    expect(page.locator(f'[data-claim][data-learner="{names[0]}"]')).to_contain_text("ID document")
    checker.look("agreement-due")

    # All three: refused, nothing submitted.
    for name in names:
        page.get_by_label(f"Choose {name}'s registration claim").check()
    page.get_by_role("button", name="Submit due claims").click()
    expect(page.get_by_role("heading", name="Submit claims to the SETA")).to_be_visible()
    checker.look("submit-confirm")
    page.get_by_role("button", name="Submit claims").click()
    expect(page.get_by_test_id("refusal")).to_contain_text(
        f"{names[2]}'s registration claim: No signed agreement yet"
    )
    checker.look("submit-refused")
    page.get_by_role("link", name="Go back").click()

    for name in names[:2]:
        page.get_by_label(f"Choose {name}'s registration claim").check()
    page.get_by_role("button", name="Submit due claims").click()
    page.get_by_role("button", name="Submit claims").click()
    expect(page.get_by_text("2 claims (R10 000,00) submitted to the SETA.")).to_be_visible()
    expect(
        page.locator('[data-milestone="registration"] [data-status="submitted"]')
    ).to_contain_text("2 · R10 000,00")

    for name in names[:2]:
        page.get_by_label(f"Choose {name}'s registration claim").check()
    page.get_by_role("button", name="Mark submitted claims paid").click()
    expect(page.get_by_role("heading", name="Mark claims paid")).to_be_visible()
    page.get_by_label("Payment reference").fill("MICT-PAY-0088")
    checker.look("pay-confirm")
    page.get_by_role("button", name="Mark paid").click()
    expect(page.get_by_text("2 claims (R10 000,00) paid.")).to_be_visible()
    expect(page.locator('[data-milestone="registration"] [data-status="paid"]')).to_contain_text(
        "2 · R10 000,00"
    )
    expect(page.locator(f'[data-claim][data-learner="{names[0]}"]')).to_contain_text(
        "ref. MICT-PAY-0088"
    )
    checker.look("agreement-paid")

    page.get_by_role("link", name="Grant agreements").click()
    expect(page.locator("[data-agreement]")).to_contain_text("MICT SETA MICT-DG-2027-014")
    checker.look("list")

    with tenant_context(institution):
        payment = Payment.objects.get()
        assert (payment.counterparty, payment.reference, str(payment.amount)) == (
            "MICT SETA",
            "MICT-PAY-0088",
            "10000.00",
        )
        assert sorted(GrantClaim.objects.values_list("status", flat=True)) == [
            GrantClaimStatus.DUE,
            GrantClaimStatus.PAID,
            GrantClaimStatus.PAID,
        ]

    # The admin reads it: no buttons, and the evidence linked to its pages.
    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), admin.email)
    page.goto(url("/finance/grants/"))
    page.get_by_role("link", name="MICT SETA MICT-DG-2027-014").click()
    expect(page.get_by_role("button", name="Bring claims up to date")).to_have_count(0)
    expect(page.get_by_role("button", name="Submit due claims")).to_have_count(0)
    checker.look("agreement-admin")
    # The link leads to the document's review page (its embedded preview is the verification
    # tests' to check).
    evidence = page.locator(f'[data-claim][data-learner="{names[0]}"]').get_by_role(
        "link", name="ID document"
    )
    expect(evidence).to_have_attribute("href", re.compile(r"^/review/documents/\d+/$"))
    checker.assert_clean()
