"""Callbacks for the tests, registered by name as a domain app's are in its AppConfig.ready
(here once, when the signing tests' conftest imports this module)."""

from accounts.permissions import permission_check
from audit.services import audit_record
from signing import callbacks

RECORD_COMPLETION = "tests.record_completion"
RECORD_DECLINE = "tests.record_decline"
REFUSE_COMPLETION = "tests.refuse_completion"


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
    permission_check(actor=submission.created_by, allowed=False, action="tests.refuse_completion")


callbacks.register(RECORD_COMPLETION, record_completion)
callbacks.register(RECORD_DECLINE, record_decline)
callbacks.register(REFUSE_COMPLETION, refuse_completion)
