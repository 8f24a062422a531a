"""The matching page: a cohort's unplaced learners, the cleared beside the nearest
organisations with a free place, the others with what they miss; pairs proposed in bulk, all
or none."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.http import urlencode

from placements.models import Placement, PlacementStatus, VettingRecord
from placements.services.placements import Proposal, placements_propose
from placements.views.search import MATCHING_PAGE_SIZE
from tests.placements.factories import (
    DURBAN,
    JOHANNESBURG,
    PRETORIA,
    OrganisationFactory,
    academic_year,
    preference,
    subject,
)
from tests.placements.search.support import cohort_needing_police_clearance, learner_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(admin, institution):
    """A cohort with a cleared learner in Johannesburg and one in Durban, one not cleared, one
    already placed; two schools near Johannesburg (one full), one near Pretoria."""
    year = academic_year("2027")
    cohort = cohort_needing_police_clearance()
    maths = subject("MATH")
    near = OrganisationFactory(name="Joburg High")
    preference(near, year, places={("MATH", "secondary"): 2})
    full = OrganisationFactory(name="Full High")
    preference(full, year, places={("MATH", "secondary"): 1})
    pretoria = OrganisationFactory(
        name="Pretoria High", latitude=PRETORIA[0], longitude=PRETORIA[1]
    )
    preference(pretoria, year, places={("MATH", "secondary"): 1})
    joburg = learner_in(admin, cohort, "Thabo Mokoena", JOHANNESBURG)
    durban = learner_in(admin, cohort, "Naledi Durban", DURBAN)
    not_cleared = learner_in(admin, cohort, "Sipho Waiting", JOHANNESBURG, cleared=False)
    placed = learner_in(admin, cohort, "Lerato Placed", JOHANNESBURG)
    taken = placements_propose(
        actor=admin,
        proposals=[
            Proposal(
                learner=placed,
                organisation=full,
                academic_year=year,
                subject=maths,
                starts_on=datetime.date(2027, 2, 1),
                ends_on=datetime.date(2027, 6, 30),
                cohort=cohort,
            )
        ],
    )[0]
    # A confirmed placement takes Full High's only place (set as the confirming service leaves
    # it: the transition itself is another area's).
    Placement.objects.filter(pk=taken.pk).update(status=PlacementStatus.CONFIRMED)
    return {
        "year": year,
        "cohort": cohort,
        "maths": maths,
        "near": near,
        "full": full,
        "pretoria": pretoria,
        "joburg": joburg,
        "durban": durban,
        "not_cleared": not_cleared,
        "placed": placed,
    }


def _url(setting) -> str:
    return f"/placements/cohorts/{setting['cohort'].pk}/matching/"


def _query(setting, radius=100) -> dict:
    return {
        "subject": setting["maths"].pk,
        "academic_year": setting["year"].pk,
        "radius_km": radius,
    }


def test_cleared_learners_beside_the_nearest_organisations_with_a_free_place(admin_client, setting):
    response = admin_client.get(_url(setting), _query(setting))

    assert response.status_code == 200
    matches = {m.learner.full_name: m for m in response.context["page"].object_list}
    # The placed learner is left out; Full High has no place left.
    assert set(matches) == {"Thabo Mokoena", "Naledi Durban", "Sipho Waiting"}
    assert [o.name for o in matches["Thabo Mokoena"].organisations] == [
        "Joburg High",
        "Pretoria High",
    ]
    assert matches["Naledi Durban"].organisations == []
    assert not matches["Sipho Waiting"].cleared
    assert [t.code for t in matches["Sipho Waiting"].missing] == ["police_clearance"]
    text = response.content.decode()
    assert "Missing: Police clearance" in text
    assert "No organisation with a free place within the radius." in text


def test_chosen_pairs_are_proposed_together(admin_client, setting, admin):
    other = learner_in(admin, setting["cohort"], "Ayesha Second", JOHANNESBURG)
    response = admin_client.post(
        _url(setting),
        {
            **_query(setting),
            "pair": [
                f"{setting['joburg'].pk}:{setting['near'].pk}",
                f"{other.pk}:{setting['pretoria'].pk}",
            ],
            "starts_on": "2027-03-01",
            "ends_on": "2027-06-30",
        },
    )

    assert response.status_code == 302
    made = Placement.objects.filter(status=PlacementStatus.PROPOSED, cohort=setting["cohort"])
    assert {(p.learner_id, p.organisation_id) for p in made} >= {
        (setting["joburg"].pk, setting["near"].pk),
        (other.pk, setting["pretoria"].pk),
    }
    assert all(p.subject == setting["maths"] for p in made)
    following = admin_client.get(response["Location"])
    assert "2 placements proposed" in following.content.decode()
    names = {m.learner.full_name for m in following.context["page"].object_list}
    assert "Thabo Mokoena" not in names


def test_a_bulk_proposal_with_one_bad_pair_proposes_none(admin_client, setting):
    before = Placement.objects.count()
    # The same learner twice over the same dates: the second refuses, the first is undone.
    response = admin_client.post(
        _url(setting),
        {
            **_query(setting),
            "pair": [
                f"{setting['joburg'].pk}:{setting['near'].pk}",
                f"{setting['joburg'].pk}:{setting['pretoria'].pk}",
            ],
            "starts_on": "2027-03-01",
            "ends_on": "2027-06-30",
        },
    )

    assert response.status_code == 200
    assert Placement.objects.count() == before
    text = response.content.decode()
    assert "Nothing was proposed" in text
    assert "Thabo Mokoena already has a placement at that time." in text


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        ({"starts_on": "2028-03-01", "ends_on": "2028-06-30"}, "not within the academic year"),
        ({"starts_on": "2027-06-01", "ends_on": "2027-03-01"}, "cannot end before it starts"),
    ],
)
def test_bad_dates_propose_nothing(admin_client, setting, dates, message):
    before = Placement.objects.count()
    response = admin_client.post(
        _url(setting),
        {**_query(setting), "pair": [f"{setting['joburg'].pk}:{setting['near'].pk}"], **dates},
    )

    assert Placement.objects.count() == before
    assert message in response.content.decode()


def test_a_learner_outside_the_cohort_or_already_placed_is_refused(admin_client, setting):
    before = Placement.objects.count()
    response = admin_client.post(
        _url(setting),
        {
            **_query(setting),
            "pair": [f"{setting['placed'].pk}:{setting['near'].pk}"],
            "starts_on": "2027-07-01",
            "ends_on": "2027-08-30",
        },
    )

    assert Placement.objects.count() == before
    assert "no longer waiting for a placement" in response.content.decode()


def test_nothing_chosen_is_refused(admin_client, setting):
    response = admin_client.post(
        _url(setting), {**_query(setting), "starts_on": "2027-03-01", "ends_on": "2027-06-30"}
    )

    assert "Choose at least one learner" in response.content.decode()


def test_each_further_learner_costs_one_distance_query(admin_client, setting, admin):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(_url(setting), _query(setting))
        assert response.status_code == 200
        # The tenant connection sets its search path before a query: count the reads alone.
        return sum(not q["sql"].startswith("SET search_path") for q in captured.captured_queries)

    before = queries()
    for number in range(5):
        learner_in(admin, setting["cohort"], f"Extra Learner{number}", JOHANNESBURG)
    learner_in(admin, setting["cohort"], "Extra Uncleared", JOHANNESBURG, cleared=False)

    # Five cleared learners: a distance query each; what the uncleared miss is read with the
    # clearances of all, in the same queries however many.
    assert queries() - before == 5


def test_another_cohort_id_is_404(admin_client, setting):
    response = admin_client.get("/placements/cohorts/999999/matching/", _query(setting))

    assert response.status_code == 404


def test_a_refused_proposal_keeps_the_filters_and_the_page(admin, admin_client, setting):
    for number in range(MATCHING_PAGE_SIZE):
        learner_in(admin, setting["cohort"], f"Zola Waiting{number:02d}", cleared=False)
    query = urlencode({**_query(setting), "page": 2})
    pair = f"{setting['joburg'].pk}:{setting['near'].pk}"

    shown = admin_client.get(f"{_url(setting)}?{query}")
    refused = admin_client.post(
        f"{_url(setting)}?{query}",
        {**_query(setting), "pair": [pair], "starts_on": "2027-06-01", "ends_on": "2027-03-01"},
    )

    # The form posts back to the page it is on, with its query.
    assert f'action="{_url(setting)}?{query.replace("&", "&amp;")}"' in shown.content.decode()
    assert shown.context["page"].number == 2
    assert refused.status_code == 200
    assert "cannot end before it starts" in refused.content.decode()
    assert refused.context["page"].number == 2
    assert f"subject={setting['maths'].pk}" in refused.context["page"].query
    first = admin_client.post(
        f"{_url(setting)}?{urlencode(_query(setting))}",
        {**_query(setting), "pair": [pair], "starts_on": "2027-06-01", "ends_on": "2027-03-01"},
    )
    # The pair ticked is ticked again on the page shown.
    assert f'value="{pair}" id="pair-{pair.replace(":", "-")}" checked' in first.content.decode()


def _expiring_clearance(setting):
    """Thabo's police clearance runs out on 15 February 2027."""
    VettingRecord.objects.filter(learner=setting["joburg"]).update(
        expires_on=datetime.date(2027, 2, 15)
    )


