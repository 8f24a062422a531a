"""Reads for the signing pages."""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from django.apps import apps
from django.db.models import Count, Model, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.services import token_hash
from signing import callbacks, documents
from signing.documents import body_fill, sha256_hex
from signing.models import (
    AgreementTemplate,
    CertificateSource,
    InstitutionCertificate,
    RetiredDocument,
    SigningLink,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
    Submitter,
)
from signing.sealing import common_name, pdf_seal_check
from tenants.db import tenant_connection


def template_list_for_admin() -> QuerySet[AgreementTemplate]:
    return AgreementTemplate.objects.annotate(
        submission_count=Count("versions__submissions")
    ).order_by("is_archived", "title")


def template_body_preview_html(body: str) -> str:
    """An unsaved body, sanitised and filled with example values, as the editor shows it.
    Raises ValidationError for unknown merge fields, as saving would."""
    return documents.body_fill(documents.body_sanitise(body), documents.preview_values())


def template_preview_pdf(*, template: AgreementTemplate) -> bytes:
    """The current text rendered with example values, as signers would see it."""
    body_html = documents.body_fill(template.body, documents.preview_values())
    html = documents.document_html(
        title=template.title, body_html=body_html, institution_name=tenant_connection.tenant.name
    )
    return documents.html_to_pdf(html)


def link_for_token(token: str) -> SigningLink | None:
    """The link a signer's token opens, with its signer and submission; None if unknown."""
    return (
        SigningLink.objects.select_related("submitter__submission")
        .filter(token_hash=token_hash(token))
        .first()
    )


def next_submitter(submission: Submission) -> Submitter | None:
    """The first signer, in order, who has not signed yet."""
    return submission.submitters.filter(signed_at__isnull=True).order_by("order").first()


def waiting_for(submitter: Submitter) -> Submitter | None:
    """The earlier signer this one waits for, or None when it is their turn."""
    return (
        submitter.submission.submitters.filter(order__lt=submitter.order, signed_at__isnull=True)
        .order_by("order")
        .first()
    )


def certificates_for_verify() -> list[InstitutionCertificate]:
    """Every certificate this institution has sealed with, retired ones included."""
    return list(InstitutionCertificate.objects.all())


@dataclass(frozen=True)
class SealCertificateSummary:
    """What a super admin sees of the certificate that seals agreements."""

    subject: str  # the common name; `subject_dn` is the whole distinguished name
    subject_dn: str
    issuer: str
    is_self_signed: bool
    source: str
    is_uploaded: bool
    fingerprint_sha256: str  # colon-separated pairs, as certificate viewers show it
    valid_until: datetime.datetime

    @property
    def fingerprint_pairs(self) -> list[str]:
        return self.fingerprint_sha256.split(":")


def certificate_in_use() -> SealCertificateSummary | None:
    """The active sealing certificate; None before the first one exists (it is made at
    provisioning, or when the first agreement is sealed)."""
    certificate = InstitutionCertificate.objects.filter(is_active=True).first()
    if certificate is None:
        return None
    loaded = x509.load_pem_x509_certificate(certificate.certificate_pem.encode())
    fingerprint = certificate.fingerprint_sha256.upper()
    return SealCertificateSummary(
        subject=common_name(loaded.subject),
        subject_dn=loaded.subject.rfc4514_string(),
        issuer=common_name(loaded.issuer),
        is_self_signed=loaded.issuer == loaded.subject,
        source=certificate.get_source_display(),
        is_uploaded=certificate.source == CertificateSource.UPLOADED,
        fingerprint_sha256=":".join(fingerprint[i : i + 2] for i in range(0, len(fingerprint), 2)),
        valid_until=loaded.not_valid_after_utc,
    )


def submission_for_final_pdf(data: bytes) -> Submission | None:
    """The completed submission whose sealed PDF is exactly `data`, with its signers."""
    return (
        Submission.objects.filter(final_sha256=sha256_hex(data), status=SubmissionStatus.COMPLETED)
        .prefetch_related("submitters")
        .first()
    )


def standard_merge_values() -> dict[str, str]:
    """The merge fields every agreement gets from the institution and the day it is sent."""
    institution = tenant_connection.tenant
    return {
        "institution.name": institution.name,
        # Not on record, the agreement says so rather than refusing to be made.
        "institution.registration_number": getattr(institution, "registration_number", "")
        or "(none on record)",
        "today": timezone.localdate().strftime("%-d %B %Y"),
    }


def submission_text_html(submission: Submission) -> str:
    """The agreement's text as sent, for reading on a page: its frozen version filled with its
    frozen values, the very text of its PDF."""
    return body_fill(submission.template_version.body, submission.context)


