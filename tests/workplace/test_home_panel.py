"""The start page's workplace panel tells each person what waits for them: the mentor the weeks
to confirm, the assessor the portfolios to assess, the moderator the open samples, the learner
the weeks their mentor returned."""

import datetime

import pytest

from tests.workplace.support import week_logged, workplace_world
from tests.workplace.test_assessing import handed_in
from workplace.models import LogbookWeekStatus
from workplace.selectors.home import workplace_home_panel
from workplace.services.moderation import sample_draw
from workplace.services.portfolios import portfolio_assess

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2027, 3, 15)


def test_each_person_sees_what_waits_for_them(admin):
    world = workplace_world(admin, learners=2)
    week_logged(world.placed[0], MONDAY, status=LogbookWeekStatus.SUBMITTED)
    week_logged(world.placed[1], MONDAY, status=LogbookWeekStatus.RETURNED)
    waiting = handed_in(world)

    assert workplace_home_panel(world.mentor) == {"weeks_to_review": 1, "mentees": 2}
    assert workplace_home_panel(world.assessor) == {"to_assess": 1}
    assert workplace_home_panel(world.placed[1].user) == {
        "learner": True,
        "weeks_returned": 1,
        "portfolios_decided": 0,
    }

    portfolio_assess(actor=world.assessor, portfolio=waiting, decision="competent")
    sample_draw(
        actor=admin, course_run=world.run, assessor=world.assessor, moderator=world.moderator
    )
    assert workplace_home_panel(world.assessor) == {"to_assess": 0}
    assert workplace_home_panel(world.moderator) == {"samples_open": 1}
    # An admin may assess and moderate, but holds no registration: nothing to show.
    assert workplace_home_panel(admin) is None


def test_the_panel_is_on_the_start_page(admin, client_of):
    world = workplace_world(admin)
    week_logged(world.learner, MONDAY, status=LogbookWeekStatus.SUBMITTED)
    page = client_of(world.mentor).get("/").content.decode()
    assert 'data-panel="workplace"' in page
    assert "1 logbook week</strong> to confirm or return" in " ".join(page.split())
