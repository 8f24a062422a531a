"""Observation reports: the current mentor writes one (dated within the placement and not in
the future, about an outcome of the programme, with a report) and the learner is told; who may
read one."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole
from notifications.models import OutboundEmail
from placements.models import Placement
from tests.factories import UserFactory
from tests.workplace.support import member_of, workplace_world
from workplace.models import ObservationReport
from workplace.services.observations import observation_add

pytestmark = pytest.mark.django_db


def running(world):
    """The world's placements running now (the world's own dates are in 2027)."""
    today = timezone.localdate()
    Placement.objects.filter(pk__in=[p.placement.pk for p in world.placed]).update(
        starts_on=today - datetime.timedelta(days=30), ends_on=today + datetime.timedelta(days=30)
    )
    for placed in world.placed:
        placed.placement.refresh_from_db()
    return today


def test_the_mentor_writes_a_report_and_the_learner_is_told(admin):
    world = workplace_world(admin)
    today = running(world)
    observation = observation_add(
        actor=world.mentor,
        placement=world.learner.placement,
        outcome=world.outcomes[0],
        observed_on=today,
        report="  Kept a noisy class on task.  ",
    )
    assert observation.report == "Kept a noisy class on task."
    email = OutboundEmail.objects.get(template="workplace_observation_added")
    assert email.recipient == world.learner.user.email


def test_dates_outcome_and_report_are_checked(admin):
    world = workplace_world(admin)
    today = running(world)
    placement = world.learner.placement
    cases = [
        ({"observed_on": today + datetime.timedelta(days=1)}, "observed_on"),
        ({"observed_on": today - datetime.timedelta(days=31)}, "observed_on"),
        ({"report": "  "}, "report"),
    ]
    for change, field in cases:
        values = {"outcome": world.outcomes[0], "observed_on": today, "report": "Good."} | change
        with pytest.raises(ValidationError) as refused:
            observation_add(actor=world.mentor, placement=placement, **values)
        assert field in refused.value.error_dict


def test_only_the_current_mentor_writes(admin):
    world = workplace_world(admin)
    today = running(world)
    for someone in (member_of(world.organisation), world.learner.user, world.assessor):
        with pytest.raises(PermissionDenied):
            observation_add(
                actor=someone,
                placement=world.learner.placement,
                outcome=world.outcomes[0],
                observed_on=today,
                report="Good.",
            )


def test_the_pages_write_and_show_a_report_to_who_may_read_it(admin, client_of):
    world = workplace_world(admin, learners=2)
    today = running(world)
    mentor = client_of(world.mentor)
    url = reverse("workplace:observation_add", args=[world.learner.placement.pk])
    assert mentor.get(url).status_code == 200
    response = mentor.post(
        url,
        {"outcome": world.outcomes[0].pk, "observed_on": today.isoformat(), "report": "Well done."},
    )
    observation = ObservationReport.objects.get()
    assert response["Location"] == reverse("workplace:observation", args=[observation.pk])
    read_url = reverse("workplace:observation", args=[observation.pk])
    for reader in (world.mentor, world.learner.user, admin):
        assert client_of(reader).get(read_url).status_code == 200
    for outsider in (world.placed[1].user, world.assessor, UserFactory(roles=[SystemRole.STUDENT])):
        assert client_of(outsider).get(read_url).status_code == 404
    assert client_of(world.learner.user).get(url).status_code == 404
