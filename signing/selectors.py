"""Reads for the signing pages."""

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils.module_loading import import_string

from signing.documents import sha256_hex
from signing.models import (
    AgreementTemplate,
    InstitutionCertificate,
    Submission,
    SubmissionStatus,
)


def template_list_for_admin() -> QuerySet[AgreementTemplate]:
    return AgreementTemplate.objects.annotate(
        submission_count=Count("versions__submissions")
    ).order_by("is_archived", "title")


def certificates_for_verify() -> list[InstitutionCertificate]:
    """Every certificate this institution has sealed with, retired ones included."""
    return list(InstitutionCertificate.objects.all())


def submission_for_final_pdf(data: bytes) -> Submission | None:
    """The completed submission whose sealed PDF is exactly `data`, with its signers."""
    return (
        Submission.objects.filter(final_sha256=sha256_hex(data), status=SubmissionStatus.COMPLETED)
        .prefetch_related("submitters")
        .first()
    )


def submissions_for_subject(subject) -> QuerySet[Submission]:
    """What was sent for `subject` (a cohort, an enrolment ...), newest first, with signers."""
    return (
        Submission.objects.filter(
            subject_type=subject._meta.label_lower, subject_id=str(subject.pk)
        )
        .prefetch_related("submitters")
        .order_by("-created_at")
    )


def subject_summary(submission: Submission) -> dict | None:
    """What the caller wants shown beside the document on the signing page: the function
    SIGNING_SUBJECT_SUMMARIES names for the subject's type returns a dict with a `template`
    and that template's values (as `summary`), or None."""
    path = getattr(settings, "SIGNING_SUBJECT_SUMMARIES", {}).get(submission.subject_type)
    if not path or not submission.subject_id:
        return None
    return import_string(path)(submission)
