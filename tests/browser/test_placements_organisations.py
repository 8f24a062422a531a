"""Host organisations in Chromium: an admin adds a school whose address the geocoder finds
(the Celery worker looks it up through the fake geocoder on loopback), moves it and sees the new
address looked up, is refused a contact form without a name, imports a register's extract with
one bad row (the preview shows the refusal, confirming imports the rest), searches the list and
looks at the map; then enters a learner's home coordinates by hand; and is refused
deactivating an organisation with an open placement, with a link to it. Desktop and phone widths,
axe-core on every page.

With SCREENSHOTS=1 the pages are saved under screenshots/ (organisations-*.png)."""

import datetime
import re

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from learners.models import Learner
from placements.models import Placement
from tests.browser.support import PageChecker, sign_in
from tests.placements.factories import OrganisationFactory, academic_year, subject
from tests.placements.fake_geocoder import geocoder  # noqa: F401 (a fixture for this test)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]

SOWETO = "12 Vilakazi Street, Soweto, 1804, ZA"
DURBAN = "1 Florida Road, Durban, 4001, ZA"
EXTRACT = (
    "URN,EstablishmentName,Street,Town,Postcode,Latitude,Longitude,TelephoneNum,school\n"
    "200001,Orlando West Primary,5 Ngwenya Street,Soweto,1804,-26.2385,27.9085,011 555 0101,yes\n"
    "200002,Umlazi Comprehensive,1 Mangosuthu Highway,Durban,4031,-29.97,30.88,,yes\n"
    "200003,Nowhere High,,Nowhere,,-95.5,27.9,,yes\n"
)


def _reload_until(page: Page, text: str, tries: int = 20) -> None:
    """The lookup runs in the worker: reload the page until it shows `text`."""
    for _ in range(tries):
        if page.get_by_test_id("coordinates").filter(has_text=text).count():
            return
        page.wait_for_timeout(300)
        page.reload()
    expect(page.get_by_test_id("coordinates")).to_contain_text(text)


def test_an_admin_adds_moves_imports_and_finds_organisations(
    page: Page,
    site,
    make_institution,
    make_person,
    celery_worker,
    geocoder,  # noqa: F811
):
    geocoder.add(SOWETO, -26.2385, 27.9085)
    geocoder.add(DURBAN, -29.8405, 31.0311)
    institution = make_institution("orgs")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    checker = PageChecker(page, "organisations", structure=True)
    sign_in(page, site.institution(institution.code, "/accounts/login/"), admin.email)

    page.goto(site.institution(institution.code, "/placements/organisations/"))
    expect(page.get_by_role("heading", name="Organisations", exact=True)).to_be_visible()
    expect(page.get_by_text("No organisations yet.")).to_be_visible()
    checker.look("list-empty")

    page.get_by_role("link", name="New organisation").click()
    page.get_by_role("button", name="Add organisation").click()
    expect(page.get_by_text("This field is required.").first).to_be_visible()
    checker.look("create-refused")

    page.get_by_label("Name").fill("Soweto Secondary School")
    page.get_by_label("School", exact=True).check()
    page.get_by_label("URN").fill("100234")
    page.get_by_label("Address line 1").fill("12 Vilakazi Street")
    page.get_by_label("Town").fill("Soweto")
    page.get_by_label("Postal code").fill("1804")
    checker.look("create-filled")
    page.get_by_role("button", name="Add organisation").click()
    expect(page.get_by_text("Soweto Secondary School added.")).to_be_visible()
    _reload_until(page, "Looked up from the address")
    expect(page.get_by_test_id("coordinates")).to_contain_text("-26.23850, 27.90850")
    checker.look("detail-found")

    page.get_by_role("link", name="Edit address").click()
    page.get_by_label("Address line 1").fill("1 Florida Road")
    page.get_by_label("Town").fill("Durban")
    page.get_by_label("Postal code").fill("4001")
    checker.look("address-form")
    page.get_by_role("button", name="Save address").click()
    expect(page.get_by_text("The address of Soweto Secondary School is saved.")).to_be_visible()
    _reload_until(page, "-29.84050, 31.03110")
    expect(page.get_by_role("region", name="Address and coordinates")).to_contain_text(
        "1 Florida Road"
    )

    page.get_by_role("link", name="Add contact").click()
    page.get_by_label("Role").fill("Placement lead")
    page.get_by_role("button", name="Add contact").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    checker.look("contact-refused")
    page.get_by_label("First name").fill("Thandi")
    page.get_by_label("Last name").fill("Nkosi")
    page.get_by_role("button", name="Add contact").click()
    expect(page.get_by_role("region", name="Contacts")).to_contain_text("Thandi Nkosi")
    checker.look("detail-with-contact")

    page.get_by_role("link", name="Remove Thandi Nkosi").click()
    expect(page.get_by_role("heading", name=re.compile("Remove Thandi Nkosi from"))).to_be_visible()
    checker.look("contact-remove-confirm")
    page.get_by_role("link", name="Cancel").click()
    expect(page.get_by_role("region", name="Contacts")).to_contain_text("Thandi Nkosi")

    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Sector").fill("Public sector")
    page.get_by_label("Website").fill("soweto-secondary.example")
    checker.look("edit-form")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("https://soweto-secondary.example")).to_be_visible()

    page.get_by_role("link", name="Enter coordinates").click()
    page.get_by_label("Latitude").fill("-29.85")
    page.get_by_label("Longitude").fill("200")
    page.get_by_role("button", name="Save coordinates").click()
    expect(page.get_by_text("Ensure this value is less than or equal to 180.")).to_be_visible()
    checker.look("coordinates-refused")
    page.get_by_label("Longitude").fill("31.02")
    page.get_by_role("button", name="Save coordinates").click()
    expect(page.get_by_test_id("coordinates")).to_contain_text("Entered by hand")

    page.get_by_role("link", name="Deactivate").click()
    expect(page.get_by_role("heading", name="Deactivate Soweto Secondary School?")).to_be_visible()
    checker.look("deactivate-confirm")
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_text("Deactivated: no new placements")).to_be_visible()
    page.get_by_role("button", name="Reactivate").click()
    expect(page.get_by_text("Soweto Secondary School hosts learners again.")).to_be_visible()

    page.get_by_role("link", name="Organisations").first.click()
    page.get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import organisations")).to_be_visible()
    checker.look("import-upload")
    page.get_by_label("Spreadsheet").set_input_files(
        files=[{"name": "gias.csv", "mimeType": "text/csv", "buffer": EXTRACT.encode()}]
    )
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="Check the import")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("1 row is refused")
    refused = page.get_by_role("row", name=re.compile("Nowhere High"))
    expect(refused).to_contain_text("Refused: latitude must be between -90 and 90")
    checker.look("import-preview")
    page.get_by_role("button", name="Import 2 organisations").click()
    expect(
        page.get_by_text("Imported: 2 new and 0 updated organisations; 1 refused row was left out.")
    ).to_be_visible()

    page.get_by_role("searchbox", name="Search").fill("soweto")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Orlando West Primary")).to_be_visible()
    expect(page.get_by_role("link", name="Umlazi Comprehensive")).to_have_count(0)
    checker.look("list-searched")

    page.get_by_role("searchbox", name="Search").fill("")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Map").click()
    expect(page.get_by_text("3 organisations drawn over South Africa")).to_be_visible()
    checker.look("map")

    page.get_by_role("link", name="List").click()
    page.get_by_role("link", name="Umlazi Comprehensive").click()
    expect(page.get_by_test_id("coordinates")).to_contain_text("Imported")
    checker.look("detail-imported")
    checker.assert_clean()


