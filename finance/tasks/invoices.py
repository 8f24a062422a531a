"""Finance's background work: an issued invoice's or credit note's PDF, rendered, sealed and
e-mailed to its recipient. Queued on commit by finance.services.invoices.invoice_issue; a
tenant task, so it runs in the schema of the institution that issued it."""

from celery import shared_task
from django_tenants.utils import get_public_schema_name, tenant_context

from finance.services.invoices import invoice_email_first, invoice_pdf_make
from tenants.db import tenant_connection
from tenants.models import Institution


@shared_task(
    name="finance.invoice_pdf_send",
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
)
def invoice_pdf_send(invoice_id: int) -> dict[str, bool]:
    """Make the document's sealed PDF and e-mail it to the recipient. Idempotent: a PDF already
    made is kept, and a document already e-mailed is not e-mailed again."""
    if tenant_connection.schema_name == get_public_schema_name():
        return {"rendered": False, "emailed": False}
    institution = Institution.objects.get(schema_name=tenant_connection.schema_name)
    # The PDF carries the institution's branding, read from the tenant on the connection; a
    # task run in place (eagerly, inside schema_context) may have only the schema name there.
    with tenant_context(institution):
        rendered = invoice_pdf_make(invoice_id=invoice_id)
        emailed = invoice_email_first(invoice_id=invoice_id)
    return {"rendered": rendered, "emailed": emailed}
