"""Grant claims are brought up to date daily, per institution: the claims that have fallen due
(finance.services.grants.grant_claims_bring_up_to_date) for each of its agreements."""

from celery import shared_task
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context, tenant_context

from finance.models import GrantAgreement
from finance.selectors.grants import grant_agreement_ids
from finance.services.grants import grant_claims_bring_up_to_date
from tenants.db import tenant_connection
from tenants.models import Institution
from tenants.selectors import schema_names_for_background_work
from tenants.zones import institution_time


@shared_task(name="finance.grant_claims_bring_up_to_date")
def grant_claims_bring_up_to_date_all() -> dict[str, int]:
    """Make this institution's claims that have fallen due by its today (in its time zone).
    Idempotent: each agreement's claims are made under its lock, once per learner and
    milestone, so a repeated or concurrent run makes none twice."""
    if tenant_connection.schema_name == get_public_schema_name():
        return {"agreements": 0, "claims": 0}
    institution = Institution.objects.get(schema_name=tenant_connection.schema_name)
    with tenant_context(institution), institution_time(institution):
        today = timezone.localdate()
        ids = grant_agreement_ids()
        made = sum(
            grant_claims_bring_up_to_date(agreement=GrantAgreement(pk=pk), today=today)
            for pk in ids
        )
    return {"agreements": len(ids), "claims": made}


@shared_task(name="finance.grant_claims_bring_up_to_date_all_institutions")
def grant_claims_bring_up_to_date_all_institutions() -> None:
    """Beat entry point: one run per active institution, skipping suspended ones and the
    platform's own schema."""
    for schema_name in schema_names_for_background_work(include_public=False):
        with schema_context(schema_name):
            grant_claims_bring_up_to_date_all.delay()
