"""A student's agreement in Chromium: the worker renders it when the student joins an active
cohort; the student declines it from the portal, sees why in the portal, the cohort's admin is
e-mailed, and the student signs again.

With SCREENSHOTS=1 the portal pages are saved under screenshots/ at desktop and phone widths:
`SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_agreement_decline.py -p no:xdist`."""

import time

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from cohorts.services import cohort_activate, cohort_record_admin_signature
from enrolments.models import CohortEnrollment
from enrolments.services import enrollment_invite
from signing.selectors import submissions_for_subject
from tenants.models import Institution
from tests.browser.support import PASSWORD, PageChecker, sign_in, wait_for_mail
from tests.factories import CohortFactory

pytestmark = pytest.mark.browser

REASON = "Clause 2 says nothing about the monthly stipend."


def _wait_for_agreement(institution: Institution, enrollment: CohortEnrollment) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with tenant_context(institution):
            if submissions_for_subject(enrollment).exists():
                return
        time.sleep(0.2)
    pytest.fail("the worker did not send the student's agreement")


@pytest.mark.usefixtures("ratelimit_reset")
def test_student_declines_the_agreement_and_then_signs_it_again(
    page: Page, site, make_person, celery_worker, media, unique
):
    institution = Institution.objects.get(code="alpha")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        cohort = CohortFactory(name=f"Plumbing Learnership {unique}", created_by=admin)
        cohort_record_admin_signature(cohort=cohort, actor=admin, signature="Ada Admin")
        cohort = cohort_activate(cohort=cohort, actor=admin)
        enrollment = enrollment_invite(
            cohort=cohort,
            actor=admin,
            email=f"lindiwe-{unique}@example.org",
            full_name="Lindiwe Zulu",
        )
        student = enrollment.user
        student.set_password(PASSWORD)
        student.save(update_fields=["password"])
    _wait_for_agreement(institution, enrollment)

    portal = PageChecker(page, "agreement-decline", structure=True)
    sign_in(page, site.institution("alpha", "/accounts/login/"), student.email)
    expect(page.get_by_role("heading", name=cohort.name)).to_be_visible()
    expect(page.locator("#agreement")).to_contain_text("Sign your agreement")
    expect(page.locator("#agreement")).to_contain_text("To sign")
    portal.look("portal")
    detail_url = page.url

    page.get_by_role("link", name="Read and sign").click()
    expect(page.get_by_role("heading", name="Programme participation agreement")).to_be_visible()
    portal.look("agreement")
    page.get_by_role("button", name="Sign the agreement").click()
    page.get_by_label("Why do you decline?").fill(REASON)
    page.get_by_role("button", name="Decline").click()
    # Back in the portal, with what happened.
    expect(page.get_by_role("alert")).to_contain_text("You declined the agreement")

    message = wait_for_mail(admin.email)
    assert message.subject == f"Lindiwe Zulu declined the agreement for {cohort.name}"
    assert f"Their reason: {REASON}" in message.body

    page.goto(detail_url)
    step = page.locator("#agreement")
    expect(step).to_contain_text("You declined this agreement.")
    expect(step).to_contain_text(REASON)
    expect(step).to_contain_text("Declined")
    portal.look("portal-declined")
    page.get_by_role("link", name="Read it and sign").click()
    expect(page.locator("#agreement-declined")).to_contain_text("You declined this agreement")
    expect(page.locator("#agreement-declined")).to_contain_text(REASON)
    portal.look("agreement-declined")

    page.get_by_role("button", name="Sign it now").click()
    expect(page.get_by_label("Your full name")).to_have_value("Lindiwe Zulu")
    page.get_by_label("Type it").check()
    page.get_by_label("Type your signature").fill("Lindiwe Zulu")
    page.locator("#id_consent").check()
    page.get_by_role("button", name="Sign", exact=True).click()
    # Back in the portal: signed by the student, waiting for the institution's countersignature.
    expect(page).to_have_url(detail_url)
    expect(page.locator("#agreement")).to_contain_text(
        "Signed by you. Not yet signed by the institution"
    )
    expect(page.locator("#agreement")).not_to_contain_text("You declined")
    portal.look("portal-signed")
    portal.assert_clean()
    with tenant_context(institution):
        assert [submission.status for submission in submissions_for_subject(enrollment)] == [
            "pending",
            "declined",
        ]
