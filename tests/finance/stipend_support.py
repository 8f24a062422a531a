"""What the stipend tests share: a rate, a session of the world's course run with a learner's
attendance at it, and a learner's bank details asked for by one finance user and confirmed by
the other (through partners.services.bank)."""

import datetime
from decimal import Decimal

from delivery.models import AttendanceRecord, AttendanceStatus, CourseEnrollment, Session
from enrolments.models import CohortEnrollment, EnrollmentState
from finance.models import FinanceSettings, StipendRate
from partners.bank import BankDetails
from partners.models import BankAccount
from partners.services.bank import bank_change_confirm, bank_change_request
from tests.factories import CohortFactory, CourseFactory, CourseRunFactory
from tests.finance.support import Finance
from tests.workplace.support import Placed

MARCH = datetime.date(2027, 3, 1)
RATE = Decimal("2500.00")
PER_ABSENCE = Decimal("150.00")


def deduction_set(amount: Decimal = PER_ABSENCE) -> None:
    FinanceSettings.objects.update_or_create(
        pk=1, defaults={"stipend_deduction_per_absence": amount}
    )


def programme_rate(world: Finance, amount: Decimal = RATE, **fields) -> StipendRate:
    rate: StipendRate = StipendRate.objects.create(
        programme=world.workplace.programme,
        monthly_amount=amount,
        starts_on=fields.pop("starts_on", datetime.date(2027, 1, 1)),
        **fields,
    )
    return rate


def attended(
    world: Finance, placed: Placed, day: datetime.date, status: str, *, hour: int = 9
) -> AttendanceRecord:
    """`placed`'s attendance, `status`, at a new session of the world's run on `day`."""
    session = Session.objects.create(
        course_run=world.workplace.run,
        session_date=day,
        start_time=datetime.time(hour),
        end_time=datetime.time(hour + 1),
    )
    record: AttendanceRecord = AttendanceRecord.objects.create(
        session=session, enrolment=placed.course_enrollment, status=status
    )
    return record


def bank_confirmed(world: Finance, placed: Placed, number: str = "1234567890") -> BankAccount:
    change = bank_change_request(
        actor=world.finance,
        learner=placed.learner,
        details=BankDetails(
            holder=placed.learner.full_name,
            bank_name="Capitec Bank",
            branch_code="470010",
            account_number=number,
            account_type="savings",
        ),
    )
    return bank_change_confirm(
        actor=world.second_finance, change=change, account_number=number, branch_code="470010"
    )


def second_learnership(
    placed: Placed, *, starts_on: datetime.date = datetime.date(2027, 1, 11)
) -> CourseEnrollment:
    """`placed`'s learner also on another learnership (another programme, running through
    2027, starting on `starts_on`): their course enrolment in its run."""
    run = CourseRunFactory(
        cohort=CohortFactory(
            active=True, start_date=starts_on, end_date=datetime.date(2027, 11, 30)
        ),
        course=CourseFactory(code="AG201", name="Animal production"),
    )
    enrolment = CohortEnrollment.objects.create(
        cohort=run.cohort,
        user=placed.user,
        learner=placed.learner,
        state=EnrollmentState.IN_PROGRESS,
    )
    course_enrollment: CourseEnrollment = CourseEnrollment.objects.create(
        enrollment=enrolment,
        course=run.course,
        academic_session=run.academic_session,
        course_run=run,
        enrollment_date=run.start_date,
    )
    return course_enrollment


def absent_in(course_enrollment: CourseEnrollment, day: datetime.date) -> AttendanceRecord:
    """An unexcused absence of `course_enrollment` at a new session of its run on `day`."""
    session = Session.objects.create(
        course_run=course_enrollment.course_run,
        session_date=day,
        start_time=datetime.time(14),
        end_time=datetime.time(15),
    )
    record: AttendanceRecord = AttendanceRecord.objects.create(
        session=session, enrolment=course_enrollment, status=AttendanceStatus.ABSENT
    )
    return record
