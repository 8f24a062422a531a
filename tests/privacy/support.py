"""The data protection tests' world: a learner who went all the way through a cohort long ago
(details with an ID number, two uploaded documents, one rejected with a note, a sealed
agreement, course results, an absence with a reason, a certificate, a placement with its
vetting, logbook, observation and a portfolio of evidence, each with free text and files),
and helpers to make the cohort old and to find every
trace of a person in the institution's schema."""

import datetime
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from academics.models import Outcome
from accounts.models import User
from cohorts.models import Cohort, CohortState
from delivery.models import (
    AttendanceRecord,
    AttendanceStatus,
    Certificate,
    CourseEnrollment,
)
from delivery.services.certificates import certificate_issue
from enrolments.models import CohortEnrollment
from enrolments.selectors import enrollment_agreement_values
from enrolments.services import enrollment_details_save
from learners.models import Learner
from partners.models import BankAccount
from placements.models import (
    LearnerLocation,
    Placement,
    PlacementStatus,
    VettingEvidence,
    VettingRecord,
    VettingType,
)
from placements.services.vetting import vetting_record_fail, vetting_record_open
from signing.models import SignerRole, Submission
from signing.services.submissions import submission_create
from tests.enrolments.conftest import id_type, upload_document
from tests.enrolments.table_support import sign_next
from tests.factories import SessionFactory
from tests.files import PDF_BYTES
from tests.learners.support import details_of, sa_id_number
from tests.placements.factories import OrganisationFactory, academic_year, subject
from tests.verification.conftest import matric_type
from verification.services import document_review
from workplace.models import (
    Decision,
    EvidenceKind,
    LogbookEntry,
    LogbookEvidence,
    LogbookReview,
    LogbookReviewDecision,
    LogbookWeek,
    LogbookWeekStatus,
    ObservationReport,
    Portfolio,
    PortfolioEvidence,
    PortfolioStatus,
    PortfolioSubmission,
    StoredEvidence,
)

FIRST_NAME = "Nokuthula"
LAST_NAME = "Zwelithini-Qwabe"
EMAIL = "nokuthula.qwabe@example.org"
PHONE = "0829917733"
ID_NUMBER = sa_id_number(4242, birth="920412")
STREET = "17 Jacaranda Crescent"
ABSENCE_REASON = "Hospital visit for asthma"
REVIEW_NOTE = "Photo page cut off at the chin"
PLACEMENT_NOTE = "Settled in well after her father's funeral"
VETTING_REFERENCE = "PCC-5881-QZ"
VETTING_REASON = "Record of a 2014 shoplifting conviction"
LOGBOOK_TASKS = "Marked Grade 9 algebra tests with Mr Dube"
MENTOR_COMMENT = "Arrived late twice: the taxi strike"
OBSERVATION = "Handled a disruptive class with calm authority"
FEEDBACK = "Add the lesson plans you wrote yourself"
EVIDENCE_TITLE = "Lesson on quadratic equations"


@dataclass
class Graduate:
    enrollment: CohortEnrollment
    agreement: Submission
    certificate: Certificate
    placement: Placement

    @property
    def learner(self) -> Learner:
        return Learner.objects.get(pk=self.enrollment.learner_id)

    @property
    def cohort(self) -> Cohort:
        return Cohort.objects.get(pk=self.enrollment.cohort_id)

    phone: str = ""
    # The names under which the placement's and portfolio's evidence files were stored.
    evidence_files: list[str] = field(default_factory=list)

    @property
    def values(self) -> list[str]:
        """The personal values that must leave no trace (the phone number as it was stored)."""
        return [
            FIRST_NAME,
            LAST_NAME,
            EMAIL,
            self.phone,
            ID_NUMBER,
            STREET,
            ABSENCE_REASON,
            REVIEW_NOTE,
            PLACEMENT_NOTE,
            VETTING_REFERENCE,
            VETTING_REASON,
            LOGBOOK_TASKS,
            MENTOR_COMMENT,
            OBSERVATION,
            FEEDBACK,
            EVIDENCE_TITLE,
        ]


