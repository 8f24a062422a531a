"""Signing by e-mailed link, in the browser: a signer draws a signature and signs; an admin
writes a template and previews it."""

import io
import re

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from PIL import Image
from playwright.sync_api import Page, expect

from accounts.models import User
from signing.models import AgreementTemplate, SigningLink, Submission, SubmissionStatus
from signing.services.submissions import submission_create, submission_send
from signing.services.templates import template_create
from tenants.models import Institution
from tests.browser.support import PageChecker, draw_signature, sign_in

pytestmark = pytest.mark.browser

FOUNDER = "founder@alpha.example"  # alpha's super admin, from the session's fixtures


@pytest.mark.usefixtures("ratelimit_reset")
def test_signer_draws_a_signature_on_the_canvas_and_signs(page: Page, site, unique):
    institution = Institution.objects.get(code="alpha")
    with tenant_context(institution):
        admin = User.objects.get(email=FOUNDER)
        template = template_create(
            title=f"Participation agreement {unique}",
            body="<p>{{ student.full_name }} joins {{ cohort.name }}.</p>",
            signer_roles=["student"],
            actor=admin,
        )
        submission = submission_create(
            template=template,
            context={"student.full_name": "Thandi Mokoena", "cohort.name": "Analytics 2027"},
            signers=[
                {
                    "role": "student",
                    "name": "Thandi Mokoena",
                    "email": f"thandi-{unique}@example.org",
                },
            ],  # fmt: skip
            actor=admin,
        )
        url = submission_send(submission=submission, notify=False, actor=admin)

    checker = PageChecker(page, "signing", structure=True)
    page.goto(url)
    expect(page.get_by_role("heading", name=template.title)).to_be_visible()
    checker.look("sign")
    draw_signature(page)
    page.locator("#id_consent").check()
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("heading", name="Thank you, you have signed")).to_be_visible()
    checker.look("signed")
    checker.assert_clean()

    with tenant_context(institution):
        submission = Submission.objects.get(pk=submission.pk)
        signer = submission.submitters.get()
        assert submission.status == SubmissionStatus.COMPLETED
        assert signer.signature_text == ""
        with signer.signature_image.open("rb") as stored:
            drawn = Image.open(io.BytesIO(stored.read())).convert("RGBA")
        assert drawn.getbbox() is not None  # ink, not an empty canvas
        assert signer.user_agent
        assert submission.final_sha256

    page.goto(url)
    expect(
        page.get_by_role("heading", name="This signing link has already been used")
    ).to_be_visible()


def test_admin_writes_a_template_and_previews_it(page: Page, site, make_person, unique):
    institution = Institution.objects.get(code="alpha")
    admin = make_person(institution, name="Ada Template")
    checker = PageChecker(page, "template-editor", structure=True)
    sign_in(page, site.institution("alpha", "/accounts/login/"), admin.email)
    page.get_by_role("navigation").get_by_role("link", name="Agreements").click()
    expect(page.get_by_role("heading", name="Agreements")).to_be_visible()
    page.get_by_role("link", name="New template").click()
    title = f"Sponsor agreement {unique}"
    page.get_by_label("Title").fill(title)
    body = page.get_by_label("Agreement text")
    body.fill("{{ sponsor.company_name }} pays for {{ cohort.nmae }}.")
    body.select_text()
    page.get_by_role("button", name="Paragraph").click()
    # The live preview names the unknown field before anything is saved.
    live_preview = page.locator("#body-preview")
    expect(live_preview).to_contain_text("Unknown merge field: {{ cohort.nmae }}")
    page.get_by_label("Signs first").select_option("sponsor")
    page.get_by_label("Then").first.select_option("institution_admin")
    page.get_by_label("Then").last.select_option("Nobody")
    checker.look("template-unknown-field")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#body-errors")).to_contain_text("{{ cohort.nmae }}")
    body.fill("<p>{{ sponsor.company_name }} pays for ")
    expect(page.locator("#body-errors")).to_have_count(0)  # the saved error goes with the typo
    expect(body).not_to_have_class(re.compile("is-invalid"))
    body.press("End")
    page.get_by_role("button", name="Insert field").click()
    page.get_by_role("button", name="The cohort's name").click()
    expect(body).to_have_value("<p>{{ sponsor.company_name }} pays for {{ cohort.name }}")
    expect(live_preview).to_contain_text(
        "Ubuntu Mining (Pty) Ltd pays for Data Analytics Learnership"
    )
    checker.look("template-preview")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Template created.")).to_be_visible()
    expect(page.locator("iframe.signing-document")).to_be_visible()
    with tenant_context(institution):
        template = AgreementTemplate.objects.get(title=title)
    # The preview is fetched as the page's iframe fetches it: same origin, same session.
    preview = page.evaluate(
        """async (url) => {
            const response = await fetch(url);
            const start = new Uint8Array(await response.arrayBuffer()).slice(0, 4);
            return [response.headers.get("content-type"), String.fromCharCode(...start)];
        }""",
        f"/agreements/{template.pk}/preview.pdf",
    )
    assert preview == ["application/pdf", "%PDF"]
    assert template.signer_roles == ["sponsor", "institution_admin"]
    checker.assert_clean()


@pytest.mark.usefixtures("ratelimit_reset")
def test_an_expired_link_says_so_and_sends_a_fresh_one(page: Page, site, unique):
    institution = Institution.objects.get(code="alpha")
    with tenant_context(institution):
        admin = User.objects.get(email=FOUNDER)
        template = template_create(
            title=f"Sponsor agreement {unique}", body="<p>{{ sponsor.company_name }} agrees.</p>",
            signer_roles=["sponsor"], actor=admin,
        )  # fmt: skip
        submission = submission_create(
            template=template, context={"sponsor.company_name": "Ubuntu Mining"}, actor=admin,
            signers=[{"role": "sponsor", "name": "Sipho Dlamini",
                      "email": f"sipho-{unique}@example.org"}],
        )  # fmt: skip
        url = submission_send(submission=submission, notify=False, actor=admin)
        SigningLink.objects.filter(submitter__submission=submission).update(
            expires_at=timezone.now()
        )

    page.goto(url)
    expect(page.get_by_role("heading", name="This signing link has expired")).to_be_visible()
    page.get_by_role("button", name="Send me a new link").click()
    expect(page.get_by_role("heading", name="A new link is on its way")).to_be_visible()
    with tenant_context(institution):
        links = SigningLink.objects.filter(submitter__submission=submission)
        assert links.count() == 2
        assert links.filter(revoked_at__isnull=True, expires_at__gt=timezone.now()).count() == 1
