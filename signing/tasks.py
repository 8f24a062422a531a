from celery import shared_task
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from signing.services.links import links_remind_expiring
from tenants.db import tenant_connection
from tenants.models import Institution
from tenants.selectors import schema_names_for_background_work


@shared_task(name="signing.send_link_reminders")
def send_link_reminders() -> int:
    """Remind this institution's signers whose links are about to expire. Idempotent: each link
    is re-checked under a lock by link_remind and reminded at most once."""
    if tenant_connection.schema_name == get_public_schema_name():
        return 0  # the platform's own schema has no submissions
    institution = Institution.objects.get(schema_name=tenant_connection.schema_name)
    # Links in the e-mails are built from the institution on the connection; a task run in
    # place (eagerly, inside schema_context) may have only the schema name there.
    with tenant_context(institution):
        return links_remind_expiring()


@shared_task(name="signing.send_link_reminders_all_institutions")
def send_link_reminders_all_institutions() -> None:
    """Beat entry point: one reminder run per active institution, skipping suspended ones and
    the platform's own schema."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            send_link_reminders.delay()
