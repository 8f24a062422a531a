"""Registrations a month from expiring are warned about (daily, per institution)."""

from celery import shared_task
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from tenants.db import tenant_connection
from tenants.models import Institution
from tenants.selectors import schema_names_for_background_work
from tenants.zones import institution_time
from workplace.selectors.practitioners import registrations_due_warning
from workplace.services.practitioners import registration_expiry_warn


@shared_task(name="workplace.registration_expiry_warn")
def registration_expiry_warn_due() -> dict[str, int]:
    """Warn about this institution's registrations expiring within EXPIRY_WARNING_DAYS (in its
    time zone) not yet warned about for their expiry date. Idempotent: each registration is
    re-checked under its lock, so a repeated or concurrent run sends no second warning."""
    if tenant_connection.schema_name == get_public_schema_name():
        return {"warned": 0}
    institution = Institution.objects.get(schema_name=tenant_connection.schema_name)
    # Links in the e-mails are built from the institution on the connection; a task run in
    # place (inside schema_context) may have only the schema name there.
    with tenant_context(institution), institution_time(institution):
        today = timezone.localdate()
        warned = sum(
            registration_expiry_warn(registration_id=pk, today=today)
            for pk in registrations_due_warning(today)
        )
    return {"warned": warned}


@shared_task(name="workplace.registration_expiry_warn_all_institutions")
def registration_expiry_warn_all_institutions() -> None:
    """Beat entry point: one warning run per active institution, skipping suspended ones and
    the platform's own schema."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            registration_expiry_warn_due.delay()
