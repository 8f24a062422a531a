"""What the data protection jobs do to delivery's records of a learner: their free-text notes
(absence reasons, corrections, subsidy notes) are erased when the learner is anonymised, and
their certificates are retired once the legal retention period ends (the PDF deleted, a
RetiredDocument kept so that the verify page says so). Composed inside the job's transaction
(not durable); the job checks the permission and records the run."""

from collections.abc import Iterable

from audit.services import CHANGED, audit_record
from delivery.models import (
    Assessment,
    AssessmentChange,
    AttendanceChange,
    AttendanceRecord,
    Certificate,
    CourseEnrollment,
)
from enrolments.models import CohortEnrollment
from signing.models import RetiredKind
from signing.services.retention import ERASED, document_retire
from tenants.storage import file_delete_on_commit


def course_notes_erase(*, enrollments: Iterable[CohortEnrollment]) -> None:
    """Erase the free text written about the learner of `enrollments` in their courses: it
    may tell of an illness or a family matter. Results and attendance marks stay."""
    course_enrollments = CourseEnrollment.objects.filter(enrollment__in=list(enrollments))
    course_enrollments.update(subsidy_info="")
    records = AttendanceRecord.objects.filter(enrolment__in=course_enrollments)
    records.update(reason="")
    AttendanceChange.objects.filter(record__in=records).update(old_reason="", change_reason=ERASED)
    assessments = Assessment.objects.filter(enrolment__in=course_enrollments)
    assessments.exclude(void_reason="").update(void_reason=ERASED)
    AssessmentChange.objects.filter(assessment__in=assessments).update(reason="")


def certificates_retire(*, certificates: Iterable[Certificate]) -> None:
    """Retire `certificates` whose legal retention has ended (the caller chose them:
    delivery.selectors.certificates.certificates_to_retire): each PDF is deleted and what it
    showed erased; the row keeps its kind and dates for the counts, and a RetiredDocument keeps
    its hash and code for the verify page."""
    for certificate in certificates:
        document_retire(
            sha256=certificate.sha256,
            kind=RetiredKind.CERTIFICATE,
            issued_at=certificate.issued_at,
            reference=certificate.verification_code,
        )
        if certificate.pdf.name:
            file_delete_on_commit(certificate.pdf.storage, certificate.pdf.name)
        Certificate.objects.filter(pk=certificate.pk).update(
            pdf="",
            contents={},
            revocation_reason=ERASED if certificate.is_revoked else "",
        )
        audit_record(action="certificate.retired", entity=certificate, new_values={"pdf": CHANGED})
