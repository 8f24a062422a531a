"""A broker's commission from end to end, in Chromium: a placement confirmed through the
placements service accrues the broker's R750; finance finds it owed, opens the broker's
statement for the month and downloads its sealed PDF; pays it out (refused first with nothing
chosen, and with a date ahead), confirming on the page that says what will be recorded; the
broker's contact signs in and reads the statement with the payout, and gets the 404 on another
partner's. Desktop and phone widths, axe-core on every page. With SCREENSHOTS=1 the pages are
saved under screenshots/ (finance-commissions-*.png)."""

import datetime
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from finance.models import Commission, CommissionStatus, Payment
from partners.models import (
    LearnerIntroduction,
    PartnerContact,
    PartnerKind,
)
from placements.services.placements import placement_confirm
from signing.models import InstitutionCertificate
from signing.sealing import pdf_seal_check
from tests.browser.support import PageChecker, sign_in
from tests.finance.support import partner_make
from tests.finance.test_commissions import bank_account_for, broker_paid_per_placement
from tests.placements.placements.support import world as placements_world

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]


def test_a_confirmed_placement_earns_the_broker_a_commission_paid_out_and_on_their_statement(
    page: Page, site, make_institution, make_person
):
    institution = make_institution("commissions")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    finance = make_person(institution, SystemRole.FINANCE, name="Fatima Finance")
    second = make_person(institution, SystemRole.FINANCE, name="Frank Finance")
    contact = make_person(institution, SystemRole.BROKER, name="Bongani Broker")
    today = timezone.localdate()
    with tenant_context(institution):
        here = placements_world(admin)
        learner = here.learner("Ayanda Dube")
        broker = broker_paid_per_placement(name="Bridge Placements")
        other = partner_make(PartnerKind.AGENT, "AG-001", name="Ikhaya Recruitment")
        LearnerIntroduction.objects.create(learner=learner, broker=broker)
        PartnerContact.objects.create(partner=broker, user=contact)
        bank_account_for(broker, second)
        placement_confirm(placement=here.propose(learner), actor=here.member)
        assert Commission.objects.get(partner=broker).amount == Decimal("750.00")
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    statement = f"/finance/statements/partners/{broker.pk}/{today.year}/{today.month}/"
    checker = PageChecker(page, "finance-commissions", structure=True)

    # Finance finds the commission owed, and the broker's statement for the month.
    sign_in(page, url("/accounts/login/"), finance.email)
    page.goto(url("/finance/commissions/"))
    expect(page.get_by_role("heading", name="Commissions", exact=True)).to_be_visible()
    owed = page.get_by_test_id("owed")
    expect(owed.get_by_role("row", name="Bridge Placements")).to_contain_text("R750,00")
    checker.look("list")
    owed.get_by_role("link", name="Statements of Bridge Placements").click()
    heading = "Commission statements of Bridge Placements"
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    checker.look("months")
    page.get_by_role("link", name=f"{today:%B %Y}").click()
    expect(page.get_by_role("heading", name=f"Commission statement, {today:%B %Y}")).to_be_visible()
    expect(page.get_by_test_id("closing")).to_have_text("R750,00")
    expect(page.get_by_role("row", name="Ayanda Dube")).to_contain_text("per placement confirmed")
    checker.look("statement")

    with page.expect_download() as download:
        page.get_by_test_id("statement-pdf").click()
    assert download.value.suggested_filename == (f"commission-statement-BR-001-{today:%Y-%m}.pdf")
    pdf = Path(download.value.path()).read_bytes()
    with tenant_context(institution):
        certificates = list(InstitutionCertificate.objects.all())
    # pyHanko checks in an event loop of its own: not in the one Playwright runs in this thread.
    with ThreadPoolExecutor(max_workers=1) as thread:
        assert thread.submit(pdf_seal_check, pdf, certificates=certificates).result().ok

    # The payout: the bank account masked, nothing chosen refused, a date ahead refused.
    page.get_by_role("link", name="Pay commissions").click()
    expect(page.get_by_role("heading", name="Pay commissions to Bridge")).to_be_visible()
    expect(page.get_by_test_id("bank-account")).to_have_text("FNB ••••6789")
    checkbox = page.get_by_role("checkbox", name="Ayanda Dube")
    expect(checkbox).to_be_checked()
    checker.look("pay")
    checkbox.uncheck()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("refusal")).to_have_text("Choose at least one commission to pay.")
    page.get_by_role("checkbox", name="Ayanda Dube").check()
    page.get_by_label("Paid on").fill((today + datetime.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("the date cannot be ahead")).to_be_visible()
    checker.look("pay-refused")
    page.get_by_label("Paid on").fill(today.isoformat())
    page.get_by_label("Reference").fill("BR-001 COMMISSION")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Record this payout?")).to_be_visible()
    expect(page.get_by_test_id("payout-total")).to_have_text("R750,00")
    checker.look("pay-confirm")
    with tenant_context(institution):
        assert not Payment.objects.exists()
    page.get_by_role("button", name="Record the payout").click()
    paid = "The payout to Bridge Placements of 1 commission is recorded."
    expect(page.get_by_text(paid)).to_be_visible()
    expect(page.get_by_test_id("closing")).to_have_text("R0,00")
    expect(page.get_by_role("row", name="BR-001 COMMISSION")).to_contain_text("R750,00")
    checker.look("statement-paid")
    with tenant_context(institution):
        assert Commission.objects.get().status == CommissionStatus.PAID
        assert Payment.objects.get().reference == "BR-001 COMMISSION"

    # The broker's contact reads their own statements, and nobody else's.
    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), contact.email)
    page.goto(url("/finance/statements/mine/"))
    expect(page.get_by_role("heading", name="Commission statements")).to_be_visible()
    checker.look("contact-months")
    page.get_by_role("link", name=f"{today:%B %Y}").click()
    expect(page.get_by_role("row", name="BR-001 COMMISSION")).to_be_visible()
    expect(page.get_by_role("link", name="Pay commissions")).to_have_count(0)
    checker.look("contact-statement")
    response = page.goto(url(f"/finance/statements/partners/{other.pk}/"))
    assert response is not None
    assert response.status == 404
    response = page.goto(url(statement.replace(f"/{broker.pk}/", f"/{other.pk}/")))
    assert response is not None
    assert response.status == 404
    checker.assert_clean()
