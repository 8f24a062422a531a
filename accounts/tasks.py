"""Deleted accounts are anonymised daily, per institution, once their time to be restored has
passed (accounts.services.accounts_purge_due)."""

from typing import Any

from celery import shared_task
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.services import accounts_purge_due
from tenants.db import tenant_connection
from tenants.selectors import schema_names_for_background_work


@shared_task(name="accounts.accounts_purge_due")
def accounts_purge_due_task() -> list[dict[str, Any]]:
    """Anonymise this institution's deleted accounts that are due. Idempotent: an anonymised
    account is never due again."""
    if tenant_connection.schema_name == get_public_schema_name():
        return []
    return accounts_purge_due(dry_run=False)


@shared_task(name="accounts.accounts_purge_due_all_institutions")
def accounts_purge_due_all_institutions() -> None:
    """Beat entry point: one run per active institution, skipping suspended ones and the
    platform's own schema."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            accounts_purge_due_task.delay()
