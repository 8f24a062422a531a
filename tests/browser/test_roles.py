"""Roles as data, in Chromium: a super admin makes a custom role "Document clerk" that may only
review documents (a missing name and a name already taken are refused beside the field, the
ticked permissions kept), gives it to a trainer and makes the clerk a reviewer of one cohort.
The clerk reviews that cohort's documents and reaches nothing of the other cohort; the clerk's
access page says what they may do, from which role, and where. A system role's form shows what
it always keeps, ticked and locked. Deleting the role names who holds it first; afterwards the
clerk no longer reaches the review queue.

Every page is checked by axe-core and at desktop and phone widths; with SCREENSHOTS=1 each is
saved under screenshots/ (git ignores it):
`SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_roles.py -p no:xdist`.
"""

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Browser, Page, expect

from accounts.models import Role, SystemRole, UserRole
from enrolments.models import DocumentStatus, StudentDocument
from enrolments.services import enrollment_invite
from tests.browser.support import DESKTOP, PageChecker, sign_in
from tests.enrolments.conftest import id_type, upload_document
from tests.factories import CohortFactory
from tests.files import png_bytes
from verification.models import DocumentVerification, VerificationAction

pytestmark = pytest.mark.browser

REVIEW = (
    "Review students' documents and ID checks and accept or reject them, in the cohorts they "
    "work in."
)
REVIEW_BOX = "#perm-verification-review_documents"
NOT_FOUND = "We couldn't find that page"


