"""An operator follows the institutions they asked for on the dashboard: waiting, failed with
the reason, tried again, dismissed; nothing disappears without a word. The broker is a Redis
of the test's own and the worker a process of its own, started when the test says so."""

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tenants.models import ProvisioningRequest, ProvisioningRequestStatus
from tenants.provisioning import MAX_PROVISIONING_ATTEMPTS, provisioning_requests_sweep
from tenants.services import institution_provision
from tests.browser.support import sign_in
from tests.faults import conftest as faults

pytestmark = pytest.mark.browser

start_worker = faults.start_worker


def ask_for(page: Page, site, name: str, code: str) -> None:
    page.goto(site.platform("/operator/"))
    page.get_by_role("link", name="New institution").click()
    page.get_by_label("Institution name").fill(name)
    page.get_by_label("Code").fill(code)
    page.get_by_label("Super admin's e-mail").fill(f"head@{code}.example")
    page.get_by_role("button", name="Create institution").click()
    expect(page.get_by_role("alert")).to_contain_text(f"{name} is being created")


def test_operator_sees_requests_waiting_failed_retried_and_dismissed(
    page: Page, site, operator, unique, own_redis, start_worker
):
    kappa, lambda_ = f"kappa-{unique}", f"lambda-{unique}"
    requests = page.locator("#provisioning-requests")
    kappa_row = requests.get_by_role("listitem").filter(has_text=kappa)
    lambda_row = requests.get_by_role("listitem").filter(has_text=lambda_)

    sign_in(page, site.platform("/accounts/login/"), operator.email)
    # No worker runs yet: both requests wait, and the dashboard says so.
    ask_for(page, site, f"Kappa Institute {unique}", kappa)
    ask_for(page, site, f"Lambda Institute {unique}", lambda_)
    expect(requests.get_by_role("heading", name="Institutions being created")).to_be_visible()
    expect(kappa_row.get_by_text("Waiting to start")).to_be_visible()
    expect(lambda_row.get_by_text("Waiting to start")).to_be_visible()

    # Meanwhile someone creates lambda from the command line.
    institution_provision(
        name="Lambda Elsewhere", code=lambda_, admin_email=f"other@{lambda_}.example"
    )
    # Kappa's workers all died in it (their leases ran out); the sweep gives up on it.
    ProvisioningRequest.objects.filter(code=kappa).update(
        status=ProvisioningRequestStatus.RUNNING,
        attempts=MAX_PROVISIONING_ATTEMPTS,
        lease_expires_at=timezone.now(),
    )
    provisioning_requests_sweep()

    # The list refreshes itself: kappa failed, with why.
    expect(kappa_row.get_by_text("Failed", exact=True)).to_be_visible()
    expect(kappa_row).to_contain_text("interrupted 3 times, so it was stopped")
    expect(lambda_row.get_by_text("Waiting to start")).to_be_visible()

    kappa_row.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Kappa Institute {unique} is being created again"
    )
    expect(kappa_row.get_by_text("Waiting to start")).to_be_visible()

    # The worker arrives: kappa is created, lambda's code is taken.
    start_worker()
    expect(kappa_row).to_have_count(0, timeout=60_000)
    expect(lambda_row.get_by_text("Failed", exact=True)).to_be_visible(timeout=60_000)
    expect(lambda_row).to_contain_text(f"“{lambda_}” is already taken by another institution")
    expect(lambda_row.get_by_role("button", name="Try again")).to_be_visible()

    lambda_row.get_by_role("button", name="Dismiss").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"The request for Lambda Institute {unique} is dismissed"
    )
    expect(requests).to_have_count(0)

    page.get_by_role("searchbox").fill(kappa)
    page.get_by_role("button", name="Filter").click()
    row = page.get_by_role("row").filter(has_text=f"Kappa Institute {unique}")
    expect(row.get_by_text("Active")).to_be_visible()
    assert ProvisioningRequest.objects.get(code=kappa).status == ProvisioningRequestStatus.DONE