def test_an_admin_enters_a_learners_home_coordinates(
    page: Page, site, make_institution, make_person, settings
):
    settings.GEOCODER_URL = ""
    institution = make_institution("home")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        learner = Learner.objects.create(
            first_name="Sipho", last_name="Mokoena", address_line1="5 Ngwenya Street", city="Soweto"
        )
    checker = PageChecker(page, "learner-location", structure=True)
    sign_in(page, site.institution(institution.code, "/accounts/login/"), admin.email)

    page.goto(site.institution(institution.code, f"/placements/learners/{learner.pk}/location/"))
    expect(page.get_by_role("status")).to_contain_text("has not been looked up")
    checker.look("none")
    page.get_by_label("Latitude").fill("-26.2")
    page.get_by_role("button", name="Save coordinates").click()
    expect(
        page.get_by_text("Give both the latitude and the longitude, or neither.")
    ).to_be_visible()
    checker.look("refused")
    page.get_by_label("Longitude").fill("27.9")
    page.get_by_role("button", name="Save coordinates").click()
    expect(page.get_by_text("Used by the distance search.")).to_be_visible()
    expect(page.get_by_test_id("coordinates")).to_contain_text("Entered by hand")
    checker.look("entered")
    checker.assert_clean()


def test_an_organisation_with_open_placements_is_not_deactivated(
    page: Page, site, make_institution, make_person
):
    institution = make_institution("busy")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        organisation = OrganisationFactory(name="Hillview High")
        Placement.objects.create(
            learner=Learner.objects.create(first_name="Sipho", last_name="Mokoena"),
            organisation=organisation,
            academic_year=academic_year("2027"),
            subject=subject("MATH"),
            starts_on=datetime.date(2027, 2, 1),
            ends_on=datetime.date(2027, 6, 30),
        )
    checker = PageChecker(page, "organisation-deactivate", structure=True)
    sign_in(page, site.institution(institution.code, "/accounts/login/"), admin.email)

    page.goto(site.institution(institution.code, f"/placements/organisations/{organisation.pk}/"))
    page.get_by_role("link", name="Deactivate").click()
    expect(page.get_by_text("it has 1 proposed, confirmed or active placement.")).to_be_visible()
    expect(page.get_by_role("button", name="Deactivate")).to_have_count(0)
    checker.look("refused")
    page.get_by_role("link", name="See its placements").click()
    expect(page).to_have_url(
        re.compile(rf"/placements/placements/\?organisation={organisation.pk}$")
    )
    expect(page.get_by_text("Sipho Mokoena")).to_be_visible()
    checker.assert_clean()
