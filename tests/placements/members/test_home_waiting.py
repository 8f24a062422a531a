"""The member home page's sections: the placements proposed to the current organisation and the
open urgent requests it has not answered, the first few of each with how many and a link to
all; nothing of another organisation's; as many queries for many as for one."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from placements.models import UrgentAnswer
from placements.selectors.distance import Point
from placements.services.placements import placement_confirm
from placements.services.urgent import (
    UrgentNeed,
    urgent_invite_answer,
    urgent_request_broadcast,
    urgent_request_close,
)
from tests.placements.factories import JOHANNESBURG, academic_year, subject
from tests.placements.placements.support import World, world

pytestmark = pytest.mark.django_db

HOME = reverse("placements:member_home")


@pytest.fixture
def here(institution, admin) -> World:
    return world(admin, places=10)


def _broadcast(here: World, places: int = 2):
    return urgent_request_broadcast(
        actor=here.admin,
        need=UrgentNeed(
            subject=subject("MATH"),
            phase="secondary",
            academic_year=academic_year("2027"),
            starts_on=datetime.date(2027, 4, 1),
            ends_on=datetime.date(2027, 5, 31),
            places=places,
            centre=Point(*JOHANNESBURG),
            radius_km=50,
        ),
    )


def _invite(request, here: World):
    return request.invites.get(organisation=here.organisation)


def test_the_home_page_lists_what_waits_for_the_organisations_answer(here, client_of):
    waiting = here.propose(here.learner("Ayanda Dube"))
    confirmed = here.propose(here.learner("Bongani Mthembu"))
    placement_confirm(placement=confirmed, actor=here.member)
    elsewhere = world(here.admin, name="Elsewhere High")
    elsewhere.propose(elsewhere.learner("Zanele Other"))
    open_request = _broadcast(here, places=4)
    answered = _invite(_broadcast(here, places=5), here)
    urgent_invite_answer(
        actor=here.member, invite=answered, answer=UrgentAnswer.CANNOT_HOST, places_offered=None,
        note="",
    )  # fmt: skip
    closed = _broadcast(here, places=6)
    urgent_request_close(actor=here.admin, request=closed)

    page = client_of(here.member).get(HOME)

    assert page.status_code == 200
    waiting_section = page.context["waiting"]
    assert waiting_section.placements == [waiting]
    assert waiting_section.placement_count == 1
    assert waiting_section.invites == [_invite(open_request, here)]
    assert waiting_section.invite_count == 1
    text = page.content.decode()
    assert "One learner is proposed to Hillview High" in text
    assert "Ayanda Dube" in text
    assert "Bongani Mthembu" not in text
    assert "Zanele Other" not in text
    assert reverse("placements:member_placement_confirm", args=[waiting.pk]) in text
    assert reverse("placements:member_placement_decline", args=[waiting.pk]) in text
    assert f"{reverse('placements:member_placements')}?status=proposed" in text
    assert "4 × Mathematics" in text
    assert "5 × Mathematics" not in text
    assert "6 × Mathematics" not in text
    assert reverse("placements:member_urgent_answer", args=[_invite(open_request, here).pk]) in text
    assert reverse("placements:member_urgent_list") in text


def test_nothing_waiting_says_so(here, client_of):
    text = client_of(here.member).get(HOME).content.decode()

    assert "No placement waits for your answer." in text
    assert "No urgent request waits for your answer." in text


def test_the_sections_show_the_first_few_and_read_as_much_for_many_as_for_one(here, client_of):
    client = client_of(here.member)

    def reads() -> int:
        client.get(HOME)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(HOME).status_code == 200
        return len(captured)

    here.propose(here.learner("First Learner"))
    _broadcast(here)
    one = reads()
    for number in range(5):
        here.propose(here.learner(f"Extra Learner{number}"))
        _broadcast(here)

    assert reads() == one
    page = client.get(HOME)
    assert len(page.context["waiting"].placements) == 3
    assert len(page.context["waiting"].invites) == 3
    text = page.content.decode()
    assert "6 learners are proposed" in text
    assert "All 6 proposed placements" in text
    assert "All 6 urgent requests to answer" in text


def test_the_start_page_panel_says_what_waits(here, client_of):
    client = client_of(here.member)
    quiet = client.get("/").content.decode()
    here.propose(here.learner("Ayanda Dube"))
    _broadcast(here)

    busy = client.get("/").content.decode()

    assert 'data-panel="organisation-member"' in quiet
    assert "1 proposed placement</a> to confirm or decline" in busy
    assert "1 urgent request</a> to answer" in busy
    assert "proposed placement</a>" not in quiet
