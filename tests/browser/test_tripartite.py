"""One agreement per learner, signed by every party, in Chromium: each learner signs in the
portal, the sponsor signs all the learners' agreements from one e-mailed link (declining one,
with a reason), and the institution's signatory countersigns the rest in bulk after entering
their password again (a wrong one signs nothing); a task signs and seals each, with a progress
bar. Each sealed PDF carries the three signatures and the verify page accepts it.

With SHOTS_DIR set, the pages built for this are saved there at desktop and phone widths."""

import os
import re
import time
from pathlib import Path

import pytest
from django.core import mail
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from cohorts.services import cohort_activate, cohort_record_admin_signature
from enrolments.agreements import enrollment_agreement_start
from enrolments.services import enrollment_invite
from signing.models import Submission, SubmissionStatus
from signing.selectors import link_for_token, submissions_for_subject
from signing.services.completion import submitter_sign
from sponsors.services import cohort_sponsor_set, sponsor_create
from tenants.models import Institution
from tests.browser.support import DESKTOP, PASSWORD, PHONE, PageChecker, sign_in
from tests.factories import CohortFactory
from tests.learners.support import unused_sa_id_number
from tests.signing.conftest import pdf_text, token_from

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]

SPONSOR_LINK = re.compile(r"http://\S+/sponsor/[\w-]+/")
DECLINE_REASON = "This learner is not on our payroll."


def _shoot(page: Page, name: str) -> None:
    target = os.environ.get("SHOTS_DIR")
    if not target:
        return
    Path(target).mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=f"{target}/{name}-{label}.png", full_page=True)
    page.set_viewport_size(DESKTOP)


def _mail(to: str, subject: str):
    """The first message to `to` whose subject has `subject`, once the worker has sent it."""
    found = []

    def arrived() -> bool:
        found[:] = [m for m in mail.outbox if to in m.to and subject in m.subject]
        return bool(found)

    _wait_for(arrived, f"an e-mail to {to} about {subject!r}", timeout=20)
    return found[0]


