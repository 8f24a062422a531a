"""An admin creates a cohort with mistakes and reads what is wrong beside each field, once and
in sentences; the sponsor is not typed on the form but named from its record."""

import re

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from cohorts.models import Cohort
from sponsors.services import cohort_sponsor_set, sponsor_create
from tests.browser.support import PageChecker, sign_in

pytestmark = pytest.mark.browser


def test_the_cohort_form_explains_each_mistake_beside_its_field(
    page: Page, site, make_institution, make_person, unique
):
    institution = make_institution("form")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    url = lambda path="/": site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "cohort-form", structure=True)
    cohort_name = f"Electrical Learnership {unique}"

    sign_in(page, url("/accounts/login/"), admin.email)
    page.goto(url("/cohorts/new/"))
    expect(page.get_by_role("heading", name="New cohort")).to_be_visible()
    expect(page.get_by_label("Sponsor", exact=False)).to_have_count(0)  # nothing to type
    expect(
        page.get_by_text("Chosen on the cohort's page once the draft is created")
    ).to_be_visible()
    expect(page.get_by_label("Expected students")).to_have_value("1")
    expect(page.get_by_label("Expected students")).to_have_accessible_description(
        "How many students you plan to enrol, for planning and for the systems the cohort is "
        "synchronised with. It does not limit enrolment and can change later."
    )
    checker.look("new")

    page.get_by_label("Programme type").select_option(label="Learnership")
    page.get_by_label("Start date").fill("2027-11-30")
    page.get_by_label("End date").fill("2027-02-01")
    page.get_by_label("Expected students").fill("0")
    page.get_by_role("button", name="Create draft").click()

    name = page.get_by_role("textbox", name="Name")
    # Each field is described by its help, then by what is wrong, said once.
    expect(name).to_have_accessible_description(
        re.compile(r"^How pages, e-mails and agreements name the cohort, e\.g\. “Electrical "
                   r"learnership 2027”\. Enter the cohort's name\.\s*$")
    )  # fmt: skip
    expect(page.get_by_label("End date")).to_have_accessible_description(
        re.compile(r"^The programme's last day, as the agreements state it\. The cohort cannot "
                   r"end before it starts\.\s*$")
    )  # fmt: skip
    expect(page.get_by_label("Expected students")).to_have_accessible_description(
        re.compile(r"can change later\. A cohort expects at least 1 student\.\s*$")
    )
    errors = page.locator(".invalid-feedback")
    expect(errors).to_have_text(
        [
            "Enter the cohort's name.",
            "The cohort cannot end before it starts.",
            "A cohort expects at least 1 student.",
        ]
    )
    checker.look("errors")

    name.fill(cohort_name)
    page.get_by_label("Start date").fill("2027-02-01")
    page.get_by_label("End date").fill("2027-11-30")
    page.get_by_label("Expected students").fill("24")
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Cohort “{cohort_name}” created as a draft")

    with tenant_context(institution):
        cohort = Cohort.objects.get(name=cohort_name)
        assert cohort.student_count == 24
        sponsor = sponsor_create(
            actor=admin,
            company_name="Ubuntu Mining",
            contact_name="Sipho Dlamini",
            contact_email=f"sipho-{unique}@ubuntu.example",
        )
        cohort_sponsor_set(cohort=cohort, sponsor=sponsor, actor=admin)
    page.goto(url(f"/cohorts/{cohort.pk}/edit/"))
    expect(page.get_by_text("Ubuntu Mining: its notices and signing links go to its contact, "
                            "Sipho Dlamini.")).to_be_visible()  # fmt: skip
    page.get_by_role("link", name="cohort's page").click()
    expect(page.locator("#sponsor")).to_contain_text("Ubuntu Mining")
    page.go_back()
    expect(page.get_by_role("heading", name=f"Edit {cohort_name}")).to_be_visible()
    checker.look("edit")
    checker.assert_clean()
