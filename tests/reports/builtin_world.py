"""The `reported` fixture, a small world the built-in reports read: a programme with two
cohorts in 2027 and one, without a programme, in 2026; learners of known demographics in
them; a course run of the first cohort with three sessions, attendance and results."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest

from accounts.models import User
from cohorts.models import Cohort
from delivery.models import (
    Assessment,
    AttendanceRecord,
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseRun,
)
from enrolments.models import CohortEnrollment, EnrollmentState, ProgrammeOutcome
from tests.factories import (
    CohortFactory,
    CourseFactory,
    CourseRunFactory,
    ProgrammeFactory,
    SessionFactory,
)
from tests.reports.support import days_ago, enrolment_add, learner_enrol


@dataclass
class Reported:
    alpha: Cohort
    beta: Cohort
    gamma: Cohort
    thandi: CohortEnrollment
    sipho: CohortEnrollment
    anna: CohortEnrollment
    run: CourseRun
    admin: User


def _place(run: CourseRun, enrollment: CohortEnrollment, **fields) -> CourseEnrollment:
    return CourseEnrollment.objects.create(
        enrollment=enrollment,
        course=run.course,
        course_run=run,
        enrollment_date=run.start_date,
        **fields,
    )


@pytest.fixture
def reported(institution, admin) -> Reported:
    programme = ProgrammeFactory(name="Business Administration")
    alpha = CohortFactory(active=True, name="Alpha 2027", programme=programme)
    gamma = CohortFactory(active=True, name="Gamma 2027", programme=programme)
    beta = CohortFactory(
        active=True,
        name="Beta 2026",
        start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2026, 11, 30),
    )
    thandi = learner_enrol(
        alpha, "Thandi", "Zulu", race="african", gender="female", disability="none"
    )
    sipho = learner_enrol(
        alpha,
        "Sipho",
        "Mokoena",
        race="african",
        gender="male",
        disability="none",
        state=EnrollmentState.COMPLETE,
        programme_outcome=ProgrammeOutcome.COMPLETED,
        completion_date=datetime.date(2027, 11, 30),
        agreement_signed_at=days_ago(30),
    )
    anna = learner_enrol(
        alpha,
        "Anna",
        "Botha",
        race="white",
        gender="female",
        disability="none",
        state=EnrollmentState.WITHDRAWN,
    )
    enrolment_add(gamma, sipho.learner)
    for number in range(5):
        learner_enrol(
            beta, f"Lerato{number}", "Dlamini", race="african", gender="female", disability="none"
        )
    learner_enrol(beta, "Pieter", "Adams", race="coloured", gender="male", disability="sight")
    learner_enrol(beta, "Unknown", "Person")

    run = CourseRunFactory(
        cohort=alpha,
        course=CourseFactory(programme=programme, code="BA101", name="Business numeracy"),
    )
    sessions = [
        SessionFactory(course_run=run, session_date=run.start_date + datetime.timedelta(days=day))
        for day in range(3)
    ]
    thandi_place = _place(run, thandi)
    sipho_place = _place(run, sipho, status=CourseEnrollmentStatus.COMPLETED, score=Decimal("75"))
    _place(run, anna, status=CourseEnrollmentStatus.DROPPED)
    for place, marks in (
        (thandi_place, ["present", "absent", "late"]),
        (sipho_place, ["present", "present", "excused"]),
    ):
        for session, mark in zip(sessions, marks, strict=True):
            AttendanceRecord.objects.create(session=session, enrolment=place, status=mark)
    for place, kind, result in (
        (sipho_place, "Summative", "pass"),
        (thandi_place, "Summative", "fail"),
        (thandi_place, "Formative 1", "pass"),
    ):
        Assessment.objects.create(
            enrolment=place,
            assessment_type=kind,
            result=result,
            assessed_at=days_ago(1),
            assessor=admin,
        )
    return Reported(alpha, beta, gamma, thandi, sipho, anna, run, admin)
