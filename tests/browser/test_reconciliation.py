"""An ops admin finds a cohort on the reconciliation page, sees a course run the gateway holds
differently, re-sends it, and once the sync has run sees it matched."""

import re

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from delivery import gateway as delivery_gateway
from integrations.services import sync_jobs_sweep
from integrations.testing import FakeGateway
from tests.browser.support import PageChecker, sign_in
from tests.delivery.reconciliation_support import delivery_make, delivery_send
from tests.integrations.conftest import configure

pytestmark = pytest.mark.browser


def test_an_ops_admin_re_sends_a_difference_and_sees_it_matched(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("reconcile")
    ops_admin = make_person(institution, SystemRole.OPS_ADMIN, name="Olu Ops")
    with FakeGateway() as gateway, tenant_context(institution):
        configure(gateway, timeout_seconds=5)
        delivered = delivery_make(title="Welding basics")
        delivery_send(delivered)
        gateway.alter("run", delivery_gateway.run_reference(delivered.run.pk), venue="Hall B")
        checker = PageChecker(page, "reconciliation", structure=True)

        sign_in(page, site.institution(institution.code, "/accounts/login/"), ops_admin.email)
        page.goto(site.institution(institution.code, "/delivery/reconciliation/"))
        expect(page.get_by_role("heading", name="Gateway reconciliation")).to_be_visible()
        checker.look("cohorts")

        page.get_by_role("link", name=delivered.run.cohort.name).click()
        run_heading = page.get_by_role("heading", name=re.compile("Welding basics"))
        expect(run_heading).to_be_visible()
        expect(run_heading.get_by_role("link")).to_have_count(0)  # the run page is not theirs
        row = page.locator(f"tr[data-reference=run-{delivered.run.pk}]")
        expect(row.locator("[data-outcome]")).to_have_text("Different")
        expect(row).to_contain_text("Hall B")
        checker.look("difference")

        row.get_by_role("button", name="Re-send").click()
        expect(page.get_by_text("1 record queued to be sent again")).to_be_visible()
        expect(page.get_by_text("A job for it is queued")).to_be_visible()
        checker.look("queued")

        sync_jobs_sweep()
        page.reload()
        expect(page.get_by_text("matches what Cohortly holds")).to_be_visible()
        page.get_by_role("link", name="All records").click()
        expect(
            page.locator(f"tr[data-reference=run-{delivered.run.pk}] [data-outcome]")
        ).to_have_text("Matched")
        checker.look("matched")
    checker.assert_clean()
