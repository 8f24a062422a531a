"""Placements' search in Chromium: an admin finds organisations near a learner by subject and
sees the distances (a bad radius is refused with a message), then matches the cohort's
learners and proposes a placement; an admin sends an urgent request, a member of a nearby
school answers it (an offer of too many places refused first), and the admin sees the answer
and closes the request. Desktop and phone widths, axe-core on every page.

With SCREENSHOTS=1 the pages are saved under screenshots/ (placements-search-*.png)."""

import re

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from placements.models import (
    Appetite,
    OrganisationAddress,
    OrganisationMembership,
    Placement,
    PlacementSubject,
)
from tests.browser.support import PageChecker, sign_in
from tests.placements.factories import (
    DURBAN,
    JOHANNESBURG,
    PRETORIA,
    OrganisationFactory,
    academic_year,
    preference,
)
from tests.placements.search.support import cohort_needing_police_clearance, learner_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]


@pytest.fixture
def placements(site, make_institution, make_person):
    """An institution with a cohort whose learner lives in Johannesburg, schools near her and
    one in Durban, and a member of the Pretoria school."""
    institution = make_institution("placing")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    member = make_person(institution, SystemRole.ORGANISATION_MEMBER, name="Mandla Member")
    with tenant_context(institution):
        year = academic_year("2027")
        cohort = cohort_needing_police_clearance()
        learner = learner_in(admin, cohort, "Thandi Mokoena", JOHANNESBURG)
        joburg = OrganisationFactory(name="Parktown High", employer=True)
        OrganisationAddress.objects.create(organisation=joburg, town="Parktown")
        preference(joburg, year, places={("MATH", "secondary"): 2, ("PHYS", "secondary"): 1})
        pretoria = OrganisationFactory(
            name="Pretoria Boys High", latitude=PRETORIA[0], longitude=PRETORIA[1]
        )
        OrganisationAddress.objects.create(organisation=pretoria, town="Brooklyn")
        preference(pretoria, year, appetite=Appetite.UNSURE, places={("MATH", "secondary"): 1})
        durban = OrganisationFactory(name="Durban High", latitude=DURBAN[0], longitude=DURBAN[1])
        preference(durban, year, places={("MATH", "secondary"): 4})
        OrganisationMembership.objects.create(user=member, organisation=pretoria, is_current=True)
    return institution, admin, member, learner, cohort


def test_an_admin_finds_organisations_near_a_learner_and_matches_the_cohort(
    page: Page, site, placements
):
    institution, admin, _member, learner, cohort = placements
    checker = PageChecker(page, "placements-search", structure=True)
    sign_in(page, site.institution(institution.code, "/placements/search/"), admin.email)
    expect(page.get_by_role("heading", name="Find organisations")).to_be_visible()
    checker.look("search")

    page.get_by_label("Learner").fill("Mokoena")
    page.get_by_label("Radius (km)").fill("600")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("The radius can be at most 500 km.")).to_be_visible()
    checker.look("bad-radius")

    page.get_by_label("Radius (km)").fill("100")
    page.get_by_label("Subject").select_option(label="Mathematics (Secondary, MATH)")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_test_id("search-results")
    expect(results).to_be_visible()
    expect(
        page.get_by_role("heading", name="Within 100 km of Thandi Mokoena's home")
    ).to_be_visible()
    rows = results.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Parktown High")
    expect(rows.nth(0)).to_contain_text("0.0 km")
    expect(rows.nth(1)).to_contain_text("Pretoria Boys High")
    expect(rows.nth(1)).to_contain_text("Unsure")
    expect(rows.nth(1)).to_contain_text(" km")
    assert 50 < float(rows.nth(1).locator("td").nth(0).inner_text().split()[0]) < 60
    checker.look("results")

    # A broad subject: the subject under it that the school offers, with its places, proposed.
    page.get_by_label("Subject").select_option(label="Sciences (Secondary, SCI)")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("Physical sciences: 1 free")
    propose = page.get_by_role(
        "link", name="Propose a placement in Physical sciences at Parktown High"
    )
    with tenant_context(institution):
        physics = PlacementSubject.objects.get(code="PHYS")
    expect(propose).to_have_attribute(
        "href", re.compile(rf"subject={physics.pk}&academic_year=\d+&cohort={cohort.pk}")
    )
    checker.look("broad-subject")

    page.goto(site.institution(institution.code, f"/placements/cohorts/{cohort.pk}/matching/"))
    expect(page.get_by_role("heading", name="Match learners to places")).to_be_visible()
    checker.look("matching-empty")
    page.get_by_label("Subject").select_option(label="Mathematics (Secondary, MATH)")
    page.get_by_label("Radius (km)").fill("100")
    page.get_by_role("button", name="Show matches").click()
    expect(page.get_by_test_id(f"match-{learner.pk}")).to_contain_text("Parktown High")
    checker.look("matching")

    page.get_by_role("button", name="Propose placements").click()
    expect(page.get_by_text("Choose at least one learner")).to_be_visible()
    # The refused proposal leaves the page on its filters.
    expect(page).to_have_url(re.compile(r"\?subject=\d+&academic_year=\d+&radius_km=100"))
    expect(page.get_by_label("Radius (km)")).to_have_value("100")
    page.get_by_label("Parktown High").check()
    page.get_by_label("Starts on").fill("2027-03-01")
    page.get_by_label("Ends on").fill("2027-06-30")
    page.get_by_role("button", name="Propose placements").click()
    expect(page.get_by_text("1 placement proposed to the organisations.")).to_be_visible()
    expect(page.get_by_test_id("no-learners")).to_be_visible()
    checker.look("matched")
    with tenant_context(institution):
        assert Placement.objects.get().organisation.name == "Parktown High"
    checker.assert_clean()


