"""A finance user sets a programme's stipend rate, prepares March's run and sees the deduction
for a learner's unexcused absence and the learner without bank details; her own approval is
refused. A second finance user approves it, is refused marking it paid before the bank file,
downloads the bank file (one row: the learner with confirmed details, less the deduction) and
marks the run paid: one payment to that learner is recorded."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from delivery.models import AttendanceStatus
from finance.models import Payment, StipendRun, StipendRunStatus
from tests.browser.support import PASSWORD, PageChecker, sign_in
from tests.finance.stipend_support import attended, bank_confirmed, deduction_set
from tests.finance.support import finance_world

pytestmark = pytest.mark.browser


def test_finance_prepares_a_months_stipends_another_approves_downloads_and_marks_paid(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("stipends")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        world = finance_world(admin, learners=2)
        for user in (world.finance, world.second_finance):
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        deduction_set(Decimal("150.00"))
        paid, unbanked = world.placed
        attended(world, paid, datetime.date(2027, 3, 2), AttendanceStatus.ABSENT)
        bank_confirmed(world, paid, "62000012345")
        programme = world.workplace.programme
        finance_email, second_email = world.finance.email, world.second_finance.email
        paid_name, unbanked_name = paid.learner.full_name, unbanked.learner.full_name
        paid_pk = paid.learner.pk
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "finance-stipends", structure=True)

    sign_in(page, url("/accounts/login/"), finance_email)
    page.goto(url("/finance/stipends/rates/"))
    expect(page.get_by_text("No stipend rates yet")).to_be_visible()
    checker.look("rates-empty")
    page.get_by_role("link", name="Add a rate").click()
    expect(page.get_by_role("heading", name="Add a stipend rate")).to_be_visible()
    page.get_by_label("Every learner of a programme").check()
    page.get_by_label("Programme", exact=True).select_option(
        label=f"{programme.name} ({programme.code})"
    )
    page.get_by_label("Monthly amount").fill("-10")
    page.get_by_label("From").fill("2027-03")
    page.get_by_role("button", name="Add the rate").click()
    expect(page.get_by_text("Ensure this value is greater than or equal to 0")).to_be_visible()
    checker.look("rate-refused")
    page.get_by_label("Monthly amount").fill("2500.00")
    page.get_by_role("button", name="Add the rate").click()
    expect(page.get_by_text("a month from March 2027")).to_be_visible()
    expect(page.locator("tr[data-rate]")).to_have_count(1)
    checker.look("rates")

    page.get_by_role("link", name="Monthly runs").click()
    expect(page.get_by_text("No stipend runs yet")).to_be_visible()
    checker.look("runs-empty")
    page.get_by_role("link", name="Prepare a month's run").click()
    page.get_by_label("Month").fill("2027-03")
    checker.look("prepare")
    page.get_by_role("button", name="Prepare the run").click()
    expect(page.get_by_text("The run for March 2027 is prepared: 2 learners")).to_be_visible()
    expect(page.get_by_test_id("run-total")).to_have_text("R4\u00a0850,00")
    paid_row = page.locator(f"tr[data-learner='{paid_pk}']")
    paid_row.get_by_text("(1 absence)").click()
    expect(
        paid_row.get_by_text("Absent without an excuse on Tue 2 Mar 2027: WP101")
    ).to_be_visible()
    unbanked_row = page.locator("tr[data-line]").filter(has_text=unbanked_name)
    expect(unbanked_row.get_by_text("No bank details")).to_be_visible()
    expect(unbanked_row.get_by_text("will not be in the bank file")).to_be_visible()
    expect(page.get_by_text("You prepared this run, so another finance user")).to_be_visible()
    checker.look("run-draft")

    # Her own approval is refused.
    page.get_by_role("link", name="Approve…").click()
    expect(page.get_by_role("heading", name="Approve the stipends for March 2027?")).to_be_visible()
    checker.look("approve-own")
    page.get_by_role("button", name="Approve the run").click()
    expect(page.get_by_text("another finance user must approve it")).to_be_visible()
    checker.look("approve-refused")

    # The second finance user approves.
    page.context.clear_cookies()
    sign_in(page, url("/accounts/login/"), second_email)
    page.goto(url("/finance/stipends/runs/"))
    page.get_by_role("link", name="March 2027").click()
    page.get_by_role("link", name="Approve…").click()
    page.get_by_role("button", name="Approve the run").click()
    expect(page.get_by_text("The run for March 2027 is approved")).to_be_visible()
    checker.look("run-approved")

    # Not paid before the bank file is made.
    page.get_by_role("link", name="Mark paid…").click()
    expect(page.get_by_text("The bank file has not been downloaded yet")).to_be_visible()
    checker.look("mark-paid-early")
    page.get_by_role("button", name="Mark paid").click()
    expect(page.get_by_text("Download the bank file and have the bank pay it")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()

    with page.expect_download() as download:
        page.get_by_role("button", name="Download the bank file").click()
    assert download.value.suggested_filename == "stipends-2027-03-bank-file.csv"
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8"))))
    assert rows[1:] == [
        [
            paid_name,
            "Capitec Bank",
            "470010",
            "62000012345",
            "savings",
            "2350.00",
            f"STIPEND 2027-03 L{paid_pk}",
        ]
    ]

    page.reload()
    expect(page.get_by_test_id("run-history")).to_contain_text("bank file downloaded")
    expect(page.get_by_role("link", name="Cancel the run…")).to_have_count(0)
    page.get_by_role("link", name="Mark paid…").click()
    heading = page.get_by_role("heading", name="Mark the stipends for March 2027 paid?")
    expect(heading).to_be_visible()
    page.get_by_label("Paid on").fill(timezone.localdate().isoformat())
    checker.look("mark-paid")
    # The learner without bank details is left out only when finance says so.
    page.get_by_role("button", name="Mark paid").click()
    expect(page.get_by_text("confirm that you leave them out")).to_be_visible()
    checker.look("mark-paid-unbanked")
    page.get_by_label("Leave out the 1 learner without bank details").check()
    page.get_by_role("button", name="Mark paid").click()
    expect(page.get_by_text("The run for March 2027 is paid")).to_be_visible()
    expect(page.get_by_text("1 learner without bank details is not paid")).to_be_visible()
    expect(page.locator(f"tr[data-learner='{paid_pk}']").get_by_text("paid ")).to_be_visible()
    checker.look("run-paid")

    checker.assert_clean()
    with tenant_context(institution):
        run = StipendRun.objects.get()
        assert run.status == StipendRunStatus.PAID
        payment = Payment.objects.get()
        assert (payment.learner_id, payment.amount) == (paid_pk, Decimal("2350.00"))
