"""An admin follows a submission to the training gateway: the Sync link, the jobs with their
counts, a job the gateway rejected with its message and redacted payload, and a retry that
sends it again."""

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from cohorts.services import cohort_create
from integrations.models import SyncJob
from integrations.services import connector_config_save, sync_job_run
from integrations.testing import FakeGateway
from tests.browser.support import PageChecker, open_account_menu_item, sign_in
from tests.integrations.conftest import invite_consenting

pytestmark = pytest.mark.browser


def test_an_admin_sees_a_rejected_submission_and_retries_it(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("sync")
    admin = make_person(institution, SystemRole.ADMIN, name="Ayanda Admin")
    with FakeGateway() as gateway, tenant_context(institution):
        connector_config_save(
            actor=None,
            connector="training_gateway",
            base_url=gateway.url,
            credentials=gateway.credentials,
            timeout_seconds=5,
        )
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