def subjects_q(subjects: Iterable[Model]) -> Q:
    """Submissions whose subject is one of `subjects` (none if there are none)."""
    ids_by_type: dict[str, list[str]] = defaultdict(list)
    for subject in subjects:
        ids_by_type[subject._meta.label_lower].append(str(subject.pk))
    about = Q(pk__in=[])
    for subject_type, subject_ids in ids_by_type.items():
        about |= Q(subject_type=subject_type, subject_id__in=subject_ids)
    return about


def submissions_about(subjects: Iterable[Model]) -> QuerySet[Submission]:
    """The submissions about any of `subjects` (a person's enrolments ...)."""
    return Submission.objects.filter(subjects_q(subjects))


def sealed_submissions_to_retire(subjects: Iterable[Model]) -> QuerySet[Submission]:
    """The sealed agreements about `subjects` not retired yet, with their signers."""
    return (
        submissions_about(subjects)
        .filter(status=SubmissionStatus.COMPLETED)
        .exclude(final_sha256="")
        .exclude(final_sha256__in=RetiredDocument.objects.values("sha256"))
        .prefetch_related("submitters")
        .order_by("pk")
    )


def retired_document_for(sha256: str) -> RetiredDocument | None:
    """The retirement record of the sealed document with `sha256`, if it was retired."""
    return RetiredDocument.objects.filter(sha256=sha256).first()


def submissions_for_subject(subject: Model) -> QuerySet[Submission]:
    """What was sent for `subject` (a cohort, an enrolment ...), newest first, with signers."""
    return (
        Submission.objects.filter(
            subject_type=subject._meta.label_lower, subject_id=str(subject.pk)
        )
        .prefetch_related("submitters")
        .order_by("-created_at")
    )


def subject_summary(submission: Submission) -> dict[str, Any] | None:
    """What the caller wants shown beside the document on the signing page: the summary an app
    registered for the subject's type (signing.callbacks) returns a dict with a `template` and
    that template's values (as `summary`), or None."""
    summary = callbacks.subject_summary_for(submission.subject_type)
    if summary is None or not submission.subject_id:
        return None
    return summary(submission)


def submission_list_for_admin(*, status: str = "", search: str = "") -> QuerySet[Submission]:
    """Sent agreements, newest first, with their signers; `search` matches the title or a
    signer's name or address."""
    submissions = Submission.objects.prefetch_related("submitters").order_by("-created_at")
    if status:
        submissions = submissions.filter(status=status)
    if search:
        matching = Submission.objects.filter(
            Q(title__icontains=search)
            | Q(submitters__name__icontains=search)
            | Q(submitters__email__icontains=search)
        )
        submissions = submissions.filter(pk__in=matching.values("pk"))
    return submissions


def submission_for_admin(pk: int) -> Submission | None:
    """One sent agreement with its signers, its trail and the template it came from."""
    return (
        Submission.objects.select_related("template_version__template", "created_by")
        .prefetch_related(
            "submitters",
            Prefetch("events", queryset=SubmissionEvent.objects.select_related("submitter")),
        )
        .filter(pk=pk)
        .first()
    )


def subjects_attach(submissions: Iterable[Submission]) -> None:
    """Set `subject_object` on each submission (None if it has no subject or it is gone) with
    one query per kind of subject, for lists that name what each agreement is for."""
    by_type: dict[str, list[Submission]] = defaultdict(list)
    for submission in submissions:
        submission.subject_object = None
        if submission.subject_type and submission.subject_id:
            by_type[submission.subject_type].append(submission)
    for label, group in by_type.items():
        model = apps.get_model(label)
        objects = model._default_manager.select_related().in_bulk(
            [item.subject_id for item in group]
        )
        found = {str(pk): value for pk, value in objects.items()}
        for submission in group:
            submission.subject_object = found.get(submission.subject_id)


def agreement_check(data: bytes) -> dict[str, Any]:
    """What the verify page says of `data`: a sealed agreement retired under the institution's
    retention rules says so, before any check of a seal or a match."""
    retired = retired_document_for(sha256_hex(data))
    if retired is not None:
        return {
            "ok": False,
            "retired": retired,
            "reason": f"This document was retired under the institution's retention rules on "
            f"{retired.retired_at:%-d %B %Y}: it was sealed here, and deleted when the period "
            "the institution keeps such records for ended.",
        }
    check = pdf_seal_check(data, certificates=certificates_for_verify())
    submission = submission_for_final_pdf(data)
    return {
        "ok": check.ok and submission is not None,
        "reason": check.reason
        if not check.ok or submission is not None
        else "The seal is ours, but the file matches no completed agreement.",
        "submission": submission if check.ok else None,
    }
