"""What the attendance tests share: learners set up in bulk (as a large cohort would be; the
set-up is not what is tested), a session held today and the marks of a whole register."""

import datetime

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from accounts.models import Role, SystemRole, User, UserRole
from delivery.models import CourseEnrollment, CourseRun, Session
from delivery.services.attendance import Mark
from enrolments.models import CohortEnrollment
from learners.models import Learner
from tests.factories import SessionFactory


def learners_enrol(
    run: CourseRun,
    count: int,
    *,
    start: int = 0,
    names: list[str] | None = None,
    password: str | None = None,
) -> list[CourseEnrollment]:
    """`count` learners with accounts (the student role) enrolled in `run`'s cohort and in
    `run`: `names` (first name and surname), or surnames in alphabetical order
    ("Thandi Learner0000", ...); they sign in with `password` when given."""
    hashed = make_password(password)
    full_names = names or [f"Thandi Learner{index:04d}" for index in range(start, start + count)]
    users = User.objects.bulk_create(
        User(
            email=f"learner{index}@run{run.pk}.example",
            full_name=full_name,
            password=hashed,
        )
        for index, full_name in zip(range(start, start + count), full_names, strict=True)
    )
    student = Role.objects.get(key=SystemRole.STUDENT)
    UserRole.objects.bulk_create(UserRole(user=user, role=student) for user in users)
    learners = Learner.objects.bulk_create(
        Learner(
            user=user,
            first_name=user.full_name.split(maxsplit=1)[0],
            last_name=user.full_name.split(maxsplit=1)[-1],
            email=user.email,
        )
        for user in users
    )
    enrollments = CohortEnrollment.objects.bulk_create(
        CohortEnrollment(cohort=run.cohort, user=user, learner=learner)
        for user, learner in zip(users, learners, strict=True)
    )
    return CourseEnrollment.objects.bulk_create(
        CourseEnrollment(
            enrollment=enrollment,
            course=run.course,
            course_run=run,
            enrollment_date=run.start_date,
        )
        for enrollment in enrollments
    )


def session_today(run: CourseRun, hour: int) -> Session:
    """A session of `run` today, from `hour` for 50 minutes."""
    return SessionFactory(
        course_run=run,
        session_date=timezone.localdate(),
        start_time=datetime.time(hour, 0),
        end_time=datetime.time(hour, 50),
    )


def all_marked(enrolments: list[CourseEnrollment], status: str = "present") -> dict[int, Mark]:
    return {enrolment.pk: Mark(status=status) for enrolment in enrolments}
