"""Reads for the evidence pack's pages and its build: the cohort's evidence, part by part,
each in a constant number of queries."""

from typing import Any

from django.db.models import BooleanField, CharField, ExpressionWrapper, Q, QuerySet
from django.db.models.functions import Cast, Now
from django.utils import timezone

from accounts.models import User
from audit.models import AuditEvent
from cohorts.models import Cohort
from cohorts.selectors import cohorts_visible_to
from delivery.models import Assessment, AttendanceRecord, Certificate
from enrolments.models import CohortEnrollment, DocumentStatus, StudentDocument, SupportingAgreement
from reports.models import EvidencePack, ExecutionStatus
from signing.models import Submission, SubmissionStatus


def evidence_cohort_for(*, user: User, pk: int) -> Cohort | None:
    """The cohort if `user` may see it."""
    return cohorts_visible_to(user).filter(pk=pk).first()


def _with_expired(packs: QuerySet[EvidencePack]) -> QuerySet[EvidencePack]:
    """`expired`: built, but its file deleted or past its expires_at."""
    annotated: QuerySet[EvidencePack] = packs.annotate(
        expired=ExpressionWrapper(
            Q(status=ExecutionStatus.COMPLETED) & (Q(file="") | Q(expires_at__lt=Now())),
            output_field=BooleanField(),
        )
    )
    return annotated


def evidence_packs_for_cohort(cohort: Cohort) -> QuerySet[EvidencePack]:
    return _with_expired(EvidencePack.objects.filter(cohort=cohort).select_related("requested_by"))


def evidence_pack_for(*, user: User, pk: int) -> EvidencePack | None:
    """The pack if `user` may see its cohort."""
    pack: EvidencePack | None = (
        _with_expired(EvidencePack.objects.filter(pk=pk, cohort__in=cohorts_visible_to(user)))
        .select_related("cohort", "requested_by")
        .first()
    )
    return pack


def evidence_pack_downloadable(pack: EvidencePack) -> bool:
    """Built, its file still kept and not past its expiry."""
    return (
        pack.status == ExecutionStatus.COMPLETED
        and bool(pack.file)
        and (pack.expires_at is None or pack.expires_at > timezone.now())
    )


def _ids_as_text(queryset: QuerySet[Any]) -> QuerySet[Any]:
    ids: QuerySet[Any] = queryset.annotate(id_text=Cast("pk", output_field=CharField())).values(
        "id_text"
    )
    return ids


def cohort_sealed_agreements(cohort: Cohort) -> QuerySet[Submission]:
    """The completed, sealed agreements of the cohort: its main agreement, each enrolment's
    and each supporting agreement's."""
    enrollments = CohortEnrollment.objects.filter(cohort=cohort)
    supporting = SupportingAgreement.objects.filter(enrollment__cohort=cohort)
    return (
        Submission.objects.filter(status=SubmissionStatus.COMPLETED)
        .exclude(final_pdf="")
        .filter(
            Q(subject_type=Cohort._meta.label_lower, subject_id=str(cohort.pk))
            | Q(
                subject_type=CohortEnrollment._meta.label_lower,
                subject_id__in=_ids_as_text(enrollments),
            )
            | Q(
                subject_type=SupportingAgreement._meta.label_lower,
                subject_id__in=_ids_as_text(supporting),
            )
        )
        .order_by("pk")
    )


def cohort_verified_documents(cohort: Cohort) -> QuerySet[StudentDocument]:
    return (
        StudentDocument.objects.filter(enrollment__cohort=cohort, status=DocumentStatus.VERIFIED)
        .select_related("document_type")
        .order_by("enrollment_id", "document_type__name", "pk")
    )


def cohort_attendance_records(cohort: Cohort) -> QuerySet[AttendanceRecord]:
    return (
        AttendanceRecord.objects.filter(session__course_run__cohort=cohort)
        .select_related("session__course_run", "enrolment__enrollment__user")
        .order_by("session__course_run__start_date", "session__session_date", "enrolment_id")
    )


def cohort_assessments(cohort: Cohort) -> QuerySet[Assessment]:
    return (
        Assessment.objects.filter(enrolment__course_run__cohort=cohort)
        .select_related("enrolment__course_run", "enrolment__enrollment__user")
        .order_by("enrolment__course_run__start_date", "enrolment_id", "assessed_at")
    )


def cohort_certificates(cohort: Cohort) -> QuerySet[Certificate]:
    """The certificates in force (revoked ones were replaced or withdrawn)."""
    return Certificate.objects.filter(enrollment__cohort=cohort, revoked_at__isnull=True).order_by(
        "enrollment_id", "kind"
    )


def cohort_audit_events(cohort: Cohort) -> QuerySet[AuditEvent]:
    """The events about the cohort and about its enrolments, oldest first."""
    enrollments = CohortEnrollment.objects.filter(cohort=cohort)
    return AuditEvent.objects.filter(
        Q(entity_type=Cohort._meta.label_lower, entity_id=str(cohort.pk))
        | Q(
            entity_type=CohortEnrollment._meta.label_lower,
            entity_id__in=_ids_as_text(enrollments),
        )
    ).order_by("id")
