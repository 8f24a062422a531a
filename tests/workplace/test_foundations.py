"""What every workplace page stands on: who reaches a placement's logbook, whose registration
covers what, and confirmed hours per outcome."""

import datetime
from decimal import Decimal

from placements.models import OrganisationMembership
from tests.workplace.support import week_logged, workplace_world
from workplace.access import (
    is_mentor,
    logbook_placements,
    placements_mentored,
    registration_valid,
)
from workplace.models import LogbookWeekStatus, PractitionerRole
from workplace.selectors.hours import outcome_hours

MONDAY = datetime.date(2027, 3, 8)


def test_confirmed_hours_add_up_per_outcome(admin):
    world = workplace_world(admin)
    first, second, third = world.outcomes
    week_logged(world.learner, MONDAY, status=LogbookWeekStatus.CONFIRMED, outcomes=[first, second])
    week_logged(
        world.learner,
        MONDAY + datetime.timedelta(days=7),
        status=LogbookWeekStatus.CONFIRMED,
        days=2,
        hours=Decimal("4"),
        outcomes=[first],
    )
    week_logged(
        world.learner,
        MONDAY + datetime.timedelta(days=14),
        status=LogbookWeekStatus.SUBMITTED,
        outcomes=[third],
    )
    assert outcome_hours(world.learner.learner) == {
        first.pk: Decimal("45.5"),
        second.pk: Decimal("37.5"),
    }


def test_a_mentor_reaches_only_the_placements_they_mentor_at_their_organisation(admin):
    world = workplace_world(admin, learners=2)
    [unmentored] = world.learners_add(1, mentored=False)
    mentored = placements_mentored(world.mentor)
    assert set(mentored) == {world.placed[0].placement, world.placed[1].placement}
    assert not is_mentor(world.mentor, unmentored.placement)
    assert set(logbook_placements(world.learner.user)) == {world.learner.placement}
    OrganisationMembership.objects.filter(user=world.mentor).delete()
    assert not placements_mentored(world.mentor).exists()


def test_a_registration_counts_in_scope_and_until_it_expires(admin):
    world = workplace_world(admin)
    registration = registration_valid(world.assessor, PractitionerRole.ASSESSOR, world.programme)
    assert registration is not None
    assert registration_valid(world.moderator, PractitionerRole.ASSESSOR, world.programme) is None
    assert (
        registration_valid(
            world.assessor,
            PractitionerRole.ASSESSOR,
            world.programme,
            on=registration.expires_on + datetime.timedelta(days=1),
        )
        is None
    )
