"""The logbook's pages read a fixed number of queries: the learner's logbook whatever the
number of weeks, a week whatever the number of entries' outcomes, the mentor's mentees whatever
the number of learners."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from placements.models import Placement
from tests.workplace.support import week_logged, workplace_world
from workplace.models import LogbookWeekStatus

MONDAY = datetime.date(2027, 3, 1)
STATUSES = [
    LogbookWeekStatus.CONFIRMED,
    LogbookWeekStatus.SUBMITTED,
    LogbookWeekStatus.RETURNED,
    LogbookWeekStatus.OPEN,
]


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def weeks_logged(placed, count: int, outcomes) -> None:
    Placement.objects.filter(pk=placed.placement.pk).update(
        ends_on=MONDAY + datetime.timedelta(weeks=count)
    )
    for n in range(count):
        week_logged(
            placed,
            MONDAY + datetime.timedelta(weeks=n),
            status=STATUSES[n % len(STATUSES)],
            days=1,
            outcomes=outcomes,
        )


@pytest.mark.parametrize("page", ["logbook", "week"])
def test_the_learners_logbook_and_week_read_the_same_queries_for_10_and_200_weeks(
    admin, client_of, page
):
    counts = []
    for size in (10, 200):
        world = workplace_world(admin)
        placed = world.learner
        weeks_logged(placed, size, world.outcomes)
        if page == "logbook":
            url = reverse("workplace:logbook", args=[placed.placement.pk])
        else:
            url = reverse("workplace:logbook_week", args=[placed.placement.pk, MONDAY.isoformat()])
        client = client_of(placed.user)
        queries(client, url)
        counts.append(queries(client, url))
        counts.append(queries(client_of(world.mentor), url))
    assert counts[:2] == counts[2:]


def test_the_mentees_list_reads_the_same_queries_for_10_and_200_learners(admin, client_of):
    counts = []
    for size in (10, 200):
        world = workplace_world(admin, learners=size)
        for placed in world.placed[:3]:
            week_logged(placed, MONDAY, status=LogbookWeekStatus.SUBMITTED, days=1)
        client = client_of(world.mentor)
        url = reverse("workplace:mentees")
        queries(client, url)
        counts.append(queries(client, url))
    assert counts[0] == counts[1]
