"""A student of an institution that asks for consent to sharing with the funding body gives
their consents as the first step of their enrolment, changes their details on their profile
(a new ID number sends their verified ID document back to review) and withdraws a consent."""

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole, User
from cohorts.models import DocumentType
from enrolments.models import DocumentStatus, StudentDocument
from enrolments.services import enrollment_details_save, enrollment_invite
from learners.consents import REQUIRED_CONSENTS, consent_given
from learners.models import ConsentKind, Learner, LearnerConsent
from tenants.models import Institution
from tenants.services import institution_profile_update
from tests.browser.support import PASSWORD, PageChecker, sign_in
from tests.enrolments.conftest import upload_document
from tests.factories import CohortFactory
from tests.learners.support import details_of, sa_id_number
from verification.services import document_review

pytestmark = pytest.mark.browser


@pytest.fixture
def student(make_institution, media):
    """Naledi, enrolled, her details in and her ID document verified; her institution asks
    for consent to sharing with the funding body."""
    institution = make_institution("consent")
    with tenant_context(institution):
        super_admin = User.objects.get(email=f"head@{institution.code}.example")
        institution_profile_update(
            institution=institution,
            actor=super_admin,
            changes={REQUIRED_CONSENTS: [ConsentKind.FUNDING_BODY_SHARING]},
        )
        admin = User.objects.create_user(
            email=f"ada@{institution.code}.example",
            password=PASSWORD,
            full_name="Ada Admin",
            roles=[SystemRole.ADMIN],
        )
        id_type = DocumentType.objects.get(name="South African ID or passport")
        enrollment = enrollment_invite(
            cohort=CohortFactory(
                active=True, name="Boilermaking 2027", required_document_types=[id_type]
            ),
            actor=admin,
            email=f"naledi@{institution.code}.example",
            full_name="Naledi Khumalo",
        )
        enrollment.user.set_password(PASSWORD)
        enrollment.user.save(update_fields=["password"])
        enrollment_details_save(enrollment=enrollment, actor=enrollment.user, details=details_of())
        document_review(
            document=upload_document(enrollment, id_type, name="naledi-id.pdf"),
            reviewer=admin,
            approve=True,
        )
    return Institution.objects.get(pk=institution.pk), enrollment


def test_a_student_gives_consents_changes_a_detail_and_withdraws_a_consent(
    page: Page, site, student, ratelimit_reset
):
    institution, enrollment = student
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "consent", structure=True)

    sign_in(page, url("/accounts/login/"), enrollment.user.email)
    step = page.locator("#consents")
    expect(step.get_by_role("heading", name="Your consents")).to_be_visible()
    expect(page.get_by_text("2 of 4 steps done")).to_be_visible()
    checker.look("enrolment-asks")

    step.get_by_label("Processing my personal information").check()
    step.get_by_label("Sharing my details with the funding body").check()
    step.get_by_role("button", name="Give the consents I ticked").click()
    expect(page.get_by_text("Thank you: your consents are recorded.")).to_be_visible()
    expect(page.get_by_text("3 of 4 steps done")).to_be_visible()
    expect(step.get_by_role("checkbox")).to_have_count(0)
    checker.look("enrolment-given")

    page.get_by_role("navigation").get_by_role("link", name="My profile").click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    expect(page.get_by_text("On file: the number ending 0080")).to_be_visible()
    checker.look("profile")

    page.get_by_label("Mobile number").fill("082 555 0199")
    page.get_by_label("South African ID number").fill(sa_id_number(42, birth="990412"))
    page.get_by_role("button", name="Save your details").click()
    expect(page.get_by_text("Your details are saved.")).to_be_visible()
    expect(page.get_by_text("goes back to the institution for review")).to_be_visible()
    checker.look("profile-saved")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role(
        "button", name="Withdraw your consent to sharing my details with the funding body"
    ).click()
    expect(page.get_by_text("You withdrew your consent")).to_be_visible()
    funding = page.locator("#consent-funding_body_sharing")
    expect(funding.get_by_text("Withdrawn")).to_be_visible()
    expect(funding.get_by_role("button", name="I consent")).to_be_visible()
    checker.look("profile-withdrawn")
    checker.assert_clean()

    with tenant_context(institution):
        learner = Learner.objects.get(pk=enrollment.learner_id)
        assert learner.phone_number == "+27825550199"
        assert consent_given(learner, ConsentKind.DATA_PROCESSING)
        assert not consent_given(learner, ConsentKind.FUNDING_BODY_SHARING)
        assert list(
            LearnerConsent.objects.filter(
                learner=learner, kind=ConsentKind.FUNDING_BODY_SHARING
            ).values_list("given", flat=True)
        ) == [False, True]
        document = StudentDocument.objects.get(enrollment=enrollment, is_current=True)
        assert document.status == DocumentStatus.PENDING
