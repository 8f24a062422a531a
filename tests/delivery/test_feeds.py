"""Calendar feeds: an unguessable address per trainer and per learner, that does not expire,
carries the person's sessions as iCalendar, and stops working once revoked or regenerated."""

import datetime

import icalendar
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from delivery.models import CalendarFeed, SessionStatus, Trainer
from delivery.services.feeds import calendar_feed_issue, calendar_feed_revoke
from delivery.services.trainers import TrainerDetails, trainer_update
from tenants.models import Institution
from tests.delivery.runs_support import MONDAY, enrol, events
from tests.factories import CourseEnrollmentFactory, CourseRunFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(institution):
    return CourseRunFactory(course__code="BA101", course__name="Business Basics", venue="Room 4")


def _feed(client_for, institution, token: str):
    return client_for(institution).get(reverse("delivery:feed", args=[token]))


def _events(response) -> list[icalendar.Event]:
    return list(icalendar.Calendar.from_ical(response.content).walk("VEVENT"))


def test_a_trainers_feed_carries_the_sessions_they_teach(run, institution, client_for):
    session = SessionFactory(course_run=run, session_date=MONDAY, venue="Room 4")
    SessionFactory(session_date=MONDAY, start_time=datetime.time(14), end_time=datetime.time(15))
    token = calendar_feed_issue(actor=run.trainer.user, owner="trainer")
    assert len(token) >= 43  # 256 bits
    assert not CalendarFeed.objects.filter(token_hash=token).exists()  # only its hash is kept

    response = _feed(client_for, institution, token)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    [event] = _events(response)
    assert str(event["summary"]) == "BA101 Business Basics"
    assert str(event["location"]) == "Room 4"
    assert event["uid"].startswith(f"session-{session.pk}@")
    start = event.decoded("dtstart")
    assert (start.date(), start.hour, str(start.tzinfo)) == (MONDAY, 9, "Africa/Johannesburg")
    [issued] = events("calendar_feed.issued")
    assert issued.new_values == {"owner": "trainer", "replaces": None}


def test_a_learners_feed_carries_their_runs_sessions_cancelled_ones_marked(
    run, admin, institution, client_for
):
    learner = enrol(admin, cohort=run.cohort)
    CourseEnrollmentFactory(enrollment=learner, course_run=run)
    SessionFactory(course_run=run, session_date=MONDAY)
    SessionFactory(
        course_run=run,
        session_date=MONDAY + datetime.timedelta(days=1),
        status=SessionStatus.CANCELLED,
        cancellation_reason="Strike",
    )
    SessionFactory(session_date=MONDAY)  # another run's
    token = calendar_feed_issue(actor=learner.user, owner="learner")
    statuses = sorted(
        str(event["status"]) for event in _events(_feed(client_for, institution, token))
    )
    assert statuses == ["CANCELLED", "CONFIRMED"]


def test_regenerating_ends_the_old_address_and_revoking_ends_the_new(run, institution, client_for):
    user = run.trainer.user
    old = calendar_feed_issue(actor=user, owner="trainer")
    new = calendar_feed_issue(actor=user, owner="trainer")
    assert _feed(client_for, institution, old).status_code == 404
    assert _feed(client_for, institution, new).status_code == 200
    assert events("calendar_feed.issued")[-1].new_values["replaces"] is not None

    calendar_feed_revoke(actor=user, owner="trainer")
    assert _feed(client_for, institution, new).status_code == 404
    assert events("calendar_feed.revoked")[-1].new_values == {"owner": "trainer"}
    with pytest.raises(ValidationError, match="no calendar feed"):
        calendar_feed_revoke(actor=user, owner="trainer")


def test_a_deactivated_persons_feed_stops(run, institution, client_for):
    token = calendar_feed_issue(actor=run.trainer.user, owner="trainer")
    run.trainer.user.is_active = False
    run.trainer.user.save(update_fields=["is_active"])
    assert _feed(client_for, institution, token).status_code == 404


def test_a_feed_is_only_for_a_trainer_or_a_learner(institution):
    stranger = UserFactory()
    for owner in ("trainer", "learner"):
        with pytest.raises(PermissionDenied):
            calendar_feed_issue(actor=stranger, owner=owner)
    assert not CalendarFeed.objects.exists()


def test_a_feed_token_does_not_open_another_institutions_feed(run, institution, client_for):
    token = calendar_feed_issue(actor=run.trainer.user, owner="trainer")
    other_institution = Institution.objects.get(code="beta")
    assert client_for(other_institution).get(f"/delivery/feeds/{token}.ics").status_code == 404


def _deactivate(admin, trainer) -> None:
    trainer_update(
        actor=admin,
        trainer=trainer,
        details=TrainerDetails(name=trainer.name, active_status=False),
    )


def test_a_trainer_made_inactive_loses_their_feed(run, admin, institution, client_for):
    SessionFactory(course_run=run, session_date=MONDAY)
    trainer = run.trainer
    token = calendar_feed_issue(actor=trainer.user, owner="trainer")

    _deactivate(admin, trainer)

    assert _feed(client_for, institution, token).status_code == 404
    [revoked] = events("calendar_feed.revoked")
    assert (revoked.actor, revoked.new_values) == (admin, {"owner": "trainer"})
    with pytest.raises(PermissionDenied):
        calendar_feed_issue(actor=trainer.user, owner="trainer")


def test_a_trainers_feed_carries_nothing_once_they_are_inactive_or_may_no_longer_teach(
    run, institution, client_for
):
    SessionFactory(course_run=run, session_date=MONDAY)
    trainer = run.trainer
    token = calendar_feed_issue(actor=trainer.user, owner="trainer")
    assert len(_events(_feed(client_for, institution, token))) == 1

    Trainer.objects.filter(pk=trainer.pk).update(active_status=False)  # not through the service
    assert _events(_feed(client_for, institution, token)) == []

    Trainer.objects.filter(pk=trainer.pk).update(active_status=True)
    trainer.user.roles.clear()
    assert _events(_feed(client_for, institution, token)) == []
