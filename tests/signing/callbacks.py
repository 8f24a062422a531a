"""A completion callback for the tests, called by dotted path as a real caller's would be."""

from audit.services import audit_record


def record_completion(*, submission) -> None:
    audit_record(
        action="test.submission_completed",
        entity_type=submission.subject_type,
        entity_id=submission.subject_id,
        new_values={"final_sha256": submission.final_sha256},
    )


def record_decline(*, submission, submitter) -> None:
    audit_record(
        action="test.submission_declined",
        entity_type=submission.subject_type,
        entity_id=submission.subject_id,
        new_values={"role": submitter.role, "reason": submitter.decline_reason},
    )


def refuse_completion(*, submission) -> None:
    """As a caller whose own permission check fails, e.g. a signer who lost their role."""
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied("No longer an admin.")
