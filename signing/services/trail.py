"""The submission's own trail and its audit events, written by every signing service in its
transaction, and the lock that makes a submission's changes take turns."""

from typing import Any

from accounts.models import User
from audit.context import current_context
from audit.services import audit_record, personal_values_masked
from signing.models import Submission, SubmissionEvent, Submitter


def submission_lock(submission: Submission) -> Submission:
    """The submission re-read under a row lock (inside the caller's transaction)."""
    return Submission.objects.select_for_update().get(pk=submission.pk)


def submission_event_record(
    submission: Submission, kind: str, submitter: Submitter | None = None, **data: Any
) -> SubmissionEvent:
    """A line of the trail printed on the audit certificate, from where the request came."""
    context = current_context()
    return SubmissionEvent.objects.create(
        submission=submission,
        submitter=submitter,
        kind=kind,
        ip_address=context.ip_address,
        user_agent=(context.user_agent or "")[:500],
        data=data,
    )


def submission_audit_record(
    action: str,
    submission: Submission,
    actor: User | None = None,
    *,
    concerning: Submitter | None = None,
    **values: Any,
) -> None:
    """An audit event about the submission; values named as a signer's fields (their decline
    reason) are recorded as changed only, as that signer's personal values. Without an actor
    (a signer's link used), the event is about the signer `concerning`: when they have an
    account, the visitor's IP address and user agent are theirs, forgotten with them."""
    _, values = personal_values_masked(Submitter, {}, values)
    subject = concerning.user if actor is None and concerning and concerning.user_id else None
    audit_record(
        actor=actor,
        action=f"signing.{action}",
        entity=submission,
        new_values=values,
        subject=subject,
    )
