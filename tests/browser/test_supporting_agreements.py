"""Supporting agreements in Chromium: a cohort asks its students to sign a POPIA consent form
besides the main agreement. The student, whose details and documents are in, signs the main
agreement in the portal, sees the consent form open up after it and the enrolment still not
complete, signs the consent form, comes back to the portal with a message, and only then sees
the enrolment complete, with the signed copy to download. Another declines the consent form,
comes back to it with a message and sees her reason in the portal; once the cohort is
completed, the portal says the form was not signed and offers nothing to sign.

With SCREENSHOTS=1 the portal pages are saved under screenshots/ at desktop and phone widths:
`SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_supporting_agreements.py -p no:xdist`."""

import time

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from cohorts.services import cohort_activate, cohort_complete, cohort_record_admin_signature
from enrolments.agreements import agreements_countersign_start
from enrolments.models import CohortEnrollment, EnrollmentState, SupportingAgreement
from enrolments.selectors import agreements_awaiting_countersign
from enrolments.services import enrollment_details_save, enrollment_invite
from learners.forms import LearnerDetailsForm
from signing.selectors import submissions_for_subject
from signing.services.templates import template_create
from tenants.models import Institution
from tests.browser.support import PASSWORD, PageChecker, sign_in
from tests.enrolments.conftest import upload_document
from tests.enrolments.test_views import DETAILS
from tests.factories import CohortFactory
from tests.learners.support import consents_give, unused_sa_id_number
from verification.services import document_review

pytestmark = pytest.mark.browser

REASON = "Why must my ID number be kept for five years?"

POPIA = (
    "<p>I, {{ student.full_name }}, consent to {{ institution.name }} processing my personal "
    "information, including my ID number and qualifications, to run {{ cohort.name }} and to "
    "register it with the SETA, as the Protection of Personal Information Act allows.</p>"
)


def _wait_for_agreements(institution: Institution, enrollment: CohortEnrollment) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with tenant_context(institution):
            if (
                submissions_for_subject(enrollment).exists()
                and SupportingAgreement.objects.filter(enrollment=enrollment).exists()
            ):
                return
        time.sleep(0.2)
    pytest.fail("the worker did not send the student's agreements")


def _wait_for_countersigning(institution: Institution, enrollment: CohortEnrollment) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with tenant_context(institution):
            if CohortEnrollment.objects.get(pk=enrollment.pk).agreement_signed_at:
                return
        time.sleep(0.2)
    pytest.fail("the worker did not countersign the student's agreement")


def _sign_here(page: Page, name: str) -> None:
    expect(page.get_by_label("Your full name")).to_have_value(name)
    page.get_by_label("Type it").check()
    page.get_by_label("Type your signature").fill(name)
    page.locator("#id_consent").check()
    page.get_by_role("button", name="Sign", exact=True).click()


def _student_ready(institution: Institution, cohort, admin, email: str, name: str):
    """Enrol a student who has set her password, given her details and had her documents
    verified: what is left is signing."""
    with tenant_context(institution):
        enrollment = enrollment_invite(cohort=cohort, actor=admin, email=email, full_name=name)
        student = enrollment.user
        student.set_password(PASSWORD)
        student.save(update_fields=["password"])
        form = LearnerDetailsForm({**DETAILS, "id_number": unused_sa_id_number()})
        assert form.is_valid(), form.errors
        enrollment_details_save(enrollment=enrollment, actor=student, details=form.details())
        for document_type in cohort.required_document_types.all():
            document_review(
                document=upload_document(enrollment, document_type), reviewer=admin, approve=True
            )
    _wait_for_agreements(institution, enrollment)
    return enrollment


def _running_cohort(institution: Institution, admin, unique: str):
    with tenant_context(institution):
        popia = template_create(
            title=f"POPIA consent {unique}", body=POPIA, signer_roles=["student"], actor=admin
        )
        cohort = CohortFactory(name=f"Welding Learnership {unique}", created_by=admin)
        cohort.supporting_templates.set([popia])
        cohort_record_admin_signature(cohort=cohort, actor=admin, signature="Ada Admin")
        return cohort_activate(cohort=cohort, actor=admin), popia


@pytest.mark.usefixtures("ratelimit_reset")
def test_student_declines_the_consent_form_and_then_sees_the_cohort_closed(
    page: Page, site, make_person, celery_worker, media, unique
):
    institution = Institution.objects.get(code="alpha")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    cohort, popia = _running_cohort(institution, admin, unique)
    enrollment = _student_ready(
        institution, cohort, admin, f"zodwa-{unique}@example.org", "Zodwa Dube"
    )
    portal = PageChecker(page, "supporting-declined", structure=True)
    sign_in(page, site.institution("alpha", "/accounts/login/"), enrollment.user.email)
    detail_url = page.url
    page.locator("#agreement").get_by_role("link", name="Read and sign").click()
    page.get_by_role("button", name="Sign the agreement").click()
    _sign_here(page, "Zodwa Dube")
    # Back in the portal: her agreement now waits for the institution's signature.
    expect(page.get_by_text("Not signed yet by: the institution")).to_be_visible()
    page.goto(detail_url)
    consent = page.locator(f"#supporting-{popia.pk}")

    consent.get_by_role("link", name="Read and sign").click()
    page.get_by_role("button", name="Sign it").click()
    page.get_by_label("Why do you decline?").fill(REASON)
    page.get_by_role("button", name="Decline").click()

    expect(
        page.get_by_text(f"You declined “{popia.title}”. The institution has been told")
    ).to_be_visible()
    expect(page.locator("#agreement-declined")).to_contain_text(REASON)
    expect(page.get_by_role("button", name="Sign it now")).to_be_visible()
    portal.look("consent-declined")
    page.goto(detail_url)
    expect(consent).to_contain_text("You declined this agreement.")
    expect(consent).to_contain_text(REASON)
    expect(consent).to_contain_text("Declined")
    portal.look("portal-declined")

    with tenant_context(institution):
        cohort_complete(cohort=cohort, actor=admin, force_reason="The funding year ended.")
    page.reload()
    expect(page.locator("#cohort-closed")).to_contain_text("This cohort is completed")
    expect(consent).to_contain_text("Not signed before the cohort closed: you declined it.")
    expect(consent.get_by_role("link")).to_have_count(0)
    portal.look("portal-closed")
    page.goto(site.institution("alpha", f"/my/{enrollment.pk}/agreements/{popia.pk}/"))
    expect(
        page.get_by_text("This cohort is completed; its agreements can no longer be signed.")
    ).to_be_visible()
    expect(page.locator("main form")).to_have_count(0)
    portal.look("consent-closed")
    portal.assert_clean()


