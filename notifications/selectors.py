from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from notifications.models import OutboundEmail


def outbound_email_ids_due(
    *, older_than: timedelta = timedelta(minutes=1)
) -> QuerySet[OutboundEmail, int]:
    """Queued e-mails whose task may have been lost (Redis or the worker down at commit)."""
    return OutboundEmail.objects.filter(
        status=OutboundEmail.Status.QUEUED, created_at__lte=timezone.now() - older_than
    ).values_list("pk", flat=True)
