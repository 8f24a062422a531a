"""Organisation members in Chromium: a member of two schools switches to the second and sets
its preference for next year (a repeated subject is refused on its row and nothing is saved),
saving a form opened before a switch in another tab is refused; signs out and in, and still
acts for the second school; an admin sees who has not answered and
reminds them (once a day); the subject tree refuses a cycle with its path, and a new code
for a subject a preference offers places in. Desktop and phone
widths, axe-core on every page.

With SCREENSHOTS=1 the pages are saved under screenshots/ (members-*.png, preferences-*.png)."""

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from placements.models import PlacementPreference, PlacementSubject, PreferenceReminder
from placements.services.memberships import membership_add
from tests.browser.support import PageChecker, sign_in
from tests.placements.factories import OrganisationFactory, academic_year, preference
from tests.placements.members.calendar_years import NEXT

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]


def _sign_out(page: Page) -> None:
    page.get_by_test_id("account-menu").click()
    page.get_by_role("button", name="Sign out").click()


def test_a_member_switches_organisation_and_sets_a_years_preference(
    page: Page, site, make_institution, make_person
):
    institution = make_institution("members")
    member = make_person(institution, SystemRole.ORGANISATION_MEMBER, name="Mia Member")
    with tenant_context(institution):
        acacia = OrganisationFactory(name="Acacia Primary")
        baobab = OrganisationFactory(name="Baobab High", email_address="office@baobab.example")
        for school in (acacia, baobab):
            membership_add(actor=None, organisation=school, email=member.email)
        year = academic_year(str(NEXT))
    checker = PageChecker(page, "members", structure=True)
    login = site.institution(institution.code, "/accounts/login/")
    sign_in(page, login, member.email)

    # The start page says which organisation they act for and what waits.
    panel = page.locator('[data-panel="organisation-member"]')
    expect(panel.get_by_role("heading", name="Acacia Primary")).to_be_visible()
    expect(panel).to_contain_text(f"Placement preference for {NEXT} not set yet.")
    checker.look("start-page")

    panel.get_by_role("link", name="My organisation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Acacia Primary")
    checker.look("home-acacia")
    page.get_by_role("button", name="Switch to Baobab High").click()
    expect(page.get_by_text("You are now acting for Baobab High.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Baobab High")
    checker.look("home-baobab")

    page.get_by_role("link", name=f"Answer for {NEXT}").click()
    expect(page.get_by_role("heading", name=f"Placement preference for {NEXT}")).to_be_visible()
    checker.look("preference-empty")
    page.get_by_label("Interested", exact=True).check()
    page.get_by_label("Subject row 1").select_option("MATH")
    page.get_by_label("Places row 1").fill("3")
    page.get_by_label("Subject row 2").select_option("MATH")
    page.get_by_label("Places row 2").fill("1")
    page.get_by_label("From window 1").fill(f"{NEXT}-02-01")
    page.get_by_label("To window 1").fill(f"{NEXT}-03-26")
    page.get_by_label("Notes").fill("Ask for Mr Dube at reception.")
    page.get_by_role("button", name="Save preference").click()

    expect(page.get_by_test_id("form-errors")).to_contain_text("Nothing was saved")
    rows = page.get_by_test_id("places-row")
    expect(rows.nth(1).get_by_test_id("row-error")).to_have_text(
        "MATH (secondary) is listed twice: give its places once"
    )
    expect(rows.nth(0).get_by_test_id("row-error")).to_have_count(0)
    expect(page.get_by_label("Notes")).to_have_value("Ask for Mr Dube at reception.")
    with tenant_context(institution):
        assert not PlacementPreference.objects.exists()
    checker.look("preference-refused")

    page.get_by_label("Subject row 2").select_option("ENG")
    page.get_by_label("Places row 2").fill("2")
    page.get_by_role("button", name="Save preference").click()
    expect(page.get_by_text(f"Baobab High's preference for {NEXT} is saved.")).to_be_visible()
    preferences = page.get_by_test_id("member-preferences")
    expect(preferences).to_contain_text("Interested")
    expect(preferences).to_contain_text("Mathematics (Secondary): 3")
    expect(preferences).to_contain_text("English (Secondary): 2")
    checker.look("home-answered")
    with tenant_context(institution):
        stored = PlacementPreference.objects.get()
        assert (stored.organisation_id, stored.academic_year_id) == (baobab.pk, year.pk)
        assert stored.placement_details["windows"] == [
            {"starts_on": f"{NEXT}-02-01", "ends_on": f"{NEXT}-03-26"}
        ]

    # A form opened for Baobab, then a switch to Acacia in another tab: saving it changes
    # neither organisation's preference.
    page.get_by_role("link", name=f"Change for {NEXT}").click()
    page.get_by_label("Places row 1").fill("5")
    other_tab = page.context.new_page()
    other_tab.goto(site.institution(institution.code, "/placements/my-organisation/"))
    other_tab.get_by_role("button", name="Switch to Acacia Primary").click()
    expect(other_tab.get_by_role("heading", level=1)).to_have_text("Acacia Primary")
    other_tab.close()
    page.get_by_role("button", name="Save preference").click()
    expect(
        page.get_by_text("This form was opened for another organisation: nothing was saved.")
    ).to_be_visible()
    expect(page.locator("main")).to_contain_text("For Acacia Primary.")
    expect(page.get_by_label("Places row 1")).to_have_value("")
    checker.look("preference-stale")
    with tenant_context(institution):
        assert PlacementPreference.objects.get().placement_details["places"][0]["places"] == 3
    page.goto(site.institution(institution.code, "/placements/my-organisation/"))
    page.get_by_role("button", name="Switch to Baobab High").click()

    # The choice of organisation is stored: it holds at the next sign-in.
    _sign_out(page)
    sign_in(page, login, member.email)
    expect(
        page.locator('[data-panel="organisation-member"]').get_by_role(
            "heading", name="Baobab High"
        )
    ).to_be_visible()
    expect(page.locator('[data-panel="organisation-member"]')).to_contain_text(
        "Nothing waits for your answer."
    )
    page.goto(site.institution(institution.code, "/placements/my-organisation/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Baobab High")
    checker.assert_clean()


def test_an_admin_reminds_organisations_that_have_not_answered(
    page: Page, site, make_institution, make_person
):
    institution = make_institution("prefs")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    member = make_person(institution, SystemRole.ORGANISATION_MEMBER, name="Mia Member")
    with tenant_context(institution):
        year = academic_year(str(NEXT))
        acacia = OrganisationFactory(name="Acacia Primary")
        membership_add(actor=None, organisation=acacia, email=member.email)
        OrganisationFactory(name="Cedar College", email_address="office@cedar.example")
        OrganisationFactory(name="Dune School")  # no one to remind
    checker = PageChecker(page, "preferences", structure=True)
    sign_in(page, site.institution(institution.code, "/accounts/login/"), admin.email)

    page.goto(site.institution(institution.code, f"/placements/preferences/?year={year.pk}"))
    expect(page.get_by_role("heading", name="Placement preferences")).to_be_visible()
    expect(page.locator('[data-count="unanswered"]')).to_have_text("3")
    expect(
        page.get_by_text("No one: add a member, an e-mail address or a placement lead")
    ).to_be_visible()
    checker.look("overview")

    page.get_by_label("Remind Acacia Primary").check()
    page.get_by_role("button", name="Remind selected").click()
    expect(page.get_by_text("Reminder sent to 1 organisation.")).to_be_visible()
    checker.look("overview-reminded")

    page.get_by_role("button", name="Remind all 3 not answered").click()
    expect(page.get_by_text("Reminder sent to 1 organisation.")).to_be_visible()
    expect(
        page.get_by_text("Not reminded again: Acacia Primary, reminded less than 24 hours ago.")
    ).to_be_visible()
    expect(page.get_by_text("No one to remind at Dune School")).to_be_visible()
    checker.look("overview-refused")
    with tenant_context(institution):
        assert PreferenceReminder.objects.count() == 2

    # The organisation's own page: members and preferences, set on its behalf.
    page.get_by_role("link", name="Acacia Primary").click()
    expect(
        page.get_by_role("heading", name="Acacia Primary: placement preferences")
    ).to_be_visible()
    checker.look("organisation-preferences")
    page.get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members of Acacia Primary")).to_be_visible()
    page.get_by_label("E-mail address").fill("new.lead@acacia.example")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("give their full name to invite them")).to_be_visible()
    checker.look("members-refused")
    page.get_by_label("Full name").fill("Nandi Lead")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("Nandi Lead is now a member of Acacia Primary")).to_be_visible()
    checker.look("members")
    page.get_by_role("link", name="Remove Mia Member").click()
    expect(page.get_by_text("It is their only organisation")).to_be_visible()
    checker.look("member-remove")
    page.get_by_role("button", name="Remove member").click()
    expect(page.get_by_text("Mia Member is no longer a member of Acacia Primary.")).to_be_visible()

    # The subject tree, and a cycle refused with its path; the code of a subject that a
    # preference offers places in stays.
    with tenant_context(institution):
        preference(acacia, year, places={("MATH", "secondary"): 2})
    page.goto(site.institution(institution.code, "/placements/subjects/"))
    expect(page.get_by_role("heading", name="Placement subjects")).to_be_visible()
    checker.look("subjects")
    page.get_by_role("link", name="Edit Languages", exact=True).click()
    page.get_by_label("Parent").select_option(label="French (Secondary)")
    page.get_by_role("button", name="Save subject").click()
    expect(
        page.get_by_text(
            "That would make a cycle: Languages is within French, which is within Modern "
            "foreign languages, which is within Languages."
        )
    ).to_be_visible()
    checker.look("subject-cycle-refused")
    page.goto(site.institution(institution.code, "/placements/subjects/"))
    page.get_by_role("link", name="Edit Mathematics", exact=True).click()
    page.get_by_label("Code").fill("MATHS")
    page.get_by_role("button", name="Save subject").click()
    expect(
        page.get_by_text("Mathematics is in use (1 preference): its code and phase stay MATH")
    ).to_be_visible()
    checker.look("subject-in-use-refused")
    with tenant_context(institution):
        assert PlacementSubject.objects.filter(code="MATH").exists()
    checker.assert_clean()
