"""Checks that find no row to lock (the first academic session or grading scale, dates free of
other years, a person's first calendar feed, a venue free at an hour) take turns through the
schema's advisory lock: a second writer waits for the first, then its check sees the first
one's row and refuses with a message instead of failing on the database's constraint or
booking twice. Shown by holding the lock from another connection: the service waits for it
(here until its lock timeout)."""

import contextlib
import datetime
from collections.abc import Callable, Iterator
from decimal import Decimal

import psycopg
import pytest
from django.db import OperationalError, connection

from academics.grading import DEFAULT_LOCK, Band, grading_scale_create
from academics.models import AcademicYear
from academics.services import (
    SESSIONS_LOCK,
    YEARS_LOCK,
    academic_session_create,
    academic_year_create,
)
from delivery.services.feeds import calendar_feed_issue, feed_lock
from delivery.services.sessions import SCHEDULING_LOCK, Slot, session_add, session_move
from tests.factories import CourseRunFactory, SessionFactory, TrainerFactory

pytestmark = pytest.mark.django_db

D = datetime.date


@contextlib.contextmanager
def held_elsewhere(name: str) -> Iterator[None]:
    """Another connection holds this schema's advisory lock `name`; the test's connection
    gives up waiting for a lock after a moment."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        (schema,) = cursor.fetchone()
        cursor.execute("SET LOCAL lock_timeout = '300ms'")
    database = connection.settings_dict
    with psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"],
        dbname=database["NAME"],
        autocommit=True,
    ) as other:
        key = f"{schema}:{name}"
        other.execute("SELECT pg_advisory_lock(hashtext(%s))", [key])
        try:
            yield
        finally:
            other.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])


def _year(admin) -> AcademicYear:
    return academic_year_create(
        actor=admin, fields={"name": "2027", "starts_on": D(2027, 1, 1), "ends_on": D(2027, 12, 31)}
    )


def _first_session(admin) -> Callable[[], object]:
    year = _year(admin)
    return lambda: academic_session_create(
        actor=admin,
        fields={
            "academic_year": year,
            "name": "Term 1",
            "code": "T1",
            "start_date": D(2027, 1, 10),
            "end_date": D(2027, 3, 31),
        },
    )


def _next_year(admin) -> Callable[[], object]:
    return lambda: academic_year_create(
        actor=admin, fields={"name": "2028", "starts_on": D(2028, 1, 1), "ends_on": D(2028, 12, 31)}
    )


def _first_scale(admin) -> Callable[[], object]:
    bands = [Band(Decimal("50"), "P", Decimal("1")), Band(Decimal("0"), "F", Decimal("0"))]
    return lambda: grading_scale_create(
        actor=admin, name="Pass or fail", pass_mark=Decimal("50"), bands=bands
    )


@pytest.mark.parametrize(
    ("lock", "writer"),
    [(SESSIONS_LOCK, _first_session), (YEARS_LOCK, _next_year), (DEFAULT_LOCK, _first_scale)],
)
def test_catalogue_checks_wait_for_each_other(admin, lock, writer):
    write = writer(admin)
    with held_elsewhere(lock), pytest.raises(OperationalError, match="lock timeout"):
        write()


def test_issuing_a_feed_waits_for_another_issue_of_the_same_feed(institution):
    user = TrainerFactory().user
    with (
        held_elsewhere(feed_lock(user, "trainer")),
        pytest.raises(OperationalError, match="lock timeout"),
    ):
        calendar_feed_issue(actor=user, owner="trainer")


def test_schedulers_take_turns_before_looking_for_a_clash(admin):
    run = CourseRunFactory(venue="Room 4")
    monday = datetime.date(2027, 3, 1)
    nine, noon = datetime.time(9), datetime.time(12)
    with held_elsewhere(SCHEDULING_LOCK), pytest.raises(OperationalError, match="lock timeout"):
        session_add(actor=admin, run=run, slot=Slot(monday, nine, noon))
    session = SessionFactory(course_run=run, session_date=monday, start_time=nine, end_time=noon)
    later = Slot(monday + datetime.timedelta(days=1), nine, noon)
    with held_elsewhere(SCHEDULING_LOCK), pytest.raises(OperationalError, match="lock timeout"):
        session_move(actor=admin, session=session, slot=later)
