"""How a delivery record stands at the training gateway, as its pages show it: from the
record's own sync columns (kept by delivery.receivers) and its learner's consent, both already
loaded with the row, so that showing it costs no query."""

from collections.abc import Iterable
from dataclasses import dataclass, replace

from delivery.gateway import learner_may_be_sent
from delivery.models import CourseEnrollment
from integrations.models import SyncStatus
from learners.models import Learner

_BADGES = {
    SyncStatus.NOT_SENT: "text-bg-light border",
    SyncStatus.WITHHELD: "text-bg-warning",
    SyncStatus.PENDING: "text-bg-info",
    SyncStatus.ACCEPTED: "text-bg-success",
    SyncStatus.FAILED: "text-bg-danger",
    SyncStatus.CANCELLED: "text-bg-secondary",
}


@dataclass(frozen=True)
class GatewayStanding:
    label: str
    badge: str
    reference: str
    error: str


def gateway_standing(
    *, sync_status: str, sync_reference: str, sync_error: str, learner: Learner
) -> GatewayStanding:
    """The record's standing. While its learner does not consent to sharing with the funding
    body nothing of theirs is sent, and it says so: "Not sent" for a record the gateway never
    had, and, for one it had (or that was on its way), its standing with the words that its
    changes are not sent."""
    status = SyncStatus(sync_status)
    standing = GatewayStanding(
        label=status.label, badge=_BADGES[status], reference=sync_reference, error=sync_error
    )
    if learner_may_be_sent(learner):
        return standing
    if sync_reference or status not in (SyncStatus.NOT_SENT, SyncStatus.WITHHELD):
        return replace(
            standing,
            error=f"Changes are not sent: {learner.full_name} has withdrawn consent to sharing "
            "with the funding body.",
        )
    return replace(
        standing,
        label="Not sent",
        badge=_BADGES[SyncStatus.WITHHELD],
        error=f"{learner.full_name} has not consented to sharing with the funding body.",
    )


def enrolments_with_standing(enrolments: Iterable[CourseEnrollment]) -> list[CourseEnrollment]:
    """Course enrolments (their learners loaded) each with its standing at the training gateway
    (`gateway`): read from the rows, no query."""
    shown = list(enrolments)
    for enrolment in shown:
        enrolment.gateway = gateway_standing(  # type: ignore[attr-defined]
            sync_status=enrolment.sync_status,
            sync_reference=enrolment.sync_reference,
            sync_error=enrolment.sync_error,
            learner=enrolment.enrollment.learner,
        )
    return shown
