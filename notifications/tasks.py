from celery import shared_task
from django_tenants.utils import schema_context

from notifications.selectors import outbound_email_ids_due
from notifications.services import email_deliver
from tenants.selectors import schema_names_for_background_work


@shared_task(
    name="notifications.deliver_email",
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=4,
)
def deliver_email(email_id: int) -> bool:
    return email_deliver(email_id=email_id)


@shared_task(name="notifications.sweep_outbox")
def sweep_outbox() -> int:
    """Re-queue this schema's e-mails whose delivery task never ran."""
    due = list(outbound_email_ids_due())
    for email_id in due:
        deliver_email.delay(email_id)
    return len(due)


@shared_task(name="notifications.sweep_outbox_all_institutions")
def sweep_outbox_all_institutions() -> None:
    """Beat entry point: fan out one sweep per schema, skipping suspended institutions."""
    for schema_name in schema_names_for_background_work():
        with schema_context(schema_name):
            sweep_outbox.delay()