def test_clearance_is_judged_on_the_proposed_start_date(admin_client, setting):
    _expiring_clearance(setting)

    # From the start of February the clearance is still valid...
    early = admin_client.get(
        _url(setting), {**_query(setting), "starts_on": "2027-02-01", "ends_on": "2027-06-30"}
    )
    # ...but not from March, whether the dates come in the query or were posted.
    later = admin_client.get(
        _url(setting), {**_query(setting), "starts_on": "2027-03-01", "ends_on": "2027-06-30"}
    )
    posted = admin_client.post(
        f"{_url(setting)}?{urlencode(_query(setting))}",
        {**_query(setting), "starts_on": "2027-03-01", "ends_on": "2027-06-30"},
    )

    def thabo(response):
        (match,) = [
            m for m in response.context["page"].object_list if m.learner == setting["joburg"]
        ]
        return match

    assert early.context["judged_on"] == datetime.date(2027, 2, 1)
    assert thabo(early).cleared
    for response in (later, posted):
        assert response.context["judged_on"] == datetime.date(2027, 3, 1)
        assert not thabo(response).cleared
        assert [t.code for t in thabo(response).missing] == ["police_clearance"]
    assert "Clearance is judged on the start date, 1 Mar 2027" in later.content.decode()


def test_the_dates_proposed_are_kept_for_the_next_proposal(admin_client, setting):
    response = admin_client.post(
        _url(setting),
        {
            **_query(setting),
            "pair": [f"{setting['joburg'].pk}:{setting['near'].pk}"],
            "starts_on": "2027-03-01",
            "ends_on": "2027-06-30",
        },
    )

    following = admin_client.get(response["Location"])
    assert following.context["propose"].initial == {
        "starts_on": datetime.date(2027, 3, 1),
        "ends_on": datetime.date(2027, 6, 30),
    }
