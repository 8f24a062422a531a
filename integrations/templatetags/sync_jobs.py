"""The job page's receipts: read for the signed-in person, who may or may not see the
gateway's acknowledgements (integrations.selectors.sync_job_receipts)."""

from typing import Any

from django import template

from integrations.models import SyncJob
from integrations.selectors import ReceiptShown, sync_job_receipts

register = template.Library()


@register.simple_tag(takes_context=True)
def job_receipts(context: dict[str, Any], job: SyncJob) -> list[ReceiptShown]:
    return sync_job_receipts(job=job, user=context["request"].user)
