"""Sessions: one by one or weekly, skipping public holidays and closures; a trainer or venue
booked twice is refused with the clash named; cancelling or moving tells learners and trainer."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from academics.models import Closure
from accounts.models import SystemRole
from accounts.services import role_create
from cohorts.services import cohort_reviewer_set
from delivery.models import CourseEnrollmentStatus, Session, SessionStatus
from delivery.services.sessions import (
    Slot,
    session_add,
    session_cancel,
    session_move,
    sessions_schedule_weekly,
)
from enrolments.services import enrollment_withdraw
from notifications.models import OutboundEmail
from tests.delivery.runs_support import MONDAY, enrol, events
from tests.factories import (
    CourseEnrollmentFactory,
    CourseRunFactory,
    SessionFactory,
    TrainerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NINE, TWELVE = datetime.time(9, 0), datetime.time(12, 0)


@pytest.fixture
def run(institution):
    trainer = TrainerFactory(name="Thandi Trainer")
    return CourseRunFactory(
        trainer=trainer,
        venue="Room 4",
        course__code="BA101",
        course__name="Business Basics",
        cohort__name="Plumbing 2027",
    )


def test_a_session_takes_the_runs_venue_and_trainer(admin, run):
    session = session_add(actor=admin, run=run, slot=Slot(MONDAY, NINE, TWELVE))
    assert (session.venue, session.trainer, session.status) == ("Room 4", run.trainer, "scheduled")
    [event] = events("session.created")
    assert event.entity_id == str(session.pk)
    assert event.new_values["session_date"] == "2027-03-01"


def test_a_session_on_a_public_holiday_is_refused(admin, run):
    with pytest.raises(ValidationError, match="22 Mar 2027 is Human Rights Day"):
        session_add(actor=admin, run=run, slot=Slot(datetime.date(2027, 3, 22), NINE, TWELVE))
    assert not Session.objects.exists()


def test_a_session_outside_the_runs_dates_is_refused(admin, run):
    with pytest.raises(ValidationError, match="choose a date in between"):
        session_add(actor=admin, run=run, slot=Slot(datetime.date(2028, 1, 10), NINE, TWELVE))


def test_a_trainer_booked_twice_is_refused_naming_the_clash(admin, run):
    other = CourseRunFactory(
        trainer=run.trainer, course__code="BA900", course__name="Ethics", cohort__name="Nursing"
    )
    SessionFactory(course_run=other, session_date=MONDAY, start_time=datetime.time(11, 0),
                   end_time=datetime.time(13, 0), venue="Hall")  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        session_add(actor=admin, run=run, slot=Slot(MONDAY, NINE, TWELVE))
    assert refused.value.messages == [
        "Thandi Trainer already teaches BA900 Ethics (Nursing) on Mon 1 Mar 2027, 11:00–13:00."
    ]
    assert not Session.objects.filter(course_run=run).exists()
    assert not events("session.created")


def test_a_venue_booked_twice_is_refused_naming_the_clash(admin, run):
    other = CourseRunFactory(course__code="BA900", course__name="Ethics", cohort__name="Nursing")
    SessionFactory(course_run=other, session_date=MONDAY, venue="room 4")
    with pytest.raises(ValidationError) as refused:
        session_add(
            actor=admin, run=run, slot=Slot(MONDAY, datetime.time(8, 0), datetime.time(10, 0))
        )
    assert refused.value.messages == [
        "room 4 is booked for BA900 Ethics (Nursing) on Mon 1 Mar 2027, 09:00–12:00."
    ]


def test_back_to_back_sessions_do_not_clash(admin, run):
    SessionFactory(course_run=run, session_date=MONDAY, start_time=NINE, end_time=TWELVE)
    session_add(actor=admin, run=run, slot=Slot(MONDAY, TWELVE, datetime.time(14, 0)))
    assert Session.objects.filter(course_run=run).count() == 2


def test_a_cancelled_session_frees_its_hour(admin, run):
    SessionFactory(course_run=run, session_date=MONDAY, status=SessionStatus.CANCELLED)
    session_add(actor=admin, run=run, slot=Slot(MONDAY, NINE, TWELVE))


def test_a_weekly_schedule_skips_holidays_and_closures(admin, run):
    Closure.objects.create(
        name="Autumn recess", starts_on=datetime.date(2027, 4, 5), ends_on=datetime.date(2027, 4, 9)
    )
    schedule = sessions_schedule_weekly(
        actor=admin,
        run=run,
        weekdays=[0, 2],
        first=datetime.date(2027, 3, 15),
        last=datetime.date(2027, 4, 11),
        start_time=NINE,
        end_time=TWELVE,
    )
    assert [session.session_date.isoformat() for session in schedule.sessions] == [
        "2027-03-15", "2027-03-17", "2027-03-24", "2027-03-31",
    ]  # fmt: skip
    assert [(day.isoformat(), why) for day, why in schedule.skipped] == [
        ("2027-03-22", "Human Rights Day (observed)"),
        ("2027-03-29", "Family Day"),
        ("2027-04-05", "Autumn recess"),
        ("2027-04-07", "Autumn recess"),
    ]
    assert Session.objects.filter(course_run=run, trainer=run.trainer, venue="Room 4").count() == 4
    [event] = events("sessions.scheduled")
    assert event.entity_id == str(run.pk)
    assert event.new_values["sessions"] == 4
    assert event.new_values["weekdays"] == ["Monday", "Wednesday"]


def test_a_weekly_schedule_with_a_clash_schedules_nothing(admin, run):
    SessionFactory(
        course_run=CourseRunFactory(
            trainer=run.trainer, course__code="BA900", course__name="Ethics", cohort__name="Nursing"
        ),
        session_date=datetime.date(2027, 3, 10),
        venue="Hall",
    )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        sessions_schedule_weekly(
            actor=admin,
            run=run,
            weekdays=[2],
            first=MONDAY,
            last=datetime.date(2027, 3, 20),
            start_time=datetime.time(10, 0),
            end_time=TWELVE,
        )
    assert refused.value.messages == [
        "Thandi Trainer already teaches BA900 Ethics (Nursing) on Wed 10 Mar 2027, 09:00–12:00."
    ]
    assert not Session.objects.filter(course_run=run).exists()
    assert not events("sessions.scheduled")


def test_a_weekly_schedule_needs_a_day_and_dates_in_order(admin, run):
    with pytest.raises(ValidationError, match="at least one day"):
        sessions_schedule_weekly(
            actor=admin, run=run, weekdays=[], first=MONDAY, last=MONDAY,
            start_time=NINE, end_time=TWELVE,
        )  # fmt: skip
    with pytest.raises(ValidationError, match="cannot end before it starts"):
        sessions_schedule_weekly(
            actor=admin, run=run, weekdays=[0], first=MONDAY, last=MONDAY - datetime.timedelta(1),
            start_time=NINE, end_time=TWELVE,
        )  # fmt: skip


def test_only_who_manages_delivery_schedules(run):
    with pytest.raises(PermissionDenied):
        session_add(actor=run.trainer.user, run=run, slot=Slot(MONDAY, NINE, TWELVE))
    assert events("permission.denied")[-1].entity_id == "delivery.session_add"


@pytest.fixture
def learners(admin, run):
    """Two learners in the run and one who withdrew from the cohort."""
    made = []
    for name in ("Sipho Student", "Lerato Dube", "Gone Away"):
        enrollment = enrol(admin, cohort=run.cohort, full_name=name)
        CourseEnrollmentFactory(enrollment=enrollment, course_run=run)
        made.append(enrollment)
    enrollment_withdraw(enrollment=made[2], actor=admin, reason="Moved")
    return made


def test_cancelling_a_session_tells_its_learners_and_trainer(admin, run, learners):
    session = SessionFactory(course_run=run, session_date=MONDAY)
    OutboundEmail.objects.all().delete()
    session_cancel(actor=admin, session=session, reason="The trainer is ill")
    session.refresh_from_db()
    assert (session.status, session.cancellation_reason) == ("cancelled", "The trainer is ill")
    told = OutboundEmail.objects.filter(template="session_changed")
    assert sorted(told.values_list("recipient", flat=True)) == sorted(
        [learners[0].user.email, learners[1].user.email, run.trainer.email]
    )
    assert {email.context["kind"] for email in told} == {"cancelled"}
    assert told.first().context["reason"] == "The trainer is ill"
    [event] = events("session.cancelled")
    assert event.new_values == {"status": "cancelled", "cancellation_reason": "(changed)"}


def test_a_cancellation_needs_a_reason(admin, run):
    session = SessionFactory(course_run=run, session_date=MONDAY)
    with pytest.raises(ValidationError, match="Say why"):
        session_cancel(actor=admin, session=session, reason="  ")
    session.refresh_from_db()
    assert session.status == "scheduled"


def test_moving_a_session_tells_learners_and_both_trainers(admin, run, learners):
    session = SessionFactory(course_run=run, session_date=MONDAY)
    learners[1].course_enrollments.update(status=CourseEnrollmentStatus.DROPPED)
    new_trainer = TrainerFactory(name="Bongani Trainer")
    OutboundEmail.objects.all().delete()
    session_move(
        actor=admin,
        session=session,
        slot=Slot(datetime.date(2027, 3, 3), datetime.time(13, 0), datetime.time(15, 0), "Hall",
                  new_trainer),
    )  # fmt: skip
    session.refresh_from_db()
    assert (session.session_date, session.venue, session.trainer) == (
        datetime.date(2027, 3, 3), "Hall", new_trainer,
    )  # fmt: skip
    told = OutboundEmail.objects.filter(template="session_changed")
    assert sorted(told.values_list("recipient", flat=True)) == sorted(
        [learners[0].user.email, run.trainer.email, new_trainer.email]
    )
    context = told.first().context
    assert (context["was"], context["now"]) == (
        "Mon 1 Mar 2027, 09:00–12:00", "Wed 3 Mar 2027, 13:00–15:00",
    )  # fmt: skip
    [event] = events("session.moved")
    assert event.old_values["session_date"] == "2027-03-01"
    assert event.new_values["venue"] == "Hall"


def test_a_session_moved_onto_a_clash_stays_where_it_was(admin, run):
    session = SessionFactory(course_run=run, session_date=MONDAY)
    SessionFactory(
        course_run=CourseRunFactory(trainer=run.trainer), session_date=datetime.date(2027, 3, 2)
    )
    with pytest.raises(ValidationError, match="already teaches"):
        session_move(
            actor=admin, session=session,
            slot=Slot(datetime.date(2027, 3, 2), NINE, TWELVE, "Room 4", run.trainer),
        )  # fmt: skip
    session.refresh_from_db()
    assert session.session_date == MONDAY
    assert not OutboundEmail.objects.filter(template="session_changed").exists()


def test_a_signed_off_session_is_neither_moved_nor_cancelled(admin, run):
    session = SessionFactory(
        course_run=run,
        session_date=MONDAY,
        register_signed_off_at=datetime.datetime.now(datetime.UTC),
    )
    with pytest.raises(ValidationError, match="signed off"):
        session_cancel(actor=admin, session=session, reason="Oops")
    with pytest.raises(ValidationError, match="signed off"):
        session_move(actor=admin, session=session, slot=Slot(MONDAY, TWELVE, datetime.time(14, 0)))


@pytest.fixture
def limited(admin, super_admin, run):
    """Someone who manages delivery in `run`'s cohort only."""
    coordinator = role_create(
        actor=super_admin,
        name="Delivery coordinator",
        description="Sets up delivery in the cohorts they are given.",
        permission_codes=["delivery.manage_delivery"],
    )
    person = UserFactory(roles=[SystemRole.VERIFIER, coordinator])
    cohort_reviewer_set(cohort=run.cohort, actor=admin, reviewer=person, allowed=True)
    return person


def test_a_clash_in_a_cohort_the_person_does_not_reach_is_not_named(admin, run, limited):
    other = CourseRunFactory(
        trainer=run.trainer, course__code="BA900", course__name="Ethics", cohort__name="Nursing"
    )
    SessionFactory(course_run=other, session_date=MONDAY, start_time=datetime.time(11, 0),
                   end_time=datetime.time(13, 0), venue="Room 4")  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        session_add(actor=limited, run=run, slot=Slot(MONDAY, NINE, TWELVE))
    assert refused.value.messages == [
        "Thandi Trainer is booked elsewhere on Mon 1 Mar 2027, 11:00–13:00.",
        "Room 4 is booked elsewhere on Mon 1 Mar 2027, 11:00–13:00.",
    ]
    assert "Nursing" not in " ".join(refused.value.messages)
    with pytest.raises(ValidationError) as refused:
        session_add(actor=admin, run=run, slot=Slot(MONDAY, NINE, TWELVE))
    assert refused.value.messages[0] == (
        "Thandi Trainer already teaches BA900 Ethics (Nursing) on Mon 1 Mar 2027, 11:00–13:00."
    )
