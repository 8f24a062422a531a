"""Workplace learning's test world: a programme with a course of three outcomes, a running
cohort of it with a course run, a learner (with an account) enrolled in both, an active
placement at a host organisation whose member mentors it, and a registered assessor and
moderator whose registrations cover the programme. Rows are written directly (test setup, not
the services), so that worlds with hundreds of learners are quick to make."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from academics.models import Outcome, Programme
from accounts.models import Role, SystemRole, User, UserRole
from delivery.models import CourseEnrollment, CourseRun
from enrolments.models import CohortEnrollment, EnrollmentState
from learners.models import Learner
from placements.models import Organisation, OrganisationMembership, Placement, PlacementStatus
from tests.factories import PASSWORD, CourseFactory, CourseRunFactory, UserFactory
from tests.placements.factories import OrganisationFactory, academic_year, subject
from workplace.models import (
    LogbookEntry,
    LogbookWeek,
    LogbookWeekStatus,
    Mentorship,
    PractitionerRegistration,
    PractitionerRole,
)

STARTS_ON = datetime.date(2027, 3, 1)  # a Monday
ENDS_ON = datetime.date(2027, 6, 25)
EXPIRES_ON = datetime.date(2099, 12, 31)


@dataclass
class Placed:
    """One learner of the world: their account, learner row, course enrolment and placement."""

    user: User
    learner: Learner
    course_enrollment: CourseEnrollment
    placement: Placement


@dataclass
class Workplace:
    admin: User
    programme: Programme
    run: CourseRun
    outcomes: list[Outcome]
    organisation: Organisation
    mentor: User
    assessor: User
    moderator: User
    placed: list[Placed] = field(default_factory=list)

    @property
    def learner(self) -> Placed:
        return self.placed[0]

    def learners_add(
        self, count: int, *, mentor: User | None = None, mentored: bool = True
    ) -> list[Placed]:
        """`count` more learners in the run, each with an active placement mentored by
        `mentor` (the world's mentor by default), or by nobody unless `mentored`."""
        added = placed_add(self, count, mentor=(mentor or self.mentor) if mentored else None)
        self.placed += added
        return added


_tag = iter(range(1, 1_000_000))


def member_of(organisation: Organisation, **fields) -> User:
    """An organisation member whose current organisation is `organisation`."""
    user: User = UserFactory(roles=[SystemRole.ORGANISATION_MEMBER], **fields)
    OrganisationMembership.objects.create(user=user, organisation=organisation, is_current=True)
    return user


def registered(
    user: User, role: str, *programmes: Programme, expires_on: datetime.date = EXPIRES_ON
) -> PractitionerRegistration:
    registration: PractitionerRegistration = PractitionerRegistration.objects.create(
        user=user,
        role=role,
        registration_number=f"{role[:3].upper()}-{next(_tag):06}",
        registered_with="ETDP SETA",
        expires_on=expires_on,
    )
    registration.scope.set(programmes)
    return registration


def placed_add(world: Workplace, count: int, *, mentor: User | None) -> list[Placed]:
    """`count` learners (student accounts, password PASSWORD) in the world's cohort and run,
    each with an active placement at the world's organisation."""
    run = world.run
    student = Role.objects.get(key=SystemRole.STUDENT)
    tag = next(_tag)
    users = User.objects.bulk_create(
        User(email=f"learner{tag}-{n}@example.org", full_name=f"Lerato Learner {tag}-{n:03}")
        for n in range(count)
    )
    for user in users:
        user.set_password(PASSWORD)
    User.objects.bulk_update(users, ["password"])
    UserRole.objects.bulk_create(UserRole(user=user, role=student) for user in users)
    learners = Learner.objects.bulk_create(
        Learner(user=user, first_name="Lerato", last_name=f"Learner {tag}-{n:03}", email=user.email)
        for n, user in enumerate(users)
    )
    enrollments = CohortEnrollment.objects.bulk_create(
        CohortEnrollment(
            cohort=run.cohort, user=user, learner=learner, state=EnrollmentState.IN_PROGRESS
        )
        for user, learner in zip(users, learners, strict=True)
    )
    course_enrollments = CourseEnrollment.objects.bulk_create(
        CourseEnrollment(
            enrollment=enrollment,
            course=run.course,
            academic_session=run.academic_session,
            course_run=run,
            enrollment_date=run.start_date,
        )
        for enrollment in enrollments
    )
    placements = Placement.objects.bulk_create(
        Placement(
            learner=learner,
            organisation=world.organisation,
            cohort=run.cohort,
            academic_year=academic_year("2027"),
            subject=subject("MATH"),
            starts_on=STARTS_ON,
            ends_on=ENDS_ON,
            status=PlacementStatus.ACTIVE,
        )
        for learner in learners
    )
    if mentor is not None:
        Mentorship.objects.bulk_create(
            Mentorship(placement=placement, mentor=mentor, assigned_by=world.admin)
            for placement in placements
        )
    return [
        Placed(user, learner, course_enrollment, placement)
        for user, learner, course_enrollment, placement in zip(
            users, learners, course_enrollments, placements, strict=True
        )
    ]


def workplace_world(admin: User, *, learners: int = 1) -> Workplace:
    """The world described above, with `learners` placed learners."""
    course = CourseFactory(name="Workplace practice", code="WP101")
    outcomes = [
        Outcome.objects.create(
            course=course, code=code, title=title, credits=credits, position=position
        )
        for position, (code, title, credits) in enumerate(
            [
                ("119472", "Accommodate audience and context needs in oral communication", 5),
                ("119457", "Interpret and use information from texts", 5),
                ("7480", "Demonstrate understanding of rational and irrational numbers", 3),
            ]
        )
    ]
    run = CourseRunFactory(course=course, start_date=STARTS_ON, end_date=ENDS_ON)
    organisation = OrganisationFactory(name="Orlando West High School")
    assessor = UserFactory(roles=[SystemRole.ASSESSOR], full_name="Andile Assessor")
    moderator = UserFactory(roles=[SystemRole.MODERATOR], full_name="Mpho Moderator")
    registered(assessor, PractitionerRole.ASSESSOR, course.programme)
    registered(moderator, PractitionerRole.MODERATOR, course.programme)
    world = Workplace(
        admin=admin,
        programme=course.programme,
        run=run,
        outcomes=outcomes,
        organisation=organisation,
        mentor=member_of(organisation, full_name="Nomsa Mentor"),
        assessor=assessor,
        moderator=moderator,
    )
    world.learners_add(learners)
    return world


def week_logged(
    placed: Placed,
    week_starts_on: datetime.date,
    *,
    status: str = LogbookWeekStatus.OPEN,
    days: int = 5,
    hours: Decimal = Decimal("7.5"),
    outcomes: list[Outcome] | None = None,
) -> LogbookWeek:
    """A logbook week with `days` entries of `hours` each (Monday on), practising `outcomes`."""
    week: LogbookWeek = LogbookWeek.objects.create(
        placement=placed.placement, week_starts_on=week_starts_on, status=status
    )
    for day in range(days):
        entry = LogbookEntry.objects.create(
            week=week,
            entry_date=week_starts_on + datetime.timedelta(days=day),
            hours=hours,
            tasks=f"Taught a Grade 9 mathematics lesson, day {day + 1}.",
        )
        entry.outcomes.set(outcomes or [])
    return week
