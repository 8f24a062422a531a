"""Building an evidence pack in the background, in the schema of the institution that asked."""

from celery import shared_task

from reports.evidence.services import evidence_pack_build, evidence_pack_fail
from signing.sealing import TimestampUnavailable

# Waits before each new try while the time-stamp authority is down: about an hour in all.
RETRY_SECONDS = (60, 120, 300, 900, 1800)


@shared_task(name="reports.evidence_pack_build", bind=True, max_retries=len(RETRY_SECONDS))
def evidence_pack_build_task(self, pack_id: int) -> str:
    """Build the pack; while the time-stamp authority does not answer, try again later (a
    manifest is never sealed without the time-stamp it is promised), then fail the pack."""
    try:
        return str(evidence_pack_build(pack_id=pack_id).status)
    except TimestampUnavailable as error:
        if self.request.retries >= self.max_retries:
            return str(evidence_pack_fail(pack_id=pack_id, message=error.messages[0]).status)
        raise self.retry(exc=error, countdown=RETRY_SECONDS[self.request.retries]) from error
