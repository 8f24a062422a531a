"""A placement from proposal to the learner's portal: an admin proposes it from the create page
(prefilled from the address the distance search links to, the learner's only cohort chosen; a
subject the organisation offers no places in is refused), the organisation's member signs in
and confirms it (or declines it with a reason), and the learner sees it. Confirming without a
free place shows the refusal; a reason the institution gives for cancelling stays internal."""

import re

import pytest
from django.urls import reverse
from django.utils.http import urlencode
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from accounts.models import SystemRole
from placements.models import OrganisationAddress, Placement, PlacementStatus
from placements.services.placements import placement_confirm
from tests.browser.support import PASSWORD, PageChecker, sign_in
from tests.factories import PASSWORD as FACTORY_PASSWORD
from tests.placements.factories import academic_year, subject
from tests.placements.placements.support import world

pytestmark = pytest.mark.browser


def _sign_in_as(page: Page, site, institution, email: str, password: str) -> None:
    page.context.clear_cookies()
    sign_in(page, site.institution(institution.code, "/accounts/login/"), email, password)


def test_proposed_confirmed_and_seen_by_the_learner(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("placing")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        here = world(admin, places=2, name="Hillview High")
        OrganisationAddress.objects.create(
            organisation=here.organisation,
            address_1="14 Vilakazi Street",
            town="Orlando West",
            city="Soweto",
            postcode="1804",
        )
        learner = here.learner("Ayanda Dube")
        maths, english = subject("MATH"), subject("ENG")
        query = urlencode(
            {
                "learner": learner.pk,
                "organisation": here.organisation.pk,
                "subject": maths.pk,
                "academic_year": academic_year("2027").pk,
            }
        )
    checker = PageChecker(page, "placement", structure=True)
    url = lambda path: site.institution(institution.code, path)  # noqa: E731

    _sign_in_as(page, site, institution, admin.email, PASSWORD)
    page.goto(url(f"{reverse('placements:placement_create')}?{query}"))
    expect(page.get_by_role("heading", name="Propose a placement")).to_be_visible()
    expect(page.get_by_label("Learner")).to_have_value(str(learner.pk))
    expect(page.get_by_label("Organisation")).to_have_value(str(here.organisation.pk))
    expect(page.get_by_label("Cohort")).to_have_value(str(here.cohort.pk))
    checker.look("create")
    page.get_by_label("Subject").select_option(str(english.pk))
    page.get_by_label("Starts on").fill("2027-03-01")
    page.get_by_label("Ends on").fill("2027-06-30")
    page.get_by_label("Supervisor").select_option(str(here.contact.pk))
    page.get_by_role("button", name="Propose the placement").click()
    expect(
        page.get_by_text("Ayanda Dube: Hillview High offers no places in English (Secondary)")
    ).to_be_visible()
    checker.look("create-subject-not-offered")
    page.get_by_label("Subject").select_option(str(maths.pk))
    page.get_by_role("button", name="Propose the placement").click()
    expect(page.get_by_text("The placement is proposed to Hillview High")).to_be_visible()
    expect(page.get_by_role("heading", name="Ayanda Dube at Hillview High")).to_be_visible()
    checker.look("detail")
    page.get_by_role("link", name="Placements", exact=True).first.click()
    expect(page.get_by_role("link", name="Ayanda Dube")).to_be_visible()
    checker.look("list")

    _sign_in_as(page, site, institution, here.member.email, FACTORY_PASSWORD)
    page.goto(url(reverse("placements:member_placements")))
    expect(page.get_by_role("heading", name="Placements at Hillview High")).to_be_visible()
    checker.look("member")
    page.get_by_role("link", name="Confirm Ayanda Dube").click()
    expect(page.get_by_role("heading", name="Confirm this placement?")).to_be_visible()
    checker.look("member-confirm")
    page.get_by_role("button", name="Confirm the placement").click()
    expect(page.get_by_text("The placement is confirmed. Thank you.")).to_be_visible()

    _sign_in_as(page, site, institution, learner.user.email, FACTORY_PASSWORD)
    page.goto(url(reverse("placements:my_placements")))
    card = page.get_by_test_id("my-placements")
    expect(card.get_by_role("heading", name="Hillview High")).to_be_visible()
    expect(card).to_contain_text("Confirmed")
    expect(card).to_contain_text("14 Vilakazi Street")
    expect(card).to_contain_text("Thandi Nkosi")
    expect(card).to_contain_text("1 Mar 2027 to 30 Jun 2027")
    checker.look("portal")
    checker.assert_clean()


def test_the_member_declines_with_a_reason_and_a_full_organisation_is_refused(
    page: Page, site, make_institution, make_person, ratelimit_reset
):
    institution = make_institution("declining")
    admin = make_person(institution, SystemRole.ADMIN, name="Ada Admin")
    with tenant_context(institution):
        here = world(admin, places=1, name="Full School")
        placement_confirm(placement=here.propose(here.learner("Thabo Placed")), actor=admin)
        declined = here.propose(here.learner("Bongani Mthembu"))
        unplaceable = here.propose(here.learner("Lerato Mahlaba"))
    checker = PageChecker(page, "placement-refused", structure=True)
    url = lambda path: site.institution(institution.code, path)  # noqa: E731

    _sign_in_as(page, site, institution, here.member.email, FACTORY_PASSWORD)
    page.goto(url(reverse("placements:member_placements")))
    page.get_by_role("link", name="Confirm Lerato Mahlaba").click()
    page.get_by_role("button", name="Confirm the placement").click()
    refusal = page.get_by_test_id("refusal")
    expect(refusal).to_contain_text(
        re.compile("Full School in 2027 has no free place for Mathematics")
    )
    checker.look("no-capacity")

    page.goto(url(reverse("placements:member_placements")))
    page.get_by_role("link", name="Decline Bongani Mthembu").click()
    page.get_by_role("button", name="Decline the placement").click()
    expect(page.get_by_text("Give a reason.")).to_be_visible()
    checker.look("decline-without-reason")
    page.get_by_label("Reason").fill("Our mathematics teacher is on leave this term.")
    page.get_by_role("button", name="Decline the placement").click()
    expect(page.get_by_text("The placement is declined")).to_be_visible()
    expect(page.get_by_text("Declined: Our mathematics teacher is on leave")).to_be_visible()
    checker.look("declined")

    with tenant_context(institution):
        declined.refresh_from_db()
        assert declined.status == PlacementStatus.CANCELLED
        assert declined.declined_by_organisation
        assert Placement.objects.get(pk=unplaceable.pk).status == PlacementStatus.PROPOSED

    _sign_in_as(page, site, institution, admin.email, PASSWORD)
    page.goto(url(reverse("placements:placement_detail", args=[declined.pk])))
    expect(page.get_by_test_id("end-reason")).to_contain_text("Declined by the organisation")
    expect(page.get_by_test_id("history")).to_contain_text("Declined by Nomsa Member")
    checker.look("admin-sees-decline")

    page.goto(url(reverse("placements:placement_cancel", args=[unplaceable.pk])))
    expect(page.get_by_text("Internal: kept for the institution's staff.")).to_be_visible()
    checker.look("cancel")
    page.get_by_label("Reason").fill("Lerato asked to wait until her mother recovers.")
    page.get_by_role("button", name="Cancel the placement").click()
    expect(page.get_by_text("The placement is cancelled.")).to_be_visible()

    _sign_in_as(page, site, institution, here.member.email, FACTORY_PASSWORD)
    page.goto(url(reverse("placements:member_placements")))
    expect(page.get_by_test_id("member-placements")).to_contain_text("Lerato Mahlaba")
    expect(page.get_by_test_id("member-placements")).not_to_contain_text("her mother")
    checker.assert_clean()