def test_an_urgent_request_is_answered_by_a_member_and_read_by_the_admin(
    page: Page, site, placements
):
    institution, admin, member, _learner, _cohort = placements
    checker = PageChecker(page, "placements-urgent", structure=True)
    sign_in(page, site.institution(institution.code, "/placements/urgent/"), admin.email)
    expect(page.get_by_role("heading", name="Urgent placement requests")).to_be_visible()
    checker.look("list-empty")

    page.get_by_role("link", name="New urgent request").click()
    expect(page.get_by_role("heading", name="New urgent request")).to_be_visible()
    page.get_by_label("Subject").select_option(label="Mathematics (Secondary, MATH)")
    page.get_by_label("Phase").select_option("secondary")
    page.get_by_label("Starts on").fill("2027-04-01")
    page.get_by_label("Ends on").fill("2027-05-31")
    page.get_by_label("Places needed").fill("3")
    page.get_by_label("Latitude").fill("-29.0852")  # Bloemfontein: nobody near
    page.get_by_label("Longitude").fill("26.1596")
    page.get_by_label("Radius (km)").fill("20")
    page.get_by_label("Message").fill("Two learners need Grade 10 maths classes.")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Nothing was sent.")).to_be_visible()
    checker.look("nobody-reached")

    page.get_by_label("Latitude").fill(str(JOHANNESBURG[0]))
    page.get_by_label("Longitude").fill(str(JOHANNESBURG[1]))
    page.get_by_label("Radius (km)").fill("100")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("The request is sent to 2 organisations.")).to_be_visible()
    checker.look("sent")

    page.context.clear_cookies()
    sign_in(
        page,
        site.institution(institution.code, "/placements/my-organisation/urgent/"),
        member.email,
    )
    expect(page.get_by_role("heading", name="Urgent requests")).to_be_visible()
    checker.look("member-list")
    page.get_by_role("link", name="Answer").click()
    expect(page.get_by_role("heading", name="3 places in Mathematics")).to_be_visible()
    page.get_by_label("We can host").check()
    page.get_by_label("Places you can offer").fill("5")
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_text("3 places are asked for: offer 3 or fewer.")).to_be_visible()
    checker.look("member-too-many")
    page.get_by_label("Places you can offer").fill("2")
    page.get_by_label("Note").fill("Mr Naidoo will mentor them.")
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_text("your answer is sent to the institution")).to_be_visible()
    checker.look("member-answered")

    page.context.clear_cookies()
    sign_in(page, site.institution(institution.code, "/placements/urgent/"), admin.email)
    page.get_by_role("link", name="3 × Mathematics").click()
    invites = page.get_by_test_id("urgent-invites")
    expect(invites).to_contain_text("Mr Naidoo will mentor them.")
    expect(invites.locator("tr", has_text="Pretoria Boys High")).to_contain_text("Can host")
    expect(invites.locator("tr", has_text="Parktown High")).to_contain_text("No answer yet")
    expect(page.get_by_test_id("urgent-counts")).to_contain_text("2 of 3")
    expect(
        page.get_by_role("link", name="Propose placement at Pretoria Boys High")
    ).to_have_attribute("href", re.compile(r"urgent_request=\d+"))
    expect(invites.locator("tbody tr").nth(0)).to_contain_text("Offers Mathematics")
    checker.look("detail")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close the request").click()
    expect(page.get_by_text("The request is closed")).to_be_visible()
    checker.look("closed")
    checker.assert_clean()