def graduate_make(graduate, admin: User) -> Graduate:
    """The learner described above, in a cohort of their own that has not ended yet."""
    enrollment = graduate(full_name=f"{FIRST_NAME} {LAST_NAME}", email=EMAIL)
    enrollment_details_save(
        enrollment=enrollment,
        actor=enrollment.user,
        details=details_of(
            id_number=ID_NUMBER,
            phone_number=PHONE,
            address_line1=STREET,
            gender="female",
            race="african",
            disability="none",
        ),
    )
    enrollment = CohortEnrollment.objects.select_related("learner", "cohort").get(pk=enrollment.pk)
    upload_document(enrollment, id_type(), name=f"{LAST_NAME} ID.pdf")
    matric = upload_document(enrollment, matric_type(), name=f"{LAST_NAME} matric.pdf")
    document_review(document=matric, reviewer=admin, approve=False, reason=REVIEW_NOTE)
    agreement = submission_create(
        template=enrollment.cohort.main_template,
        context=enrollment_agreement_values(enrollment),
        signers=[
            {"role": SignerRole.STUDENT, "name": f"{FIRST_NAME} {LAST_NAME}", "email": EMAIL},
            {"role": SignerRole.INSTITUTION_ADMIN, "name": admin.full_name, "email": admin.email},
        ],
        subject=enrollment,
        actor=admin,
    )
    sign_next(agreement, f"{FIRST_NAME} {LAST_NAME}")
    sign_next(agreement, admin.full_name)
    course_enrollment = CourseEnrollment.objects.filter(enrollment=enrollment).first()
    AttendanceRecord.objects.create(
        session=SessionFactory(course_run=course_enrollment.course_run),
        enrolment=course_enrollment,
        status=AttendanceStatus.ABSENT,
        reason=ABSENCE_REASON,
    )
    certificate = certificate_issue(enrollment=enrollment, actor=admin)
    BankAccount.objects.create(
        learner_id=enrollment.learner_id,
        bank_name="Capitec",
        account_last4="4321",
        sealed=b"sealed elsewhere",
        confirmed_at=timezone.now(),
    )
    placement, evidence_files = _placement_make(enrollment, admin)
    return Graduate(
        enrollment,
        Submission.objects.get(pk=agreement.pk),
        certificate,
        placement,
        phone=Learner.objects.get(pk=enrollment.learner_id).phone_number,
        evidence_files=evidence_files,
    )


def _file_stored(row: StoredEvidence | VettingEvidence, name: str) -> str:
    """Store PDF_BYTES as `row`'s file (its model names it at random) and return that name."""
    row.original_name, row.size, row.content_type = name, len(PDF_BYTES), "application/pdf"
    row.sha256 = hashlib.sha256(PDF_BYTES).hexdigest()
    row.file.save(name, ContentFile(PDF_BYTES), save=True)
    return row.file.name or ""


