"""A placement across the areas, in Chromium: the admin opens a running cohort's matching page
from the placement list, then finds organisations near a learner (her home's coordinates
entered) by subject on the distance search, proposes a placement from a result (the create
page refuses an end before the start first); the organisation's member sees it on their home
page beside an urgent request, opens their proposed placements and confirms it; the learner
sees it in My placements and follows the link to My vetting. Everything is set up through the
services: the learner is cleared on uploaded evidence, the organisation has places this year.
Desktop and phone widths, axe-core on every page.

With SCREENSHOTS=1 the pages are saved under screenshots/ (placements-journey-*.png)."""

import datetime
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole, User
from cohorts.models import Cohort
from enrolments.models import ScanStatus
from enrolments.uploads import document_upload_check
from learners.models import Learner
from placements.models import Appetite, Organisation, Placement, PlacementStatus, VettingType
from placements.selectors.distance import Point
from placements.services.geocoding import learner_location_enter
from placements.services.memberships import membership_add
from placements.services.organisations import organisation_contact_add, organisation_create
from placements.services.preferences import preference_set
from placements.services.urgent import UrgentNeed, urgent_request_broadcast
from placements.services.vetting import (
    evidence_document_type,
    programme_vetting_requirements_set,
    vetting_evidence_add,
    vetting_record_clear,
    vetting_record_open,
)
from tests.browser.support import PageChecker, sign_in
from tests.delivery.runs_support import enrol
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.factories import CohortFactory, ProgrammeFactory
from tests.files import PDF_BYTES
from tests.placements.factories import JOHANNESBURG, PRETORIA, academic_year, subject

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("ratelimit_reset")]

SOWETO = (-26.2485, 27.8540)


@dataclass
class Journey:
    admin: User
    member: User
    learner: Learner
    cohort: Cohort
    school: Organisation


def _host(
    admin: User, name: str, at: tuple[float, float], town: str, places: dict[str, int]
) -> Organisation:
    """An organisation with its address, entered coordinates, a placement lead and its places
    for 2027, as the organisation and preference pages make them."""
    organisation = organisation_create(
        actor=admin,
        fields={"name": name, "school": True},
        address={"address_1": "1 Main Road", "town": town, "postcode": "2000"},
        latitude=at[0],
        longitude=at[1],
    )
    organisation_contact_add(
        actor=admin,
        organisation=organisation,
        fields={
            "first_name": "Lindiwe",
            "last_name": "Khumalo",
            "email_address": f"lead@{town.lower()}.example",
            "role": "Placement lead",
        },
    )
    preference_set(
        actor=admin,
        organisation=organisation,
        academic_year=academic_year("2027"),
        appetite=Appetite.INTERESTED,
        details={
            "places": [
                {"subject": code, "phase": "secondary", "places": count}
                for code, count in places.items()
            ]
        },
    )
    return organisation


def _cleared(admin: User, learner: Learner) -> None:
    """The police clearance the programme requires, opened, given its certificate and cleared."""
    police = VettingType.objects.get(code="police_clearance")
    record = vetting_record_open(actor=admin, learner=learner, vetting_type=police)
    checked = document_upload_check(
        upload=SimpleUploadedFile("clearance.pdf", PDF_BYTES),
        document_type=evidence_document_type(police),
    )
    vetting_evidence_add(
        actor=admin, record=record, checked=checked, scan_status=ScanStatus.NOT_SCANNED
    )
    vetting_record_clear(actor=admin, record=record, expires_on=datetime.date(2027, 12, 31))


@pytest.fixture
def journey(site, make_institution, make_person, media) -> tuple[object, Journey]:
    institution = make_institution("journey")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    member = make_person(institution, SystemRole.ORGANISATION_MEMBER, name="Mandla Member")
    with tenant_context(institution):
        programme = ProgrammeFactory(name="Teaching Internship")
        programme_vetting_requirements_set(
            actor=admin,
            programme=programme,
            vetting_types=[VettingType.objects.get(code="police_clearance")],
        )
        cohort = CohortFactory(active=True, programme=programme, name="Teachers 2027")
        learner = enrol(admin, cohort, full_name="Thandi Mokoena").learner
        learner_location_enter(
            actor=admin, learner=learner, latitude=SOWETO[0], longitude=SOWETO[1]
        )
        _cleared(admin, learner)
        school = _host(admin, "Orlando West High", JOHANNESBURG, "Soweto", {"MATH": 2})
        _host(admin, "Pretoria Boys High", PRETORIA, "Brooklyn", {"MATH": 1})
        _host(admin, "Parktown Languages", JOHANNESBURG, "Parktown", {"ENG": 3})
        membership_add(actor=admin, organisation=school, email=member.email)
        urgent_request_broadcast(
            actor=admin,
            need=UrgentNeed(
                subject=subject("MATH"),
                phase="secondary",
                academic_year=academic_year("2027"),
                starts_on=datetime.date(2027, 4, 1),
                ends_on=datetime.date(2027, 5, 31),
                places=2,
                centre=Point(*JOHANNESBURG),
                radius_km=10,
                centre_label="Johannesburg campus",
            ),
        )
    return institution, Journey(admin, member, learner, cohort, school)


