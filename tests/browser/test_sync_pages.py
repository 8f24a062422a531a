"""An admin follows a submission to the training gateway: the Sync link, the jobs with their
counts, a job the gateway rejected with its message and redacted payload, and a retry that
sends it again. An ops admin re-drives the dead letters in bulk, after a confirmation; a finance
user sets a programme's fee, applies it to a run's learners and changes one learner's fee.

With SCREENSHOTS=1 the pages are saved under screenshots/ (sync-*.png, ops-*.png, fees-*.png)."""

import datetime
import re

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from cohorts.services import cohort_create
from delivery.models import CourseEnrollment
from enrolments.services import enrollment_invite
from integrations.models import SyncJob, SyncJobStatus
from integrations.services import (
    sync_enqueue_many,
    sync_job_run,
    sync_jobs_sweep,
)
from integrations.testing import FakeGateway
from tests.browser.support import PageChecker, open_account_menu_item, sign_in
from tests.factories import (
    CohortFactory,
    CourseEnrollmentFactory,
    CourseFactory,
    CourseRunFactory,
    ProgrammeFactory,
)
from tests.integrations.conftest import configure, invite_consenting

pytestmark = pytest.mark.browser


def test_an_admin_sees_a_rejected_submission_and_retries_it(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("sync")
    admin = make_person(institution, SystemRole.ADMIN, name="Ayanda Admin")
    with FakeGateway() as gateway, tenant_context(institution):
        configure(gateway, timeout_seconds=5)
        cohort = cohort_create(
            actor=admin,
            name="Welding 2027",
            program_type="learnership",
            start_date="2027-02-01",
            end_date="2027-11-30",
        )
        invite_consenting(
            cohort=cohort,
            actor=admin,
            email=f"sipho@{institution.code}.example",
            full_name="Sipho Dube",
            id_number="9001015009087",
        )
        course_run, enrolment = SyncJob.objects.order_by("id")
        gateway.will("validation")
        sync_job_run(job_id=course_run.pk)
        checker = PageChecker(page, "sync", structure=True)

        sign_in(page, site.institution(institution.code, "/accounts/login/"), admin.email)
        open_account_menu_item(page, "Sync")
        expect(page.get_by_role("heading", name="Sync jobs")).to_be_visible()
        expect(page.locator("a[data-status=failed]")).to_contain_text("1")
        expect(page.locator("a[data-status=queued]")).to_contain_text("1")
        checker.look("job-list")

        page.get_by_role("link", name=f"#{course_run.pk}").click()
        expect(page.get_by_text("Course run dates are invalid").first).to_be_visible()
        payload = page.get_by_test_id("payload")
        expect(payload).to_contain_text("Welding 2027")
        checker.look("job-detail")

        page.get_by_role("button", name="Retry").click()
        expect(page.get_by_text("The job is queued again.")).to_be_visible()
        sync_job_run(job_id=course_run.pk)
        page.reload()
        expect(page.locator("h1 .badge")).to_have_text("Succeeded")

        page.goto(site.institution(institution.code, f"/integrations/{enrolment.pk}/"))
        expect(page.get_by_test_id("payload")).not_to_contain_text("9001015009087")
        expect(page.get_by_role("button", name="Cancel job")).to_be_visible()
        checker.look("enrolment-job")
    checker.assert_clean()


def test_an_ops_admin_redrives_the_dead_letters_after_a_confirmation(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("ops")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    ops_admin = make_person(institution, SystemRole.OPS_ADMIN, name="Olu Ops")
    with FakeGateway() as gateway, tenant_context(institution):
        configure(gateway, max_attempts=1, timeout_seconds=5)
        for name in ("Welding 2027", "Plumbing 2027"):
            cohort_create(
                actor=admin,
                name=name,
                program_type="learnership",
                start_date="2027-02-01",
                end_date="2027-11-30",
            )
        gateway.will("error_500", times=2)
        for job in SyncJob.objects.all():
            sync_job_run(job_id=job.pk)
        assert SyncJob.objects.filter(status=SyncJobStatus.DEAD_LETTER).count() == 2
        checker = PageChecker(page, "ops", structure=True)

        sign_in(page, site.institution(institution.code, "/accounts/login/"), ops_admin.email)
        open_account_menu_item(page, "Sync")
        expect(page.get_by_test_id("throughput-summary")).to_contain_text(
            "2 jobs finished, 2 failed (100%)"
        )
        page.get_by_text("Show the hours as a table").click()
        expect(page.get_by_test_id("throughput-table")).to_contain_text("2")
        expect(page.get_by_test_id("dead-letters")).to_contain_text("2 jobs")
        checker.look("dead-letters")

        page.get_by_role("link", name="Re-drive all 2 dead letters").click()
        expect(page.get_by_role("heading", name="Send 2 dead-letter jobs again?")).to_be_visible()
        checker.look("redrive-confirm")
        page.get_by_role("button", name="Send 2 jobs again").click()
        expect(page.get_by_text("2 dead-letter jobs are queued again")).to_be_visible()
        expect(page.get_by_test_id("dead-letters")).to_have_count(0)
        expect(page.locator("a[data-status=dead_letter]")).to_contain_text("0")
        checker.look("redriven")
    checker.assert_clean()


def test_finance_sets_a_programme_fee_applies_it_and_changes_one_learners(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("fees")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    finance = make_person(institution, SystemRole.FINANCE, name="Fiona Finance")
    with FakeGateway() as gateway:
        with tenant_context(institution):
            configure(gateway, timeout_seconds=5)
            programme = ProgrammeFactory(name="Plumbing", code="PLB-NQF3")
            course = CourseFactory(programme=programme, code="PLB101", name="Pipework")
            cohort = CohortFactory(
                active=True,
                name="Plumbing 2027",
                programme=programme,
                start_date=datetime.date(2027, 2, 1),
                end_date=datetime.date(2027, 11, 30),
            )
            run = CourseRunFactory(cohort=cohort, course=course)
            # Sipho consents to sharing with the funding body; Naledi has not yet.
            for name, invite in (
                ("Sipho Dlamini", invite_consenting),
                ("Naledi Mokoena", enrollment_invite),
            ):
                enrollment = invite(
                    cohort=cohort,
                    actor=admin,
                    email=f"{name.split()[0].lower()}@{institution.code}.example",
                    full_name=name,
                )
                CourseEnrollmentFactory(course_run=run, enrollment=enrollment)
            sync_enqueue_many([run])
            sync_enqueue_many(CourseEnrollment.objects.filter(course_run=run))
            sync_jobs_sweep()
        checker = PageChecker(page, "fees", structure=True)

        sign_in(page, site.institution(institution.code, "/accounts/login/"), finance.email)
        menu = page.get_by_role("navigation", name="Main")
        menu.get_by_role("button", name="Finance", exact=True).click()
        menu.get_by_role("link", name="Programme fees", exact=True).click()
        expect(page.get_by_role("heading", name="Fees", exact=True)).to_be_visible()
        checker.look("home")

        page.get_by_role("link", name="Set fee of PLB-NQF3").click()
        page.get_by_label("Fee", exact=True).fill("-5")
        page.get_by_label("Currency").fill("ZAR")
        page.get_by_role("button", name="Save fee").click()
        expect(page.get_by_text("Ensure this value is greater than or equal to 0")).to_be_visible()
        checker.look("programme-fee-refused")
        page.get_by_label("Fee", exact=True).fill("12500")
        page.get_by_label("Subsidy").fill("MICT SETA discretionary grant, 90%")
        page.get_by_role("button", name="Save fee").click()
        expect(page.get_by_text("The fee of PLB-NQF3 Plumbing is saved.")).to_be_visible()
        expect(page.get_by_test_id("programme-fees")).to_contain_text("ZAR 12500.00")

        page.get_by_role("link", name="PLB101 Pipework").click()
        expect(page.get_by_test_id("fee-row")).to_have_count(2)
        sipho = page.get_by_test_id("fee-row").filter(has_text="Sipho Dlamini")
        naledi = page.get_by_test_id("fee-row").filter(has_text="Naledi Mokoena")
        expect(sipho.get_by_test_id("gateway-standing")).to_contain_text("Accepted")
        expect(naledi.get_by_test_id("gateway-error")).to_have_text(
            "Naledi Mokoena has not consented to sharing with the funding body."
        )
        checker.look("run")
        page.get_by_role("link", name="Apply the programme's fee to all").click()
        expect(page.get_by_role("heading", name=re.compile("Give all 2 learners"))).to_be_visible()
        checker.look("apply-confirm")
        page.get_by_role("button", name="Apply to all learners").click()
        expect(page.get_by_text("The programme's fee is applied to 2 learners")).to_be_visible()

        page.get_by_role("link", name="Edit the fee of Sipho Dlamini").click()
        page.get_by_label("Fee", exact=True).fill("6250")
        page.get_by_label("Subsidy").fill("Employer pays half")
        checker.look("learner-fee")
        page.get_by_role("button", name="Save fee").click()
        expect(page.get_by_text("Sipho Dlamini's fee in PLB101 is saved.")).to_be_visible()
        expect(sipho).to_contain_text("ZAR 6250.00")
        expect(sipho.get_by_test_id("gateway-standing")).to_contain_text("Pending")
        checker.look("run-after")
        checker.assert_clean()
    with tenant_context(institution):
        fees = dict(
            CourseEnrollment.objects.values_list("enrollment__learner__first_name", "fee_amount")
        )
    assert {name: str(fee) for name, fee in fees.items()} == {
        "Sipho": "6250.00",
        "Naledi": "12500.00",
    }
