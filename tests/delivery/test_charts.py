"""The cohort page's attendance over time: the weekly rate of its learners over its runs'
sessions, counted as the attendance pages count it, in one query."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delivery.models import CourseRun, Session, SessionStatus
from delivery.selectors.attendance import cohort_weekly_attendance_chart
from delivery.services.attendance import Mark, register_save
from tests.delivery.attendance.support import learners_enrol
from tests.factories import CourseRunFactory, SessionFactory

pytestmark = pytest.mark.django_db

# Mondays and a Wednesday in the past: the weeks are known, and registers open on the day.
WEEK_ONE = datetime.date(2025, 3, 3)
WEEK_TWO = datetime.date(2025, 3, 10)
WEEK_THREE = datetime.date(2025, 3, 17)
WEEK_FOUR = datetime.date(2025, 3, 24)


def _session(run: CourseRun, day: datetime.date, hour: int = 9) -> Session:
    return SessionFactory(
        course_run=run,
        session_date=day,
        start_time=datetime.time(hour, 0),
        end_time=datetime.time(hour, 50),
    )


def _marked(run: CourseRun, day: datetime.date, statuses: list[str], hour: int = 9) -> Session:
    session = _session(run, day, hour)
    learners = list(run.enrollments.order_by("pk"))
    register_save(
        session=session,
        actor=run.trainer.user,
        marks={
            learner.pk: Mark(status, "Clinic visit" if status == "excused" else "")
            for learner, status in zip(learners, statuses, strict=True)
        },
    )
    return session


@pytest.fixture
def run(institution) -> CourseRun:
    run = CourseRunFactory(
        start_date=WEEK_ONE, end_date=WEEK_FOUR + datetime.timedelta(days=4), title="Safety"
    )
    learners_enrol(run, 4)
    return run


def test_weekly_rate_counts_present_and_late_of_those_marked(run):
    # Week one: 3 of 4, then 2 of 3 (the excused absence counts neither way): 5 of 7.
    _marked(run, WEEK_ONE, ["present", "present", "late", "absent"])
    _marked(run, WEEK_ONE + datetime.timedelta(days=2), ["present", "present", "excused", "absent"])
    # Week two: everyone.
    _marked(run, WEEK_TWO, ["present"] * 4)
    # Week three: a session cancelled after its register was taken counts not at all.
    cancelled = _marked(run, WEEK_THREE, ["absent"] * 4)
    Session.objects.filter(pk=cancelled.pk).update(status=SessionStatus.CANCELLED)
    # Week four: a session nobody marked yet.
    _session(run, WEEK_FOUR)

    chart = cohort_weekly_attendance_chart(cohort=run.cohort)

    assert chart["type"] == "line"
    assert chart["unit"] == "%"
    assert chart["labels"] == ["Week of 3 Mar 2025", "Week of 10 Mar 2025"]
    assert chart["datasets"] == [{"label": "Attended", "data": [71.4, 100.0]}]


def test_weekly_rate_covers_every_run_of_the_cohort_and_no_other(run):
    second = CourseRunFactory(cohort=run.cohort, start_date=WEEK_ONE, end_date=WEEK_FOUR)
    second.enrollments.model.objects.bulk_create(
        second.enrollments.model(
            enrollment=enrolment.enrollment,
            course=second.course,
            course_run=second,
            enrollment_date=WEEK_ONE,
        )
        for enrolment in run.enrollments.all()
    )
    other = CourseRunFactory(start_date=WEEK_ONE, end_date=WEEK_FOUR)
    learners_enrol(other, 4)
    _marked(run, WEEK_ONE, ["present", "present", "present", "absent"])
    _marked(second, WEEK_ONE, ["absent"] * 4, hour=14)
    _marked(other, WEEK_ONE, ["present"] * 4, hour=16)

    chart = cohort_weekly_attendance_chart(cohort=run.cohort)

    assert chart["datasets"][0]["data"] == [37.5]


def test_weekly_rate_is_one_query_however_many_sessions(run):
    _marked(run, WEEK_ONE, ["present"] * 4)
    with CaptureQueriesContext(connection) as few:
        cohort_weekly_attendance_chart(cohort=run.cohort)
    for monday in (WEEK_TWO, WEEK_THREE, WEEK_FOUR):
        _marked(run, monday, ["present", "absent", "late", "present"])
        _marked(run, monday + datetime.timedelta(days=1), ["absent"] * 4)
    with CaptureQueriesContext(connection) as many:
        chart = cohort_weekly_attendance_chart(cohort=run.cohort)

    assert chart["datasets"][0]["data"] == [100.0, 37.5, 37.5, 37.5]
    assert len(few) == len(many)


def test_cohort_page_carries_the_attendance_chart_and_its_table(admin_client, run):
    _marked(run, WEEK_ONE, ["present", "absent", "present", "present"])

    page = admin_client.get(run.cohort.get_absolute_url()).content.decode()

    assert '<script id="attendance-chart-data" type="application/json">' in page
    assert re.search(r'<th scope="row"[^>]*>Week of 3 Mar 2025</th><td[^>]*>75.0%</td>', page)
    assert "Attendance per learner" in page


def test_cohort_page_without_marked_registers_says_so(admin_client, run):
    page = admin_client.get(run.cohort.get_absolute_url()).content.decode()

    assert 'id="attendance-chart"' in page
    assert '<script id="attendance-chart-data"' not in page
    assert "Nothing to show yet." in page