def test_a_placement_found_near_a_learner_is_proposed_confirmed_and_seen(page: Page, site, journey):
    institution, here = journey
    url = lambda path: site.institution(institution.code, path)  # noqa: E731
    checker = PageChecker(page, "placements-journey", structure=True)

    # The admin: from the placement list to the cohort's matching page.
    sign_in(page, url(reverse("placements:placement_list")), here.admin.email)
    expect(page.get_by_role("heading", name="Placements", exact=True)).to_be_visible()
    checker.look("list")
    page.get_by_label("Cohort to match").select_option(label="Teachers 2027")
    page.get_by_role("button", name="Open matching").click()
    expect(page.get_by_role("heading", name="Match learners to places")).to_be_visible()
    assert page.url.endswith(reverse("placements:matching", args=[here.cohort.pk]))

    # The distance search around the learner's home, for Mathematics.
    page.goto(url(reverse("placements:search")))
    page.get_by_label("Learner").fill("Mokoena")
    page.get_by_label("Radius (km)").fill("30")
    page.get_by_label("Subject").select_option(label="Mathematics (Secondary, MATH)")
    page.get_by_role("button", name="Search").click()
    expect(
        page.get_by_role("heading", name="Within 30 km of Thandi Mokoena's home")
    ).to_be_visible()
    rows = page.get_by_test_id("search-results").locator("tbody tr")
    expect(rows).to_have_count(1)  # Pretoria is too far; Parktown offers English only
    expect(rows.nth(0)).to_contain_text("Orlando West High")
    expect(rows.nth(0)).to_contain_text("2")
    checker.look("search")
    page.get_by_role("link", name="Propose a placement in Mathematics at Orlando West High").click()

    # The create page, prefilled from the result; a bad end date first.
    expect(page.get_by_role("heading", name="Propose a placement")).to_be_visible()
    expect(page.get_by_label("Learner")).to_have_value(str(here.learner.pk))
    expect(page.get_by_label("Organisation")).to_have_value(str(here.school.pk))
    page.get_by_label("Cohort").select_option(label="Teachers 2027")
    page.get_by_label("Starts on").fill("2027-03-01")
    page.get_by_label("Ends on").fill("2027-02-01")
    page.get_by_label("Supervisor").select_option(index=1)
    page.get_by_role("button", name="Propose the placement").click()
    expect(page.get_by_text("The placement cannot end before it starts.")).to_be_visible()
    checker.look("create-refused")
    page.get_by_label("Ends on").fill("2027-06-30")
    page.get_by_role("button", name="Propose the placement").click()
    expect(page.get_by_text("The placement is proposed to Orlando West High")).to_be_visible()

    # The member: their home page lists it beside the urgent request, then they confirm it.
    page.context.clear_cookies()
    sign_in(page, url(reverse("placements:member_home")), here.member.email)
    waiting = page.get_by_test_id("member-waiting-placements")
    expect(waiting).to_contain_text("One learner is proposed to Orlando West High")
    expect(waiting).to_contain_text("Thandi Mokoena")
    expect(page.get_by_test_id("member-waiting-urgent")).to_contain_text("2 × Mathematics")
    checker.look("member-home")
    waiting.get_by_role("link", name="Proposed placements").click()
    expect(page.get_by_role("heading", name="Placements at Orlando West High")).to_be_visible()
    expect(page.get_by_label("Status")).to_have_value("proposed")
    page.get_by_role("link", name="Confirm Thandi Mokoena").click()
    page.get_by_role("button", name="Confirm the placement").click()
    expect(page.get_by_text("The placement is confirmed. Thank you.")).to_be_visible()
    page.goto(url(reverse("placements:member_home")))
    expect(page.get_by_test_id("member-waiting-placements")).to_contain_text(
        "No placement waits for your answer."
    )
    checker.look("member-home-answered")
    with tenant_context(institution):
        assert Placement.objects.get().status == PlacementStatus.CONFIRMED

    # The learner: My placements, then My vetting from its link.
    page.context.clear_cookies()
    sign_in(
        page, url(reverse("placements:my_placements")), here.learner.user.email, FACTORY_PASSWORD
    )
    card = page.get_by_test_id("my-placements")
    expect(card.get_by_role("heading", name="Orlando West High")).to_be_visible()
    expect(card).to_contain_text("Confirmed")
    expect(card).to_contain_text("1 Mar 2027 to 30 Jun 2027")
    expect(card).to_contain_text("Lindiwe Khumalo")
    checker.look("portal")
    page.get_by_role("link", name="My vetting").click()
    expect(page.get_by_role("heading", name="My vetting")).to_be_visible()
    expect(page.get_by_test_id("my-records")).to_contain_text("Cleared")
    checker.look("portal-vetting")
    page.get_by_role("link", name="My placements").last.click()
    expect(page.get_by_role("heading", name="My placements")).to_be_visible()
    checker.assert_clean()