@pytest.mark.usefixtures("ratelimit_reset")
def test_student_signs_the_main_agreement_then_the_popia_consent_and_only_then_is_complete(
    page: Page, site, make_person, celery_worker, media, unique
):
    institution = Institution.objects.get(code="alpha")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        popia = template_create(
            title=f"POPIA consent {unique}", body=POPIA, signer_roles=["student"], actor=admin
        )
        cohort = CohortFactory(name=f"Welding Learnership {unique}", created_by=admin)
        cohort.supporting_templates.set([popia])
        cohort_record_admin_signature(cohort=cohort, actor=admin, signature="Ada Admin")
        cohort = cohort_activate(cohort=cohort, actor=admin)
        enrollment = enrollment_invite(
            cohort=cohort,
            actor=admin,
            email=f"naledi-{unique}@example.org",
            full_name="Naledi Khumalo",
        )
        student = enrollment.user
        student.set_password(PASSWORD)
        student.save(update_fields=["password"])
        # Her consent, details and documents are in and verified: what is left is signing.
        consents_give(enrollment.learner)
        form = LearnerDetailsForm({**DETAILS, "id_number": unused_sa_id_number()})
        assert form.is_valid(), form.errors
        enrollment_details_save(enrollment=enrollment, actor=student, details=form.details())
        for document_type in cohort.required_document_types.all():
            document_review(
                document=upload_document(enrollment, document_type), reviewer=admin, approve=True
            )
    _wait_for_agreements(institution, enrollment)

    portal = PageChecker(page, "supporting-agreements", structure=True)
    sign_in(page, site.institution("alpha", "/accounts/login/"), student.email)
    expect(page.get_by_role("heading", name=cohort.name)).to_be_visible()
    consent = page.locator(f"#supporting-{popia.pk}")
    expect(consent).to_contain_text(popia.title)
    expect(consent).to_contain_text("After your agreement")
    expect(consent).to_contain_text("You can sign it once you have signed your agreement above.")
    expect(consent.get_by_role("link")).to_have_count(0)
    portal.look("portal-before")
    detail_url = page.url

    page.locator("#agreement").get_by_role("link", name="Read and sign").click()
    page.get_by_role("button", name="Sign the agreement").click()
    _sign_here(page, "Naledi Khumalo")
    # Back in the portal: the consent form opens up once she has signed, before the institution
    # countersigns her agreement.
    expect(page.get_by_text("Not signed yet by: the institution")).to_be_visible()
    assert page.url.startswith(detail_url)
    expect(page.locator("#agreement")).to_contain_text(
        "Signed by you. Not yet signed by the institution"
    )
    expect(consent).to_contain_text("To sign")
    expect(page.get_by_text("All done.")).to_have_count(0)
    expect(page.get_by_text("4 of 6 steps done")).to_be_visible()
    portal.look("portal-main-signed")
    with tenant_context(institution):
        assert CohortEnrollment.objects.get(pk=enrollment.pk).state == EnrollmentState.IN_PROGRESS

    consent.get_by_role("link", name="Read and sign").click()
    expect(page.get_by_role("heading", name=popia.title, exact=True)).to_be_visible()
    expect(page.get_by_label("Agreement text")).to_contain_text("I, Naledi Khumalo, consent to")
    portal.look("consent")
    page.get_by_role("button", name="Sign it").click()
    _sign_here(page, "Naledi Khumalo")

    # Back in the portal, with a message, at the consent form's step; the enrolment waits only
    # for the institution now.
    expect(page.get_by_text(f"You signed “{popia.title}”.")).to_be_visible()
    assert page.url.startswith(detail_url)
    expect(consent).to_contain_text("Signed as “Naledi Khumalo”")
    expect(page.get_by_text("5 of 6 steps done")).to_be_visible()
    with tenant_context(institution):
        assert CohortEnrollment.objects.get(pk=enrollment.pk).state == EnrollmentState.IN_PROGRESS
        [waiting] = agreements_awaiting_countersign(cohort=cohort)
        agreements_countersign_start(
            cohort=cohort,
            actor=admin,
            submission_ids=[waiting.latest_agreement_id],
            signed_name="Ada Admin",
            password=PASSWORD,
        )
    _wait_for_countersigning(institution, enrollment)

    page.reload()
    expect(page.get_by_text("All done.")).to_be_visible()
    expect(page.get_by_text("6 of 6 steps done")).to_be_visible()
    portal.look("portal-complete")
    with page.expect_download() as download:
        consent.get_by_role("link", name="Download the signed copy (PDF)").click()
    assert download.value.suggested_filename == "signed-supporting-agreement.pdf"
    portal.assert_clean()
    with tenant_context(institution):
        assert CohortEnrollment.objects.get(pk=enrollment.pk).state == EnrollmentState.COMPLETE
