"""An admin follows the agreements they sent: the list, one agreement's signers and trail, a
fresh link for the signer whose turn it is, and revoking it after confirming."""

import re

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from signing.models import Submission, SubmissionStatus
from signing.services.submissions import submission_create, submission_send
from signing.services.templates import template_create
from tenants.models import Institution
from tests.browser.support import PageChecker, sign_in, wait_for_mail

pytestmark = pytest.mark.browser


@pytest.mark.usefixtures("celery_worker")
def test_admin_finds_an_agreement_sends_a_fresh_link_and_revokes_it(
    page: Page, site, make_person, unique
):
    institution = Institution.objects.get(code="alpha")
    admin = make_person(institution, name="Ada Sender")
    signer_email = f"sipho-{unique}@ubuntu.example"
    with tenant_context(institution):
        template = template_create(
            title=f"Sponsor agreement {unique}",
            body="<p>{{ sponsor.company_name }} sponsors the cohort.</p>",
            signer_roles=["sponsor"],
            actor=admin,
        )
        submission = submission_create(
            template=template,
            context={"sponsor.company_name": "Ubuntu Mining"},
            signers=[{"role": "sponsor", "name": "Sipho Dlamini", "email": signer_email}],
            actor=admin,
        )
        submission_send(submission=submission, notify=False, actor=admin)

    checker = PageChecker(page, "sent-agreements", structure=True)
    sign_in(page, site.institution("alpha", "/accounts/login/"), admin.email)
    page.get_by_role("navigation").get_by_role("link", name="Agreements").click()
    page.get_by_role("link", name="Sent agreements").click()
    page.get_by_label("Search").fill(unique)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"\?q={unique}"))
    expect(page.get_by_role("link", name=template.title)).to_be_visible()
    checker.look("list")
    page.get_by_role("link", name=template.title).click()
    expect(page.get_by_role("heading", name="Waiting for Sipho Dlamini")).to_be_visible()
    checker.look("detail")

    page.get_by_role("button", name="Send a fresh link").click()
    expect(page.get_by_text("A fresh link is on its way")).to_be_visible()
    assert "/sign/" in wait_for_mail(signer_email).body

    page.get_by_text("Revoke this agreement…").click()
    page.get_by_label("Why are you revoking it?").fill("Sent to the wrong contact")
    checker.snap("revoke-confirm")
    page.get_by_role("button", name="Yes, revoke it").click()
    expect(page.get_by_text("Agreement revoked")).to_be_visible()
    expect(page.get_by_text("Reason: “Sent to the wrong contact”")).to_be_visible()
    expect(page.get_by_role("heading", name="Revoked")).to_be_visible()
    expect(page.get_by_role("button", name="Send a fresh link")).to_have_count(0)
    checker.look("revoked")
    checker.assert_clean()
    with tenant_context(institution):
        assert Submission.objects.get(pk=submission.pk).status == SubmissionStatus.REVOKED
