"""The placement pages: the institution's list, detail, proposal and action pages, a member's
organisation's placements (every other organisation's id answers 404) and a learner's own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import SystemRole
from enrolments.models import CohortEnrollment
from enrolments.services import enrollment_withdraw
from placements.models import Placement, PlacementPreference, PlacementStatus
from placements.services.placements import (
    placement_cancel,
    placement_confirm,
    placement_decline,
    placement_terminate,
)
from tests.delivery.runs_support import enrol
from tests.factories import CohortFactory, UserFactory
from tests.placements.factories import OrganisationFactory, academic_year, subject

from .support import ENDS_ON, STARTS_ON, urgent_request, world

pytestmark = pytest.mark.django_db


@pytest.fixture
def here(institution, admin):
    return world(admin, places=3)


def _queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_list_filters_and_does_not_query_per_row(here, admin_client):
    url = reverse("placements:placement_list")
    ayanda = here.propose(here.learner("Ayanda Dube"))
    here.propose(here.learner("Bongani Mthembu"))
    few = _queries(admin_client, url)
    for n in range(4):
        here.propose(here.learner(f"Extra Learner{n}"))
    assert _queries(admin_client, url) == few

    placement_confirm(placement=ayanda, actor=here.member)
    page = admin_client.get(url, {"q": "ayanda"}).content.decode()
    assert "Ayanda Dube" in page
    assert "Bongani" not in page
    page = admin_client.get(url, {"status": "confirmed"}).content.decode()
    assert "Ayanda Dube" in page
    assert "Bongani" not in page
    other = OrganisationFactory(name="Other School")
    page = admin_client.get(url, {"organisation": other.pk}).content.decode()
    assert "No placement matches these filters." in page
    year = academic_year("2027")
    page = admin_client.get(
        url, {"cohort": here.cohort.pk, "academic_year": year.pk}
    ).content.decode()
    assert "Bongani Mthembu" in page


def test_an_empty_list_says_how_to_start(institution, admin_client):
    page = admin_client.get(reverse("placements:placement_list")).content.decode()
    assert "No placements yet." in page


def test_the_list_pages(here, admin_client):
    for n in range(26):
        Placement.objects.create(
            learner=here.learner(f"Paged Learner{n}", cleared=False),
            organisation=here.organisation,
            academic_year=academic_year("2027"),
            subject=subject("MATH"),
            starts_on=STARTS_ON,
            ends_on=ENDS_ON,
        )
    url = reverse("placements:placement_list")
    assert "1–25 of 26" in admin_client.get(url).content.decode()
    assert "26–26 of 26" in admin_client.get(url, {"page": 2}).content.decode()


def test_people_without_the_permission_get_404(here, client_of):
    placement = here.propose(here.learner())
    for url in (
        reverse("placements:placement_list"),
        reverse("placements:placement_detail", args=[placement.pk]),
        reverse("placements:placement_create"),
        reverse("placements:placement_confirm", args=[placement.pk]),
    ):
        assert client_of(here.member).get(url).status_code == 404


def test_the_create_page_is_prefilled_from_its_address(here, admin_client):
    learner = here.learner("Ayanda Dube")
    year = academic_year("2027")
    other_contact_school = OrganisationFactory(name="Not this one")
    from tests.placements.factories import ContactFactory

    ContactFactory(organisation=other_contact_school, first_name="Someone", last_name="Else")
    response = admin_client.get(
        reverse("placements:placement_create"),
        {
            "learner": learner.pk,
            "organisation": here.organisation.pk,
            "subject": subject("MATH").pk,
            "academic_year": year.pk,
        },
    )
    form = response.context["form"]
    assert form.initial == {
        "learner": str(learner.pk),
        "organisation": str(here.organisation.pk),
        "subject": str(subject("MATH").pk),
        "academic_year": str(year.pk),
        # The learner's only open enrolment.
        "cohort": here.cohort.pk,
    }
    # Only the organisation's contacts are offered as the supervisor.
    assert list(form.fields["supervisor"].queryset) == [here.contact]
    assert f'<option value="{learner.pk}" selected>' in response.content.decode()


def test_proposing_from_the_create_page(here, admin_client):
    learner = here.learner("Ayanda Dube")
    data = {
        "learner": learner.pk,
        "organisation": here.organisation.pk,
        "cohort": here.cohort.pk,
        "academic_year": academic_year("2027").pk,
        "subject": subject("MATH").pk,
        "starts_on": "2027-03-01",
        "ends_on": "2027-06-30",
        "supervisor": here.contact.pk,
    }
    response = admin_client.post(reverse("placements:placement_create"), data)
    placement = Placement.objects.get(learner=learner)
    assert response.status_code == 302
    assert response.url == reverse("placements:placement_detail", args=[placement.pk])
    assert placement.supervisor == here.contact

    again = admin_client.post(reverse("placements:placement_create"), data)
    assert again.status_code == 400
    assert "already has a placement at that time" in again.content.decode()


def test_bad_dates_are_refused_next_to_the_field(here, admin_client):
    response = admin_client.post(
        reverse("placements:placement_create"),
        {
            "learner": here.learner().pk,
            "organisation": here.organisation.pk,
            "cohort": here.cohort.pk,
            "academic_year": academic_year("2027").pk,
            "subject": subject("MATH").pk,
            "starts_on": "2027-06-01",
            "ends_on": "2028-01-31",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "ends_on": ["Choose a day within the academic year 2027."]
    }
    assert not Placement.objects.exists()


def test_the_detail_page_shows_its_history_and_actions(here, admin_client):
    placement = here.propose(here.learner("Ayanda Dube"))
    page = admin_client.get(reverse("placements:placement_detail", args=[placement.pk]))
    text = page.content.decode()
    assert "Ayanda Dube at Hillview High" in text
    assert "Proposed</strong> by Ada Admin" in text
    assert [action.name for action in page.context["actions"]] == ["confirm", "cancel"]
    assert "Thandi Nkosi" in text


def test_an_admin_action_refused_shows_why(here, admin_client):
    placement = here.propose(here.learner())
    PlacementPreference.objects.filter(organisation=here.organisation).delete()
    url = reverse("placements:placement_confirm", args=[placement.pk])
    assert "Confirm this placement?" in admin_client.get(url).content.decode()
    response = admin_client.post(url)
    assert response.status_code == 400
    assert "has not said which placements it offers" in response.content.decode()


def test_terminating_from_its_page_needs_a_reason(here, admin_client):
    placement = placement_confirm(placement=here.propose(here.learner()), actor=here.member)
    url = reverse("placements:placement_terminate", args=[placement.pk])
    refused = admin_client.post(url, {"reason": ""})
    assert refused.status_code == 400
    assert "Give a reason." in refused.content.decode()
    done = admin_client.post(url, {"reason": "The learner moved to Durban."})
    assert done.status_code == 302
    placement.refresh_from_db()
    assert placement.status == PlacementStatus.TERMINATED


def test_a_member_sees_their_current_organisations_placements_only(here, client_of):
    mine = here.propose(here.learner("Ayanda Dube"))
    elsewhere = world(here.admin, name="Elsewhere High")
    theirs = elsewhere.propose(elsewhere.learner("Someone Else"))
    client = client_of(here.member)

    page = client.get(reverse("placements:member_placements")).content.decode()
    assert "Ayanda Dube" in page
    assert "Someone Else" not in page
    assert reverse("placements:member_placement_confirm", args=[mine.pk]) in page
    for name in ("member_placement_confirm", "member_placement_decline"):
        url = reverse(f"placements:{name}", args=[theirs.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"reason": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == PlacementStatus.PROPOSED


def test_someone_of_no_organisation_gets_404_on_member_pages(here, client_of):
    student = UserFactory(roles=[SystemRole.STUDENT])
    assert client_of(student).get(reverse("placements:member_placements")).status_code == 404


def test_the_member_confirms_and_declines_from_their_pages(here, client_of):
    confirming = here.propose(here.learner("Ayanda Dube"))
    declining = here.propose(here.learner("Bongani Mthembu"))
    client = client_of(here.member)

    response = client.post(reverse("placements:member_placement_confirm", args=[confirming.pk]))
    assert response.status_code == 302
    url = reverse("placements:member_placement_decline", args=[declining.pk])
    refused = client.post(url, {"reason": "  "})
    assert refused.status_code == 400
    assert "Give a reason." in refused.content.decode()
    client.post(url, {"reason": "No maths teacher this term."})

    confirming.refresh_from_db()
    declining.refresh_from_db()
    assert confirming.status == PlacementStatus.CONFIRMED
    assert (declining.status, declining.declined_by_organisation) == (
        PlacementStatus.CANCELLED,
        True,
    )
    page = client.get(reverse("placements:member_placements")).content.decode()
    assert "No maths teacher this term." in page


def test_a_learner_sees_their_own_placements_only(here, client_of):
    learner = here.learner("Ayanda Dube")
    placement_confirm(placement=here.propose(learner), actor=here.member)
    here.propose(here.learner("Someone Else"))
    from placements.models import OrganisationAddress

    OrganisationAddress.objects.create(
        organisation=here.organisation, address_1="12 Main Road", town="Soweto", postcode="1804"
    )

    page = client_of(learner.user).get(reverse("placements:my_placements")).content.decode()
    assert "Hillview High" in page
    assert "12 Main Road" in page
    assert "Thandi Nkosi" in page
    assert "Confirmed" in page
    assert "Someone Else" not in page
    assert page.count('data-testid="my-placements"') == 1
    assert page.count("<section") == 1


def test_a_learner_without_placements_is_told_so(institution, client_of):
    student = UserFactory(roles=[SystemRole.STUDENT])
    page = client_of(student).get(reverse("placements:my_placements")).content.decode()
    assert "No placement yet." in page


def test_a_member_who_belongs_to_another_organisation_too_sees_the_current_one(here, client_of):
    from placements.models import OrganisationMembership

    other = OrganisationFactory(name="Second School")
    OrganisationMembership.objects.create(user=here.member, organisation=other)
    client = client_of(here.member)
    assert (
        "Placements at Hillview High"
        in client.get(reverse("placements:member_placements")).content.decode()
    )


def _create_page(client, **query):
    return client.get(reverse("placements:placement_create"), query)


def test_the_create_page_says_why_no_cohort_is_chosen(here, admin_client):
    learner = here.learner("Ayanda Dube")
    # A second open enrolment: the page cannot choose for the admin.
    enrol(here.admin, CohortFactory(active=True), full_name="Ayanda Dube", email=learner.user.email)
    several = _create_page(admin_client, learner=learner.pk)
    assert "cohort" not in several.context["form"].initial
    assert "Ayanda Dube is enrolled in more than one cohort: choose the one" in (
        several.content.decode()
    )
    # A cohort in the address wins.
    chosen = _create_page(admin_client, learner=learner.pk, cohort=here.cohort.pk)
    assert chosen.context["form"].initial["cohort"] == str(here.cohort.pk)

    withdrawn = here.learner("Bongani Mthembu")
    enrollment_withdraw(
        enrollment=CohortEnrollment.objects.get(learner=withdrawn),
        actor=here.admin,
        reason="Moved away.",
    )
    none = _create_page(admin_client, learner=withdrawn.pk)
    assert "cohort" not in none.context["form"].initial
    assert "Bongani Mthembu has no open enrolment in a cohort: enrol them" in (
        none.content.decode()
    )


def test_proposing_without_a_cohort_is_refused_next_to_the_field(here, admin_client):
    response = admin_client.post(
        reverse("placements:placement_create"),
        {
            "learner": here.learner().pk,
            "organisation": here.organisation.pk,
            "academic_year": academic_year("2027").pk,
            "subject": subject("MATH").pk,
            "starts_on": "2027-03-01",
            "ends_on": "2027-06-30",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "cohort": ["Choose the cohort whose workplace component this is."]
    }


def test_the_create_page_proposes_for_an_urgent_request(here, admin_client):
    request = urgent_request(here, code="ENG")
    learner = here.learner("Ayanda Dube")
    page = _create_page(
        admin_client,
        learner=learner.pk,
        organisation=here.organisation.pk,
        urgent_request=request.pk,
    )
    initial = page.context["form"].initial
    assert initial["subject"] == subject("ENG").pk
    assert initial["academic_year"] == academic_year("2027").pk
    assert (initial["starts_on"], initial["ends_on"]) == (STARTS_ON, ENDS_ON)
    assert f'name="urgent_request" value="{request.pk}"' in page.content.decode()

    data = {
        "learner": learner.pk,
        "organisation": here.organisation.pk,
        "cohort": here.cohort.pk,
        "academic_year": academic_year("2027").pk,
        "subject": subject("ENG").pk,
        "starts_on": "2027-03-01",
        "ends_on": "2027-06-30",
    }
    # Without the request, the organisation offers no English places.
    refused = admin_client.post(reverse("placements:placement_create"), data)
    assert refused.status_code == 400
    assert "Hillview High offers no places in English" in refused.content.decode()
    response = admin_client.post(
        reverse("placements:placement_create"), {**data, "urgent_request": request.pk}
    )
    assert response.status_code == 302
    assert Placement.objects.get(learner=learner).urgent_request == request


def test_the_member_reads_only_their_own_reasons(here, client_of):
    declined = here.propose(here.learner("Ayanda Dube"))
    placement_decline(placement=declined, actor=here.member, reason="No maths teacher.")
    cancelled = here.propose(here.learner("Bongani Mthembu"))
    placement_cancel(placement=cancelled, actor=here.admin, reason="Her mother is ill.")
    terminated = placement_confirm(
        placement=here.propose(here.learner("Sipho Dlamini")), actor=here.member
    )
    placement_terminate(placement=terminated, actor=here.admin, reason="Failed a drug test.")

    page = client_of(here.member).get(reverse("placements:member_placements")).content.decode()
    assert "Declined: No maths teacher." in page
    assert "Her mother is ill." not in page
    assert "Failed a drug test." not in page


def test_the_staff_reason_forms_say_who_reads_the_reason(here, admin_client):
    proposed = here.propose(here.learner("Ayanda Dube"))
    cancel = admin_client.get(reverse("placements:placement_cancel", args=[proposed.pk]))
    assert "Neither the organisation nor the learner sees it." in cancel.content.decode()
    confirmed = placement_confirm(
        placement=here.propose(here.learner("Bongani Mthembu")), actor=here.member
    )
    terminate = admin_client.get(reverse("placements:placement_terminate", args=[confirmed.pk]))
    assert "the organisation does not see it" in terminate.content.decode()