def _expect_not_found(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None, url
    assert response.status == 404, f"{url}: {response.status}"
    expect(page.get_by_role("heading", name=NOT_FOUND)).to_be_visible()


def _submitted_form(page: Page, name: str, description: str) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Description").fill(description)
    page.get_by_role("button", name="Save role").click()


def test_a_custom_role_reviews_one_cohort_and_is_deleted(
    page: Page, browser: Browser, site, make_institution, make_person, media, unique
):
    institution = make_institution("roles")
    head = make_person(institution, SystemRole.SUPER_ADMIN, name="Sena Head")
    clerk = make_person(institution, SystemRole.TRAINER, name="Dumi Clerk")
    names = {"A": f"Plumbing Learnership {unique}", "B": f"Welding Learnership {unique}"}
    with tenant_context(institution):
        cohorts, documents = {}, {}
        for letter, student in [("A", "Amahle Dlamini"), ("B", "Bongani Nkosi")]:
            cohorts[letter] = CohortFactory(active=True, name=names[letter])
            enrollment = enrollment_invite(
                cohort=cohorts[letter], actor=head, full_name=student,
                email=f"{student.split()[0].lower()}-{unique}@example.org",
            )  # fmt: skip
            documents[letter] = upload_document(
                enrollment, id_type(), name="id-card.png",
                content=png_bytes((900, 560)), content_type="image/png",
            )  # fmt: skip
    url = lambda path="/": site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "roles", structure=True)

    # --- The super admin goes People -> Roles -> New role.
    sign_in(page, url("/accounts/login/"), head.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    page.get_by_role("link", name="Roles", exact=True).click()
    expect(page.get_by_role("heading", name="Roles", exact=True)).to_be_visible()
    system = page.get_by_role("region", name="System roles")
    expect(system.get_by_role("link", name="Admin", exact=True)).to_be_visible()
    own = page.get_by_role("region", name="Your own roles")
    expect(own).to_contain_text("None yet.")
    checker.look("list")
    page.get_by_role("link", name="New role").click()
    expect(page.get_by_role("heading", name="New role")).to_be_visible()
    expect(page.get_by_role("group", name="Document review")).to_be_visible()
    checker.look("new")

    # No name: refused beside the field, the ticked permission and description kept.
    page.locator(REVIEW_BOX).check()
    _submitted_form(page, "", "Checks the documents students upload.")
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_class("form-control is-invalid")
    expect(name).to_have_accessible_description("This field is required.")
    expect(page.locator(REVIEW_BOX)).to_be_checked()
    expect(page.get_by_label("Description")).to_have_value("Checks the documents students upload.")
    checker.look("new-no-name")

    # A name already taken (a system role's): refused beside the field too.
    _submitted_form(page, "Admin", "Checks the documents students upload.")
    expect(name).to_have_accessible_description("There is already a role called Admin.")
    expect(page.locator(REVIEW_BOX)).to_be_checked()
    expect(page.get_by_role("checkbox", checked=True)).to_have_count(1)
    checker.look("new-name-taken")

    _submitted_form(page, "Document clerk", "Checks the documents students upload.")
    expect(page.get_by_role("heading", name="Document clerk")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Role Document clerk saved.")
    expect(page.get_by_text(REVIEW)).to_be_visible()
    expect(page.get_by_text("Nobody holds this role yet.")).to_be_visible()
    expect(
        page.get_by_text("Where: only in the cohorts each person is made a reviewer of")
    ).to_be_visible()
    checker.look("detail-new")
    with tenant_context(institution):
        role = Role.objects.get(name="Document clerk")
        assert list(Role.objects.filter(system_role=False)) == [role]
        assert [p.codename for p in role.permissions.all()] == ["review_documents"]

    # A system role's form: what it always keeps is ticked and cannot be unticked.
    page.get_by_role("link", name="Roles", exact=True).click()
    clerk_row = own.get_by_role("row").filter(has=page.get_by_role("link", name="Document clerk"))
    expect(clerk_row).to_contain_text("Checks the documents students upload.")
    expect(system).not_to_contain_text("Document clerk")
    checker.look("list-with-own")
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page.get_by_role("heading", name="Admin")).to_be_visible()
    checker.look("detail-system")
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit Admin")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_be_disabled()
    for code in ("perm-cohorts-manage_cohorts", "perm-verification-review_documents"):
        expect(page.locator(f"#{code}")).to_be_checked()
        expect(page.locator(f"#{code}")).to_be_disabled()
        expect(page.locator(f"#{code}")).to_have_accessible_description(
            "The greyed-out ticks are what Admin always keeps: the product needs them."
        )
    expect(page.locator("#perm-tenants-manage_institution")).to_be_enabled()
    expect(page.locator("#perm-tenants-manage_institution")).not_to_be_checked()
    checker.look("edit-system")
    page.get_by_role("link", name="Cancel").click()

    # --- The role is given to the trainer on their page in People.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    page.get_by_role("link", name="Dumi Clerk").click()
    expect(page.get_by_role("heading", name="Dumi Clerk")).to_be_visible()
    expect(page.get_by_label("Trainer")).to_be_checked()
    page.get_by_label("Document clerk").check()
    page.get_by_role("button", name="Save roles").click()
    expect(page.get_by_role("alert")).to_contain_text("Roles of Dumi Clerk updated.")
    expect(page.get_by_label("Document clerk")).to_be_checked()
    checker.look("person")
    person_url = page.url

    # --- ... and made a reviewer of cohort A only, on its dashboard.
    page.goto(url(f"/cohorts/{cohorts['A'].pk}/"))
    reviewers = page.locator(".card").filter(has=page.get_by_role("heading", name="Reviewers"))
    reviewers.get_by_role("combobox").select_option(label="Dumi Clerk")
    reviewers.get_by_role("button", name="Add reviewer").click()
    expect(page.get_by_role("alert")).to_contain_text("Dumi Clerk may now review this cohort.")
    expect(reviewers.get_by_role("listitem").filter(has_text="Dumi Clerk")).to_be_visible()
    checker.look("cohort-reviewer")

    # What the clerk may do, and why: the permission from the role, in cohort A only.
    page.goto(person_url)
    page.get_by_role("link", name="See what Dumi Clerk may do, and why").click()
    expect(page.get_by_role("heading", name="What Dumi Clerk may do")).to_be_visible()
    permission = page.get_by_role("listitem").filter(has_text=REVIEW)
    expect(permission).to_contain_text("From Document clerk")
    where = page.locator(".card").filter(has=page.get_by_role("heading", name="Where"))
    expect(where).to_contain_text(names["A"])
    expect(where).not_to_contain_text(names["B"])
    checker.look("access")

    # --- The clerk reviews cohort A's document, and reaches nothing of cohort B.
    clerk_context = browser.new_context(viewport=DESKTOP)  # a session of the clerk's own
    clerk_page = clerk_context.new_page()
    clerk_checker = PageChecker(clerk_page, "roles-clerk", structure=True)
    sign_in(clerk_page, url("/accounts/login/"), clerk.email)
    clerk_page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Review", exact=True
    ).click()
    expect(clerk_page.get_by_role("heading", name="Documents to review")).to_be_visible()
    expect(clerk_page.locator("tbody tr")).to_have_count(1)
    expect(clerk_page.locator("tbody tr")).to_contain_text("Amahle Dlamini")
    clerk_checker.look("queue")
    clerk_page.get_by_role("link", name="Start reviewing").click()
    expect(clerk_page.get_by_role("heading", level=1)).to_contain_text("South African ID")
    clerk_checker.look("document")
    clerk_page.get_by_label("Reason for rejecting").select_option(index=1)
    clerk_page.get_by_role("button", name="Reject").click()
    expect(
        clerk_page.get_by_text("Rejected: South African ID or passport of Amahle Dlamini.")
    ).to_be_visible()
    expect(clerk_page.get_by_text("Nothing is waiting for review.")).to_be_visible()
    with tenant_context(institution):
        decision = DocumentVerification.objects.get(document=documents["A"])
        assert (decision.action, decision.admin_id) == (VerificationAction.REJECTED, clerk.pk)
        assert decision.reason == "The photo is blurry or too dark to read."
        assert StudentDocument.objects.get(pk=documents["B"].pk).status == DocumentStatus.PENDING
    response = clerk_page.goto(url(f"/cohorts/{cohorts['A'].pk}/"))
    assert response is not None
    assert response.status == 200
    expect(clerk_page.get_by_role("heading", name=names["A"])).to_be_visible()
    _expect_not_found(clerk_page, url(f"/cohorts/{cohorts['B'].pk}/"))
    _expect_not_found(clerk_page, url(f"/review/documents/{documents['B'].pk}/"))
    clerk_checker.look("not-found")

    # --- Deleting the role asks first, naming who holds it.
    page.goto(url("/accounts/people/roles/"))
    page.get_by_role("link", name="Document clerk").click()
    holders = page.locator(".card").filter(has=page.get_by_role("heading", name="Who holds it"))
    expect(holders).to_contain_text("Dumi Clerk")
    expect(holders).to_contain_text("given by Sena Head")
    checker.look("detail-held")
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("heading", name="Delete the role Document clerk?")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Dumi Clerk")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text=REVIEW)).to_be_visible()
    checker.look("delete")
    page.get_by_role("button", name="Delete role").click()
    expect(page.get_by_role("alert")).to_contain_text("Role Document clerk deleted.")
    expect(page.get_by_role("link", name="Document clerk")).to_have_count(0)
    with tenant_context(institution):
        assert not UserRole.objects.filter(user=clerk, role__name="Document clerk").exists()

    # The clerk, still a trainer, no longer reaches the review queue.
    _expect_not_found(clerk_page, url("/review/"))

    checker.assert_clean()
    clerk_checker.assert_clean()
    clerk_context.close()