def _placement_make(enrollment: CohortEnrollment, admin: User) -> tuple[Placement, list[str]]:
    """The learner's failed police clearance (with its evidence), a completed placement with
    notes, a returned logbook week whose entry has a photo, a mentor's observation and a
    portfolio assessed "not yet competent" holding an uploaded document. Rows are written
    directly (test setup: the services' own tests cover how each is made)."""
    learner = enrollment.learner
    record = vetting_record_open(
        actor=admin, learner=learner, vetting_type=VettingType.objects.get(code="police_clearance")
    )
    VettingRecord.objects.filter(pk=record.pk).update(reference=VETTING_REFERENCE)
    files = [_file_stored(VettingEvidence(record=record), f"{LAST_NAME} clearance.pdf")]
    vetting_record_fail(actor=admin, record=record, reason=VETTING_REASON)
    LearnerLocation.objects.create(learner=learner, latitude=-26.2, longitude=28.04)
    placement = Placement.objects.create(
        learner=learner,
        organisation=OrganisationFactory(),
        cohort=enrollment.cohort,
        academic_year=academic_year("2027"),
        subject=subject("MATH"),
        starts_on=datetime.date(2027, 3, 1),
        ends_on=datetime.date(2027, 3, 26),
        status=PlacementStatus.COMPLETED,
        outcome_notes=PLACEMENT_NOTE,
    )
    week = LogbookWeek.objects.create(
        placement=placement,
        week_starts_on=placement.starts_on,
        status=LogbookWeekStatus.RETURNED,
        reviewed_by=admin,
    )
    LogbookReview.objects.create(
        week=week,
        decision=LogbookReviewDecision.RETURNED,
        comment=MENTOR_COMMENT,
        reviewer=admin,
        reviewed_at=timezone.now(),
    )
    entry = LogbookEntry.objects.create(
        week=week, entry_date=placement.starts_on, hours=Decimal("7.5"), tasks=LOGBOOK_TASKS
    )
    files.append(_file_stored(LogbookEvidence(entry=entry), f"{LAST_NAME} classroom.pdf"))
    course_enrollment = CourseEnrollment.objects.filter(enrollment=enrollment).first()
    outcome = Outcome.objects.create(
        course=course_enrollment.course, code="119472", title="Oral communication", credits=5
    )
    ObservationReport.objects.create(
        placement=placement,
        outcome=outcome,
        observed_on=placement.starts_on,
        report=OBSERVATION,
        written_by=admin,
    )
    portfolio = Portfolio.objects.create(course_enrollment=course_enrollment, outcome=outcome)
    Portfolio.objects.filter(pk=portfolio.pk).update(status=PortfolioStatus.NOT_YET_COMPETENT)
    submission = PortfolioSubmission.objects.create(
        portfolio=portfolio,
        number=1,
        submitted_at=timezone.now(),
        submitted_by=enrollment.user,
        decision=Decision.NOT_YET_COMPETENT,
        feedback=FEEDBACK,
        assessor=admin,
        assessed_at=timezone.now(),
    )
    document = PortfolioEvidence(
        portfolio=portfolio,
        kind=EvidenceKind.DOCUMENT,
        title=EVIDENCE_TITLE,
        submission=submission,
    )
    files.append(_file_stored(document, f"{LAST_NAME} lesson plan.pdf"))
    return placement, files


def cohort_ended(cohort: Cohort, *, years_ago: int) -> Cohort:
    """Test setup: the cohort completed, having ended `years_ago` years before today."""
    end = datetime.date.today() - datetime.timedelta(days=365 * years_ago + 30)
    Cohort.objects.filter(pk=cohort.pk).update(
        state=CohortState.COMPLETED, start_date=end - datetime.timedelta(days=300), end_date=end
    )
    return Cohort.objects.get(pk=cohort.pk)


def traces(values: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, value) of the current schema whose text, JSON or bytes hold one
    of `values` (case-insensitive)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT table_name, column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema()
              AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea')
              AND table_name IN (
                  SELECT table_name FROM information_schema.tables
                  WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
              )
            ORDER BY table_name, column_name
            """
        )
        columns = cursor.fetchall()
        found = []
        for table, column, data_type in columns:
            as_text = (
                f"encode({connection.ops.quote_name(column)}, 'escape')"
                if data_type == "bytea"
                else f"{connection.ops.quote_name(column)}::text"
            )
            for value in values:
                cursor.execute(
                    f"SELECT 1 FROM {connection.ops.quote_name(table)} "  # noqa: S608 (names from the catalogue)
                    f"WHERE {as_text} ILIKE %s LIMIT 1",
                    [f"%{value}%"],
                )
                if cursor.fetchone():
                    found.append((table, column, value))
        return found


def files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def aggregates() -> dict[str, Counter]:
    """What the equity and results reports count: learners by population group, gender and
    disability, and the results recorded."""
    return {
        "equity": Counter(
            Learner.objects.values_list("race", "gender", "disability", "date_of_birth__year")
        ),
        "results": Counter(
            CourseEnrollment.objects.values_list("status", "score", "grade", "grade_points")
        ),
        "outcomes": Counter(
            CohortEnrollment.objects.values_list("cohort_id", "state", "programme_outcome")
        ),
        "attendance": Counter(AttendanceRecord.objects.values_list("status")),
        "certificates": Counter(Certificate.objects.values_list("kind")),
    }
