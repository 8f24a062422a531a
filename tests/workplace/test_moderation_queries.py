"""The moderation pages read in as many queries for 200 learners as for 10: the staff overview
(runs' assessors awaiting moderation with their candidate moderators, and the samples) and a
sample's page (every covered decision with its learner, outcome and portfolio)."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.workplace.moderation_support import decisions_make
from tests.workplace.support import workplace_world
from workplace.services.moderation import moderation_policy_set, sample_draw

pytestmark = pytest.mark.django_db


def _counted(client, url: str) -> int:
    client.get(url)  # the first request warms the session and the role caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_staff_overview_and_the_sample_page_query_the_same_for_10_and_200_learners(
    admin, client_of
):
    moderation_policy_set(actor=admin, share_percent=50, minimum=5)
    overview, sample_page, moderator_page = [], [], []
    for size in (10, 200):
        world = workplace_world(admin, learners=size)
        decisions_make(world, world.placed, nyc=size // 5)
        staff = client_of(admin)
        sample = sample_draw(
            actor=admin,
            course_run=world.run,
            assessor=world.assessor,
            moderator=world.moderator,
            rng=random.Random(1),
        )
        # Another run's assessor still waits, so the overview shows both tables filled.
        other = workplace_world(admin, learners=size)
        decisions_make(other, other.placed, nyc=1)
        url = reverse("workplace:sample", args=[sample.pk])
        sample_page.append(_counted(staff, url))
        moderator_page.append(_counted(client_of(world.moderator), url))
        overview.append(_counted(staff, reverse("workplace:moderation")))
    assert overview[0] == overview[1], overview
    assert sample_page[0] == sample_page[1], sample_page
    assert moderator_page[0] == moderator_page[1], moderator_page
