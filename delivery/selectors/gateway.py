"""How a delivery record stands at the training gateway, as its pages show it: from the
record's own sync columns (kept by delivery.receivers) and its learner's consent, both already
loaded with the row, so that showing it costs no query."""

from dataclasses import dataclass

from delivery.gateway import learner_may_be_sent
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
    """The record's standing; one of a learner without consent to sharing with the funding
    body, not at the gateway, says so (nothing of theirs is sent until they give it)."""
    if sync_status in (SyncStatus.NOT_SENT, SyncStatus.WITHHELD) and not learner_may_be_sent(
        learner
    ):
        return GatewayStanding(
            label="Not sent",
            badge=_BADGES[SyncStatus.WITHHELD],
            reference=sync_reference,
            error=f"Not sent: {learner.full_name} has not consented to sharing with the "
            "funding body.",
        )
    status = SyncStatus(sync_status)
    return GatewayStanding(
        label=status.label, badge=_BADGES[status], reference=sync_reference, error=sync_error
    )
