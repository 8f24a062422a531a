"""What the data protection jobs do to agreements: erase the personal content of the agreements
about a person, and retire sealed ones once their legal retention period ends (files deleted,
a RetiredDocument kept so that the verify page still answers). Both are composed inside the
job's transaction (not durable); the job checks the permission and records the run."""

from collections.abc import Iterable
from datetime import datetime

from django.db import models

from audit.services import CHANGED, audit_record
from signing.models import (
    RetiredDocument,
    RetiredKind,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
    Submitter,
)
from signing.selectors import submissions_about
from tenants.storage import file_delete_on_commit

# What stands in place of an erased agreement's title and its signers' names.
ERASED = "(erased)"


def _file_delete(file: models.fields.files.FieldFile) -> None:
    if file.name:
        file_delete_on_commit(file.storage, file.name)


def _submission_erase(submission: Submission) -> None:
    """Blank what names or describes the signers, delete the PDFs and signature images; the
    row keeps its status, dates and hashes."""
    _file_delete(submission.original_pdf)
    _file_delete(submission.final_pdf)
    Submission.objects.filter(pk=submission.pk).update(
        html="", context={}, original_pdf="", final_pdf="", title=ERASED
    )
    for signer in submission.submitters.all():
        _file_delete(signer.signature_image)
    Submitter.objects.filter(submission=submission).update(
        name=ERASED,
        email="",
        signed_name="",
        signature_text="",
        signature_image="",
        decline_reason="",
        ip_address=None,
        user_agent="",
    )
    SubmissionEvent.objects.filter(submission=submission).update(
        ip_address=None, user_agent="", data={}
    )
    audit_record(
        action="submission.erased",
        entity=submission,
        new_values={"signers": CHANGED, "content": CHANGED},
    )


def submissions_personal_data_erase(*, subjects: Iterable[models.Model]) -> int:
    """Erase the agreements about `subjects` (a person's enrolments) that are not sealed
    records: those never completed. Sealed ones are kept for their legal retention period
    (submissions_retire). Returns how many were erased."""
    erased = 0
    unsealed = (
        submissions_about(subjects)
        .exclude(status=SubmissionStatus.COMPLETED)
        .exclude(title=ERASED)
        .prefetch_related("submitters")
        .order_by("pk")
    )
    for submission in unsealed:
        _submission_erase(submission)
        erased += 1
    return erased


def document_retire(
    *, sha256: str, kind: str, issued_at: datetime | None, reference: str = ""
) -> RetiredDocument:
    """Remember that the sealed document with `sha256` was retired (idempotent)."""
    retired, _created = RetiredDocument.objects.get_or_create(
        sha256=sha256,
        defaults={"kind": kind, "issued_at": issued_at, "reference": reference},
    )
    return retired


def submissions_retire(*, submissions: Iterable[Submission]) -> None:
    """Retire sealed `submissions` whose legal retention has ended (the caller chose them:
    signing.selectors.sealed_submissions_to_retire): each one's files are deleted, its content
    and signers erased, and a RetiredDocument keeps its final PDF's hash."""
    for submission in submissions:
        document_retire(
            sha256=submission.final_sha256,
            kind=RetiredKind.AGREEMENT,
            issued_at=submission.completed_at,
        )
        _submission_erase(submission)
