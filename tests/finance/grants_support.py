"""Grant claims' test world, on finance's (a cohort whose course run starts on 1 March 2027 and
ends on 25 June 2027, so its mid-point is 28 April): a SETA agreement for the cohort, and the
evidence each milestone needs, written directly (test setup, not the services)."""

import datetime
from decimal import Decimal

from django.utils import timezone

from cohorts.models import Cohort, DocumentType
from delivery.models import (
    AttendanceRecord,
    AttendanceStatus,
    Certificate,
    CertificateKind,
    CourseEnrollment,
    CourseRun,
    Session,
)
from enrolments.models import CohortEnrollment, DocumentStatus, ProgrammeOutcome, StudentDocument
from finance.models import GrantAgreement
from finance.selectors.grants import ID_DOCUMENT_TYPE
from tests.finance.support import Finance, finance_world
from tests.workplace.support import ENDS_ON, STARTS_ON, Placed

MIDPOINT = datetime.date(2027, 4, 28)
REGISTRATION = Decimal("5000.00")
MID = Decimal("7500.00")
COMPLETION = Decimal("12500.00")


def grants_world(admin, *, learners: int = 2) -> Finance:
    world = finance_world(admin, learners=learners)
    Cohort.objects.filter(pk=world.workplace.run.cohort_id).update(
        start_date=STARTS_ON, end_date=ENDS_ON
    )
    world.workplace.run.cohort.refresh_from_db()
    return world


def agreement_make(world: Finance, **fields) -> GrantAgreement:
    agreement: GrantAgreement = GrantAgreement.objects.create(
        cohort=world.workplace.run.cohort,
        seta=fields.pop("seta", "MICT SETA"),
        reference=fields.pop("reference", "MICT-DG-2027-014"),
        registration_amount=fields.pop("registration_amount", REGISTRATION),
        midpoint_amount=fields.pop("midpoint_amount", MID),
        completion_amount=fields.pop("completion_amount", COMPLETION),
        created_by=world.finance,
        **fields,
    )
    return agreement


def enrollment_of(placed: Placed) -> CohortEnrollment:
    enrollment: CohortEnrollment = placed.course_enrollment.enrollment
    enrollment.refresh_from_db()
    return enrollment


_codes = iter(range(1, 1_000_000))


def registration_evidence(placed: Placed, *, agreement: bool = True, id_document: bool = True):
    """The learner's agreement signed (as before agreements were signing submissions) and their
    ID document verified."""
    enrollment = enrollment_of(placed)
    if agreement:
        CohortEnrollment.objects.filter(pk=enrollment.pk).update(
            agreement_signed_at=timezone.make_aware(datetime.datetime(2027, 2, 20, 10))
        )
    if id_document:
        StudentDocument.objects.create(
            enrollment=enrollment,
            learner=placed.learner,
            document_type=DocumentType.objects.get(name=ID_DOCUMENT_TYPE),
            file=f"documents/{enrollment.pk}/id",
            original_name="id.pdf",
            size=1,
            content_type="application/pdf",
            sha256="0" * 64,
            status=DocumentStatus.VERIFIED,
        )


def attendance_marked(placed: Placed, on: datetime.date = STARTS_ON) -> AttendanceRecord:
    session = Session.objects.create(
        course_run=placed.course_enrollment.course_run,
        session_date=on,
        start_time=datetime.time(9),
        end_time=datetime.time(12),
    )
    record: AttendanceRecord = AttendanceRecord.objects.create(
        session=session, enrolment=placed.course_enrollment, status=AttendanceStatus.PRESENT
    )
    return record


def completed(placed: Placed, on: datetime.date, *, certificate: bool = True) -> None:
    """The learner's programme outcome "completed" on `on`, with a certificate issued then."""
    enrollment = enrollment_of(placed)
    CohortEnrollment.objects.filter(pk=enrollment.pk).update(
        programme_outcome=ProgrammeOutcome.COMPLETED, completion_date=on
    )
    if certificate:
        Certificate.objects.create(
            enrollment=enrollment,
            kind=CertificateKind.CERTIFICATE,
            verification_code=f"GRNT-{next(_codes):04}-CCCC-DDDD",
            pdf="certificates/g.pdf",
            sha256="0" * 64,
            issued_at=timezone.make_aware(datetime.datetime.combine(on, datetime.time(12))),
        )


def started_days_ago(world: Finance, days: int, *, ends_in: int = 100) -> None:
    """The world's cohort and run started `days` ago (the learners joined then) and end in
    `ends_in` days: for what runs on the real today (the pages' button, the daily task)."""
    starts = timezone.localdate() - datetime.timedelta(days=days)
    ends = timezone.localdate() + datetime.timedelta(days=ends_in)
    run = world.workplace.run
    Cohort.objects.filter(pk=run.cohort_id).update(start_date=starts, end_date=ends)
    CourseRun.objects.filter(pk=run.pk).update(start_date=starts, end_date=ends)
    CourseEnrollment.objects.filter(course_run=run).update(enrollment_date=starts)
    run.refresh_from_db()
    run.cohort.refresh_from_db()
