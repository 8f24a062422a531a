"""A completed cohort with one of everything its evidence pack holds: a learner's sealed
agreement, a verified and a rejected document, a session's attendance, a result and a sealed
certificate. Rows are written directly (test setup); the cohort is completed through its
service, so that its audit events are real."""

import hashlib
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import User
from cohorts.models import Cohort, DocumentType
from cohorts.services import cohort_complete
from delivery.models import (
    Assessment,
    AssessmentResult,
    AttendanceRecord,
    AttendanceStatus,
    Certificate,
    CertificateKind,
)
from enrolments.models import CohortEnrollment, DocumentStatus, StudentDocument
from enrolments.services import enrollment_invite
from signing.documents import html_to_pdf
from signing.models import Submission, SubmissionStatus
from signing.sealing import pdf_seal
from signing.services.certificates import certificate_for_institution
from tests.factories import CohortFactory, CourseEnrollmentFactory, CourseRunFactory, SessionFactory

ID_SCAN = b"%PDF-1.4\n% an ID document scan\n%%EOF\n"


def sealed_pdf(text: str) -> bytes:
    return pdf_seal(
        html_to_pdf(f"<p>{text}</p>"), certificate=certificate_for_institution(), reason=text
    )


@dataclass
class EvidenceWorld:
    cohort: Cohort
    enrollment: CohortEnrollment
    agreement: Submission
    document: StudentDocument
    certificate: Certificate
    agreement_pdf: bytes
    certificate_pdf: bytes


@pytest.fixture
def evidence_world(institution, admin, media) -> EvidenceWorld:
    return evidence_world_make(admin)


def evidence_world_make(admin: User) -> EvidenceWorld:
    """The completed cohort and its evidence, in the current schema, made by `admin`."""
    cohort = CohortFactory(active=True, name="Analytics 2027")
    enrollment = enrollment_invite(
        cohort=cohort, actor=admin, email="thandi@example.org", full_name="Thandi Mokoena"
    )
    run = CourseRunFactory(cohort=cohort)
    course_enrolment = CourseEnrollmentFactory(enrollment=enrollment, course_run=run)
    session = SessionFactory(course_run=run)
    AttendanceRecord.objects.create(
        session=session, enrolment=course_enrolment, status=AttendanceStatus.PRESENT
    )
    Assessment.objects.create(
        enrolment=course_enrolment,
        assessment_type="Summative",
        score=Decimal("78.00"),
        result=AssessmentResult.PASS,
        assessed_at=timezone.now(),
        assessor=admin,
    )
    id_type = DocumentType.objects.get(name="South African ID or passport")
    document = StudentDocument(
        learner=enrollment.learner,
        enrollment=enrollment,
        document_type=id_type,
        original_name="id.pdf",
        size=len(ID_SCAN),
        content_type="application/pdf",
        sha256=hashlib.sha256(ID_SCAN).hexdigest(),
        status=DocumentStatus.VERIFIED,
    )
    document.file.save("id.pdf", ContentFile(ID_SCAN), save=False)
    document.save()
    agreement_pdf = sealed_pdf("Learnership agreement, signed by all parties")
    agreement = Submission(
        template_version=cohort.main_template_version,
        title="Learnership agreement",
        html="<p>Agreement</p>",
        original_sha256="0" * 64,
        status=SubmissionStatus.COMPLETED,
        subject_type=CohortEnrollment._meta.label_lower,
        subject_id=str(enrollment.pk),
        completed_at=timezone.now(),
        final_sha256=hashlib.sha256(agreement_pdf).hexdigest(),
    )
    agreement.original_pdf.save("original.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=False)
    agreement.final_pdf.save("final.pdf", ContentFile(agreement_pdf), save=False)
    agreement.save()
    certificate_pdf = sealed_pdf("Certificate of Thandi Mokoena")
    certificate = Certificate(
        enrollment=enrollment,
        kind=CertificateKind.CERTIFICATE,
        verification_code="EVID-0001",
        sha256=hashlib.sha256(certificate_pdf).hexdigest(),
        issued_at=timezone.now(),
        issued_by=admin,
        contents={},
    )
    certificate.pdf.save("certificate.pdf", ContentFile(certificate_pdf), save=False)
    certificate.save()
    cohort_complete(cohort=cohort, actor=admin, force_reason="The learnership ended.")
    cohort.refresh_from_db()
    return EvidenceWorld(
        cohort, enrollment, agreement, document, certificate, agreement_pdf, certificate_pdf
    )
