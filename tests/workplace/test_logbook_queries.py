"""The logbook's pages read a fixed number of queries: the learner's logbook whatever the
number of weeks, a week whatever the number of its entries (their outcomes and files), the
mentor's mentees whatever the number of learners."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from placements.models import Placement
from tests.workplace.support import week_logged, workplace_world
from workplace.models import LogbookEvidence, LogbookWeekStatus

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


def test_the_learners_logbook_reads_the_same_queries_for_10_and_200_weeks(admin, client_of):
    counts = []
    for size in (10, 200):
        world = workplace_world(admin)
        placed = world.learner
        weeks_logged(placed, size, world.outcomes)
        url = reverse("workplace:logbook", args=[placed.placement.pk])
        client = client_of(placed.user)
        queries(client, url)
        counts.append(queries(client, url))
        counts.append(queries(client_of(world.mentor), url))
    assert counts[:2] == counts[2:]


def test_a_week_reads_the_same_queries_for_one_entry_and_seven_with_every_outcome(admin, client_of):
    counts = []
    for days, outcomes in ((1, 1), (7, 3)):
        world = workplace_world(admin)
        placed = world.learner
        week = week_logged(placed, MONDAY, days=days, outcomes=world.outcomes[:outcomes])
        for entry in week.entries.all():
            LogbookEvidence.objects.create(
                entry=entry,
                original_name="lesson.png",
                size=10,
                content_type="image/png",
                sha256="0" * 64,
            )
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
