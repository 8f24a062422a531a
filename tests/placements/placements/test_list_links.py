"""Ways between the placement pages: the list's "Match a cohort's learners" control opens a
running cohort's matching page (anything else is refused with a message), and a learner's
placements and vetting link each other."""

import pytest
from django.urls import reverse

from cohorts.models import Cohort, CohortState
from tests.factories import CohortFactory

from .support import World, world

pytestmark = pytest.mark.django_db

LIST = reverse("placements:placement_list")


def _match_control(page: str) -> str:
    """The list's matching control (the filters above the list name every cohort)."""
    start = page.index('aria-labelledby="match-heading"')
    return page[start : page.index("</section>", start)]


@pytest.fixture
def here(institution, admin) -> World:
    return world(admin)


def test_the_list_offers_the_running_cohorts_and_opens_the_chosen_ones_matching(here, admin_client):
    draft = CohortFactory(name="Not started yet")
    ended = CohortFactory(active=True, name="Ended intake")
    Cohort.objects.filter(pk=ended.pk).update(state=CohortState.COMPLETED)

    page = admin_client.get(LIST).content.decode()

    control = _match_control(page)
    assert "Match a cohort's learners" in control
    assert f'<option value="{here.cohort.pk}">{here.cohort.name}</option>' in control
    assert draft.name not in control
    assert ended.name not in control
    response = admin_client.get(LIST, {"match": here.cohort.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("placements:matching", args=[here.cohort.pk])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Choose an active cohort to match its learners."),
        ("ended", "That cohort is not running any more: choose an active cohort."),
        ("nonsense", "That cohort is not running any more: choose an active cohort."),
    ],
)
def test_a_cohort_that_is_not_running_is_refused_with_a_message(here, admin_client, value, message):
    ended = CohortFactory(active=True, name="Ended intake")
    Cohort.objects.filter(pk=ended.pk).update(state=CohortState.COMPLETED)

    response = admin_client.get(LIST, {"match": ended.pk if value == "ended" else value})

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert message in admin_client.get(LIST).content.decode()


def test_without_a_running_cohort_the_list_says_so(institution, admin_client):
    page = admin_client.get(LIST).content.decode()

    assert "No cohort is running: matching works on an active cohort's learners." in page
    assert 'name="match"' not in page


def test_the_control_needs_the_permission(here, client_of):
    response = client_of(here.member).get(LIST, {"match": here.cohort.pk})

    assert response.status_code == 404


def test_a_learners_placements_and_vetting_link_each_other(here, client_of):
    learner = here.learner("Ayanda Dube")
    client = client_of(learner.user)

    placements = client.get(reverse("placements:my_placements")).content.decode()
    vetting = client.get(reverse("placements:my_vetting")).content.decode()

    assert f'href="{reverse("placements:my_vetting")}"' in placements
    assert f'href="{reverse("placements:my_placements")}"' in vetting


def test_someone_who_is_not_a_learner_is_not_sent_to_a_vetting_page_they_cannot_open(
    here, client_of
):
    page = client_of(here.member).get(reverse("placements:my_placements")).content.decode()

    assert f'href="{reverse("placements:my_vetting")}"' not in page
    assert client_of(here.member).get(reverse("placements:my_vetting")).status_code == 404
