"""What the runs, sessions and feeds tests share: a cohort of a programme with learners
enrolled through the services, and the audit events of an action."""

import datetime

from academics.models import AcademicSession, AcademicYear, Course, CoursePrerequisite
from accounts.models import User
from audit.models import AuditEvent
from cohorts.models import Cohort
from enrolments.models import CohortEnrollment
from enrolments.services import enrollment_invite
from tests.factories import PASSWORD, CohortFactory, CourseFactory, ProgrammeFactory

# A Monday, before the cohort's first public holiday (Human Rights Day, Sunday 21 March 2027,
# observed on Monday 22 March).
MONDAY = datetime.date(2027, 3, 1)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def programme_with_courses() -> tuple[Course, Course, Course]:
    """A programme with a first core course, a later core course that requires it, and an
    elective."""
    programme = ProgrammeFactory(name="Business Administration", code="BA-NQF4")
    first = CourseFactory(programme=programme, code="BA101", name="Business Basics")
    later = CourseFactory(programme=programme, code="BA201", name="Business Finance")
    elective = CourseFactory(programme=programme, code="BA150", name="Marketing", is_core=False)
    CoursePrerequisite.objects.create(course=later, prerequisite_course=first)
    return first, later, elective


def cohort_of(programme_course: Course, **fields) -> Cohort:
    return CohortFactory(
        active=True,
        programme=programme_course.programme,
        start_date=datetime.date(2027, 2, 1),
        end_date=datetime.date(2027, 11, 30),
        **fields,
    )


def current_session() -> AcademicSession:
    year = AcademicYear.objects.create(
        name="2027", starts_on=datetime.date(2027, 1, 1), ends_on=datetime.date(2027, 12, 31)
    )
    return AcademicSession.objects.create(
        academic_year=year,
        name="Semester 1",
        code="2027-S1",
        start_date=datetime.date(2027, 1, 15),
        end_date=datetime.date(2027, 6, 30),
        is_current=True,
    )


_count = iter(range(1, 100_000))


def enrol(
    admin: User, cohort: Cohort | None = None, full_name: str = "Sipho Student", email: str = ""
) -> CohortEnrollment:
    """Enrol a student in `cohort` (a fresh active one by default) as an admin does; they have
    set their password."""
    enrollment = enrollment_invite(
        cohort=cohort or CohortFactory(active=True),
        actor=admin,
        email=email or f"learner{next(_count)}@example.org",
        full_name=full_name,
    )
    enrollment.user.set_password(PASSWORD)
    enrollment.user.save(update_fields=["password"])
    return enrollment
