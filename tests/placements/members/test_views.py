"""The members' pages and the admin's: a member sees only their current organisation, every
other organisation's id answers 404, switching and removal change what they see; the
preference form places each complaint on its row and saves nothing then; the overview counts
answers and sends reminders once a day; the subject pages refuse a cycle with its path."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import SystemRole, User
from accounts.services import user_roles_set
from notifications.models import OutboundEmail
from placements.access import current_membership
from placements.models import OrganisationMembership, PlacementPreference, PreferenceReminder
from placements.services.memberships import membership_remove
from tests.factories import UserFactory
from tests.placements.factories import OrganisationFactory, academic_year, preference, subject
from tests.placements.members.calendar_years import NEXT, THIS

pytestmark = pytest.mark.django_db

HOME = reverse("placements:member_home")
SWITCH = reverse("placements:member_switch")


def _preference_post(
    organisation=None, appetite="interested", places=(), windows=(), notes="", extra=2
):
    """The preference form as a browser sends it, opened for `organisation`: the filled rows,
    then `extra` blank ones."""
    data = {
        "organisation": str(organisation.pk) if organisation else "",
        "appetite": appetite,
        "notes": notes,
    }
    places_rows = [*places, *[("", "")] * extra]
    window_rows = [*windows, *[("", "")] * extra]
    for prefix, rows, names in (
        ("places", places_rows, ("subject", "places")),
        ("windows", window_rows, ("starts_on", "ends_on")),
    ):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": str(len(rows)),
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
        for index, row in enumerate(rows):
            for name, value in zip(names, row, strict=True):
                data[f"{prefix}-{index}-{name}"] = str(value)
    return data


def test_the_member_home_shows_the_current_organisation_and_a_switcher(
    client_of, member, two_schools, next_year
):
    acacia, baobab = two_schools
    preference(acacia, next_year, places={("MATH", "secondary"): 2})

    page = client_of(member).get(HOME)

    assert page.status_code == 200
    text = page.content.decode()
    assert '<h1 class="h3 mb-1">Acacia Primary</h1>' in text
    assert "Switch to Baobab High" in text
    assert "Mathematics" in text
    assert reverse("placements:member_preference", args=[next_year.pk]) in text


def test_no_switcher_for_a_single_organisation(client_of, member, add_member):
    add_member(OrganisationFactory(name="Only School"), member)

    text = client_of(member).get(HOME).content.decode()

    assert "Only School" in text
    assert 'data-testid="switcher"' not in text


def test_someone_who_belongs_nowhere_gets_404(client_of, member, next_year):
    client = client_of(member)

    assert client.get(HOME).status_code == 404
    url = reverse("placements:member_preference", args=[next_year.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, _preference_post()).status_code == 404
    assert not PlacementPreference.objects.exists()


def test_a_member_gets_404_for_every_page_about_another_organisation(
    client_of, member, two_schools, next_year
):
    acacia, _ = two_schools
    stranger = OrganisationFactory(name="Elsewhere")
    their_membership = OrganisationMembership.objects.create(
        user=UserFactory(roles=[SystemRole.ORGANISATION_MEMBER]), organisation=stranger
    )
    client = client_of(member)

    for organisation in (stranger, acacia):  # admin pages, even for their own organisation
        for url in (
            reverse("placements:organisation_members", args=[organisation.pk]),
            reverse("placements:organisation_preferences", args=[organisation.pk]),
            reverse(
                "placements:organisation_preference_edit", args=[organisation.pk, next_year.pk]
            ),
        ):
            assert client.get(url).status_code == 404, url
            assert client.post(url, _preference_post(organisation)).status_code == 404, url
    remove = reverse(
        "placements:organisation_member_remove", args=[stranger.pk, their_membership.pk]
    )
    assert client.post(remove).status_code == 404
    assert client.post(SWITCH, {"organisation": stranger.pk}).status_code == 404
    assert client.post(SWITCH, {"organisation": "nonsense"}).status_code == 404
    assert client.get(reverse("placements:preference_overview")).status_code == 404
    assert client.get(reverse("placements:subject_list")).status_code == 404
    assert OrganisationMembership.objects.filter(pk=their_membership.pk).exists()
    assert not PlacementPreference.objects.exists()


def test_switching_changes_what_the_member_sees_and_sets(client_of, member, two_schools, next_year):
    acacia, baobab = two_schools
    client = client_of(member)

    response = client.post(SWITCH, {"organisation": baobab.pk})

    assert response.status_code == 302
    assert response["Location"] == HOME
    assert '<h1 class="h3 mb-1">Baobab High</h1>' in client.get(HOME).content.decode()
    url = reverse("placements:member_preference", args=[next_year.pk])
    saved = client.post(url, _preference_post(baobab, places=[("ENG", "4")]))
    assert saved.status_code == 302
    stored = PlacementPreference.objects.get()
    assert stored.organisation == baobab
    assert stored.placement_details["places"] == [
        {"subject": "ENG", "phase": "secondary", "places": 4}
    ]
    # Stored: a new session (a sign-in later) acts for Baobab too.
    assert "Baobab High</h1>" in client_of(member).get(HOME).content.decode()


def test_a_form_opened_for_the_organisation_switched_from_saves_nothing(
    client_of, member, two_schools, next_year
):
    acacia, baobab = two_schools
    client = client_of(member)
    url = reverse("placements:member_preference", args=[next_year.pk])
    assert f'name="organisation" value="{acacia.pk}"' in client.get(url).content.decode()
    client.post(SWITCH, {"organisation": baobab.pk})  # in another window

    response = client.post(url, _preference_post(acacia, places=[("ENG", "4")]), follow=True)

    assert not PlacementPreference.objects.exists()
    text = response.content.decode()
    assert "This form was opened for another organisation: nothing was saved." in text
    assert "For <strong>Baobab High</strong>." in text
    assert client.post(url, _preference_post(None)).status_code == 302
    assert not PlacementPreference.objects.exists()


def test_taking_the_organisation_member_role_takes_the_member_pages(
    admin, client_of, member, two_schools, next_year
):
    client = client_of(member)
    assert client.get(HOME).status_code == 200

    # On the People page, the role is replaced by another; the membership rows stay.
    user_roles_set(user=member, roles=[SystemRole.TRAINER], actor=admin)

    assert client.get(HOME).status_code == 404
    url = reverse("placements:member_preference", args=[next_year.pk])
    assert client.get(url).status_code == 404
    assert current_membership(User.objects.get(pk=member.pk)) is None
    assert OrganisationMembership.objects.filter(user=member).count() == 2


def test_switching_is_a_post(client_of, member, two_schools):
    assert client_of(member).get(SWITCH).status_code == 405


def test_a_removed_member_loses_access(admin, client_of, member, two_schools, next_year):
    acacia, baobab = two_schools
    client = client_of(member)
    for membership in OrganisationMembership.objects.filter(user=member, organisation=acacia):
        membership_remove(actor=admin, membership=membership)

    assert "Baobab High</h1>" in client.get(HOME).content.decode()
    assert client.post(SWITCH, {"organisation": acacia.pk}).status_code == 404

    membership_remove(actor=admin, membership=OrganisationMembership.objects.get(user=member))
    assert client.get(HOME).status_code == 404
    url = reverse("placements:member_preference", args=[next_year.pk])
    assert client.get(url).status_code == 404


def test_the_preference_form_shows_each_complaint_on_its_row_and_saves_nothing(
    client_of, member, two_schools, next_year
):
    url = reverse("placements:member_preference", args=[next_year.pk])
    response = client_of(member).post(
        url,
        _preference_post(
            two_schools[0],
            places=[("MATH", "3"), ("MATH", "1"), ("ENG", "0")],
            windows=[(f"{THIS}-12-01", f"{NEXT}-01-10")],
        ),
    )

    assert response.status_code == 400
    text = response.content.decode()
    assert "Nothing was saved" in text
    assert "MATH (secondary) is listed twice" not in text  # the row check comes first: 0 places
    assert "Ensure this value is greater than or equal to 1." in text
    assert not PlacementPreference.objects.exists()

    response = client_of(member).post(
        url,
        _preference_post(
            two_schools[0],
            places=[("MATH", "3"), ("MATH", "1")],
            windows=[(f"{THIS}-12-01", f"{NEXT}-01-10")],
        ),
    )
    forms = response.context["forms"]
    assert forms.places.forms[0].errors == {}
    assert forms.places.forms[1].non_field_errors() == [
        "MATH (secondary) is listed twice: give its places once"
    ]
    assert "is not within the academic year" in forms.windows.forms[0].non_field_errors()[0]
    assert not PlacementPreference.objects.exists()


def test_a_row_with_places_but_no_subject_is_refused(client_of, member, two_schools, next_year):
    url = reverse("placements:member_preference", args=[next_year.pk])
    response = client_of(member).post(url, _preference_post(two_schools[0], places=[("", "3")]))

    assert response.status_code == 400
    assert "Choose the subject these places are in." in response.content.decode()


def test_not_interested_with_places_is_shown_at_the_answer(
    client_of, member, two_schools, next_year
):
    url = reverse("placements:member_preference", args=[next_year.pk])
    response = client_of(member).post(
        url, _preference_post(two_schools[0], appetite="not_interested", places=[("MATH", "2")])
    )

    assert response.context["forms"].form.errors["appetite"] == [
        "An organisation that is not interested offers no places or dates."
    ]


def test_the_form_shows_the_stored_preference(client_of, member, two_schools, next_year):
    acacia, _ = two_schools
    preference(
        acacia,
        next_year,
        places={("PHYS", "secondary"): 2},
        windows=[{"starts_on": f"{NEXT}-02-01", "ends_on": f"{NEXT}-03-01"}],
        notes="Ask for Mr Dube",
    )

    text = (
        client_of(member)
        .get(reverse("placements:member_preference", args=[next_year.pk]))
        .content.decode()
    )

    assert '<option value="PHYS" selected>' in text
    assert f'value="{NEXT}-02-01"' in text
    assert "Ask for Mr Dube" in text


def test_an_admin_sets_a_preference_on_an_organisations_behalf(admin_client, admin, next_year):
    school = OrganisationFactory(name="Cedar College")
    url = reverse("placements:organisation_preference_edit", args=[school.pk, next_year.pk])

    response = admin_client.post(url, _preference_post(school, appetite="unsure"))

    assert response.status_code == 302
    stored = PlacementPreference.objects.get(organisation=school)
    assert stored.created_by == admin
    page = admin_client.get(reverse("placements:organisation_preferences", args=[school.pk]))
    assert "Unsure" in page.content.decode()


def test_an_admin_adds_and_removes_members(admin_client, member):
    school = OrganisationFactory(name="Cedar College")
    url = reverse("placements:organisation_members", args=[school.pk])

    assert admin_client.post(url, {"email": member.email}).status_code == 302
    refused = admin_client.post(url, {"email": "new@cedar.example"})
    assert refused.status_code == 400
    assert "give their full name to invite them" in refused.content.decode()
    invited = admin_client.post(url, {"email": "new@cedar.example", "full_name": "Nandi New"})
    assert invited.status_code == 302
    assert OutboundEmail.objects.filter(recipient="new@cedar.example").exists()
    listing = admin_client.get(url).content.decode()
    assert "Mia Member" in listing
    assert "invited, no password yet" in listing

    membership = OrganisationMembership.objects.get(user=member)
    remove = reverse("placements:organisation_member_remove", args=[school.pk, membership.pk])
    confirm = admin_client.get(remove).content.decode()
    assert "It is their only organisation" in confirm
    assert OrganisationMembership.objects.filter(pk=membership.pk).exists()
    assert admin_client.post(remove).status_code == 302
    assert not OrganisationMembership.objects.filter(pk=membership.pk).exists()


def test_a_membership_is_removed_only_from_its_own_organisation(admin_client, member, add_member):
    school = OrganisationFactory()
    other = OrganisationFactory()
    membership = add_member(school, member)

    url = reverse("placements:organisation_member_remove", args=[other.pk, membership.pk])

    assert admin_client.post(url).status_code == 404
    assert OrganisationMembership.objects.filter(pk=membership.pk).exists()


def test_the_overview_counts_answers_and_reminds_once_a_day(admin_client, next_year):
    answered = OrganisationFactory(name="Answered School")
    preference(answered, next_year, appetite="interested")
    first = OrganisationFactory(name="Quiet One", email_address="one@quiet.example")
    second = OrganisationFactory(name="Quiet Two", email_address="two@quiet.example")
    url = reverse("placements:preference_overview")

    page = admin_client.get(url, {"year": next_year.pk})
    assert page.context["counts"]["interested"] == 1
    assert page.context["counts"]["unanswered"] == 2
    assert [o.name for o in page.context["page"]] == ["Quiet One", "Quiet Two"]

    sent = admin_client.post(url, {"year": next_year.pk, "organisations": [first.pk]}, follow=True)
    assert "Reminder sent to 1 organisation." in sent.content.decode()
    again = admin_client.post(url, {"year": next_year.pk, "all": "1"}, follow=True)
    text = again.content.decode()
    assert "Reminder sent to 1 organisation." in text
    assert "Not reminded again: Quiet One, reminded less than 24 hours ago." in text
    assert set(PreferenceReminder.objects.values_list("organisation", flat=True)) == {
        first.pk,
        second.pk,
    }
    nothing = admin_client.post(url, {"year": next_year.pk}, follow=True)
    assert "Choose the organisations to remind." in nothing.content.decode()
    assert admin_client.get(url, {"year": "999999"}).status_code == 404


def test_the_overview_makes_as_many_queries_for_many_organisations(
    admin_client, next_year, django_assert_num_queries
):
    url = reverse("placements:preference_overview")
    OrganisationFactory()
    admin_client.get(url, {"year": next_year.pk})
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url, {"year": next_year.pk})
    for _ in range(6):
        school = OrganisationFactory()
        PreferenceReminder.objects.create(organisation=school, academic_year=next_year)
    with django_assert_num_queries(len(few)):
        assert admin_client.get(url, {"year": next_year.pk}).status_code == 200


def test_the_subject_tree_is_shown_indented_and_a_cycle_refused(admin_client):
    listing = admin_client.get(reverse("placements:subject_list"))
    rows = listing.context["page"].object_list
    depth = {row.subject.code: row.depth for row in rows}
    assert (depth["LANG"], depth["MFL"], depth["FRE"]) == (0, 1, 2)
    codes = [row.subject.code for row in rows]
    assert codes.index("LANG") < codes.index("MFL") < codes.index("FRE")

    lang = subject("LANG")
    response = admin_client.post(
        reverse("placements:subject_edit", args=[lang.pk]),
        {"name": lang.name, "code": lang.code, "phase": lang.phase, "parent": subject("FRE").pk},
    )
    assert response.status_code == 400
    assert (
        "That would make a cycle: Languages is within French, which is within Modern foreign "
        "languages, which is within Languages."
    ) in response.content.decode()


def test_subjects_are_added_and_deactivated_after_a_confirmation(admin_client):
    added = admin_client.post(
        reverse("placements:subject_add"),
        {"name": "Portuguese", "code": "por", "phase": "secondary", "parent": subject("MFL").pk},
    )
    assert added.status_code == 302
    portuguese = subject("POR")
    url = reverse("placements:subject_deactivate", args=[portuguese.pk])
    assert "Stop offering Portuguese?" in admin_client.get(url).content.decode()
    assert subject("POR").is_active
    assert admin_client.post(url).status_code == 302
    assert not subject("POR").is_active

    refused = admin_client.post(reverse("placements:subject_deactivate", args=[subject("LANG").pk]))
    assert refused.status_code == 400
    assert "Languages has subjects within it" in refused.content.decode()


def test_the_start_page_shows_the_members_organisation_and_what_waits(
    client_of, member, two_schools
):
    academic_year(str(THIS))  # the current year
    next_year = academic_year(str(NEXT))
    preference(two_schools[0], academic_year(str(THIS)), appetite="unsure")

    text = client_of(member).get("/").content.decode()

    assert 'data-panel="organisation-member"' in text
    assert "Acacia Primary" in text
    assert f"Placement preference for <strong>{NEXT}</strong> not set yet." in text
    assert f"<strong>{THIS}</strong>" not in text
    assert reverse("placements:member_preference", args=[next_year.pk]) in text


def test_the_start_page_has_no_member_panel_for_others(admin_client):
    assert 'data-panel="organisation-member"' not in admin_client.get("/").content.decode()
