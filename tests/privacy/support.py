"""The data protection tests' world: a learner who went all the way through a cohort long ago
(details with an ID number, two uploaded documents, a sealed agreement, course results, an
absence with a reason, a certificate), and helpers to make the cohort old and to find every
trace of a person in the institution's schema."""

import datetime
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.db import connection
from django.utils import timezone

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
from signing.models import SignerRole, Submission
from signing.services.submissions import submission_create
from tests.enrolments.conftest import id_type, upload_document
from tests.enrolments.table_support import sign_next
from tests.factories import SessionFactory
from tests.learners.support import details_of, sa_id_number
from tests.verification.conftest import matric_type

FIRST_NAME = "Nokuthula"
LAST_NAME = "Zwelithini-Qwabe"
EMAIL = "nokuthula.qwabe@example.org"
PHONE = "0829917733"
ID_NUMBER = sa_id_number(4242, birth="920412")
STREET = "17 Jacaranda Crescent"
ABSENCE_REASON = "Hospital visit for asthma"


@dataclass
class Graduate:
    enrollment: CohortEnrollment
    agreement: Submission
    certificate: Certificate

    @property
    def learner(self) -> Learner:
        return Learner.objects.get(pk=self.enrollment.learner_id)

    @property
    def cohort(self) -> Cohort:
        return Cohort.objects.get(pk=self.enrollment.cohort_id)

    phone: str = ""

    @property
    def values(self) -> list[str]:
        """The personal values that must leave no trace (the phone number as it was stored)."""
        return [FIRST_NAME, LAST_NAME, EMAIL, self.phone, ID_NUMBER, STREET, ABSENCE_REASON]


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
    upload_document(enrollment, matric_type(), name=f"{LAST_NAME} matric.pdf")
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
    return Graduate(
        enrollment,
        Submission.objects.get(pk=agreement.pk),
        certificate,
        phone=Learner.objects.get(pk=enrollment.learner_id).phone_number,
    )


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