def _wait_for(predicate, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_learner_sponsor_and_institution_sign_one_agreement_each_sealed_with_three_signatures(
    page: Page, site, make_person, celery_worker, media, unique, tmp_path
):
    institution = Institution.objects.get(code="alpha")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        sponsor = sponsor_create(
            actor=admin,
            company_name="Ubuntu Mining",
            contact_name="Sipho Dlamini",
            contact_email=f"sipho-{unique}@ubuntu.example",
            tax_number="9012345678",
        )
        cohort = CohortFactory(name=f"Mining Learnership {unique}", created_by=admin)
        cohort_record_admin_signature(cohort=cohort, actor=admin, signature="Ada Admin")
        cohort = cohort_sponsor_set(cohort=cohort, sponsor=sponsor, actor=admin)
        cohort = cohort_activate(cohort=cohort, actor=admin)
        enrollments = []
        for number, name in enumerate(["Lindiwe Zulu", "Thabo Nkosi", "Ayanda Khumalo"]):
            enrollment = enrollment_invite(
                cohort=cohort,
                actor=admin,
                email=f"learner{number}-{unique}@example.org",
                full_name=name,
                id_number=unused_sa_id_number(),
            )
            enrollment.user.set_password(PASSWORD)
            enrollment.user.save(update_fields=["password"])
            enrollments.append(enrollment)

    def sent() -> bool:
        with tenant_context(institution):
            return all(submissions_for_subject(e).exists() for e in enrollments)

    _wait_for(sent, "the learners' agreements")

    # The first learner signs in the portal and comes back to it, told who has not signed.
    lindiwe, thabo, ayanda = enrollments
    portal = PageChecker(page, "tripartite-portal", structure=True)
    sign_in(page, site.institution("alpha", "/accounts/login/"), lindiwe.user.email)
    page.get_by_role("link", name="Read and sign").click()
    expect(page.locator(".portal-agreement")).to_contain_text(
        "Ubuntu Mining, tax number 9012345678"
    )
    page.get_by_role("button", name="Sign the agreement").click()
    expect(page.get_by_text("Who signs, in order")).to_be_visible()
    page.get_by_label("Type it").check()
    page.get_by_label("Type your signature").fill("Lindiwe Zulu")
    page.locator("#id_consent").check()
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_text("Not signed yet by: the sponsor, the institution.")).to_be_visible()
    expect(page.locator("#agreement")).to_contain_text(
        "Signed by you. Not yet signed by the sponsor or the institution"
    )
    expect(page.locator("#agreement")).not_to_contain_text("Signed by everyone")
    portal.look("portal-signed")
    _shoot(page, "portal-waiting")
    page.context.clear_cookies()
    # The other two sign the same way (here through the service the portal calls).
    with tenant_context(institution):
        for enrollment in (thabo, ayanda):
            url = enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)
            submitter_sign(
                link=link_for_token(token_from(url)),
                signed_name=enrollment.user.full_name,
                consent=True,
                signature_text=enrollment.user.full_name,
            )

    # The admin e-mails the sponsor the one link to the learners' agreements.
    staff = PageChecker(page, "tripartite-staff", structure=True)
    sign_in(page, site.institution("alpha", "/accounts/login/"), admin.email)
    page.goto(site.institution("alpha", f"/cohorts/{cohort.pk}/"))
    learners = page.locator("#learner-agreements")
    expect(learners).to_contain_text("3 not yet signed by the sponsor")
    learners.get_by_role("button", name="E-mail Ubuntu Mining the link to sign").click()
    expect(page.get_by_text("The sponsor has been e-mailed a link")).to_be_visible()
    staff.look("cohort")
    _shoot(page, "cohort-page")
    message = _mail(sponsor.contact_email, "learners' agreements")
    assert "3 agreements wait for your signature now" in message.body
    sponsor_url = SPONSOR_LINK.search(message.body).group(0)
    page.context.clear_cookies()

    # The sponsor, without an account: declines one, signs one, then all the rest at once.
    sponsor_page = PageChecker(page, "tripartite-sponsor", structure=True)
    page.goto(sponsor_url)
    expect(
        page.get_by_role("heading", name="3 agreements waiting for your signature")
    ).to_be_visible()
    sponsor_page.look("list")
    _shoot(page, "sponsor-page")
    with tenant_context(institution):
        ayanda_submission = submissions_for_subject(ayanda).first()
    row = page.locator(f"#agreement-{ayanda_submission.pk}")
    row.locator("summary").click()
    row.get_by_label("Why do you decline").fill(DECLINE_REASON)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Decline it").click()
    expect(page.get_by_text("You declined the agreement")).to_be_visible()
    expect(
        page.get_by_role("heading", name="2 agreements waiting for your signature")
    ).to_be_visible()
    page.get_by_label("Type your signature").fill("S Dlamini")
    page.get_by_label("I agree to sign this document electronically", exact=False).check()
    page.get_by_role("button", name="Sign all 2 agreements").click()
    expect(page.locator("#form-problems")).to_contain_text(
        "Tick the box to confirm that you have read every agreement listed."
    )
    sponsor_page.look("read-first")
    page.get_by_label("I agree to sign this document electronically", exact=False).check()
    page.get_by_label("I have read every agreement listed above").check()
    page.get_by_role("button", name="Sign all 2 agreements").click()
    expect(page.get_by_text("You signed 2 agreements for Ubuntu Mining.")).to_be_visible()
    expect(page.get_by_text("No agreement waits for your signature.")).to_be_visible()
    decline = _mail(admin.email, "declined")
    assert "declined Ayanda Khumalo's agreement" in decline.subject
    assert DECLINE_REASON in decline.body

    # The institution's signatory countersigns both in bulk: a wrong password signs nothing.
    sign_in(page, site.institution("alpha", "/accounts/login/"), admin.email)
    page.goto(site.institution("alpha", f"/cohorts/{cohort.pk}/"))
    page.get_by_role("link", name="Countersign 2 agreements").click()
    expect(
        page.get_by_role("heading", name="2 agreements waiting for the institution")
    ).to_be_visible()
    staff.look("countersign")
    _shoot(page, "countersign")
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_label("I have read the agreements I am signing").check()
    page.get_by_role("button", name="Sign for the institution").click()
    expect(page.locator("#form-problems")).to_contain_text(
        "That is not your password. Nothing was signed."
    )
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("I have read the agreements I am signing").check()
    page.get_by_role("button", name="Sign for the institution").click()
    expect(page.get_by_role("heading", name="Countersigning 2 agreements")).to_be_visible()
    expect(page.get_by_role("progressbar")).to_be_visible()
    expect(page.get_by_text("Done: 2 of 2 agreements signed for the institution")).to_be_visible(
        timeout=90_000
    )
    staff.look("countersign-done")
    _shoot(page, "countersign-done")

    sealed = []
    with tenant_context(institution):
        for enrollment in (lindiwe, thabo):
            submission = Submission.objects.get(pk=submissions_for_subject(enrollment).first().pk)
            assert submission.status == SubmissionStatus.COMPLETED
            with submission.final_pdf.open("rb") as stored:
                pdf = stored.read()
            text = pdf_text(pdf)
            for name in (enrollment.user.full_name, "S Dlamini", "Ada Admin"):
                assert name in text
            assert [s.role for s in submission.submitters.all() if s.signed_at] == [
                "student",
                "sponsor",
                "institution_admin",
            ]
            sealed.append(pdf)
        assert submissions_for_subject(ayanda).first().status == SubmissionStatus.DECLINED
    # Each verifies on the verify page (pyHanko's own checks cannot run beside Playwright's loop).
    for number, pdf in enumerate(sealed):
        document = tmp_path / f"agreement-{number}.pdf"
        document.write_bytes(pdf)
        page.goto(site.institution("alpha", "/sign/verify/"))
        page.get_by_label("Signed PDF").set_input_files(document)
        page.get_by_role("button", name="Check").click()
        expect(page.get_by_role("status")).to_contain_text("Genuine and unmodified")

    # The learner's portal now says every party has signed.
    page.context.clear_cookies()
    sign_in(page, site.institution("alpha", "/accounts/login/"), lindiwe.user.email)
    page.goto(site.institution("alpha", f"/my/{lindiwe.pk}/"))
    expect(page.locator("#agreement")).to_contain_text("Signed by every party")
    portal.assert_clean()
    staff.assert_clean()
    sponsor_page.assert_clean()
