"""An invoice or credit note as a PDF in the institution's branding: its logo, brand colour,
name, address, registration and VAT numbers, the recipient as fixed when issued, the lines,
VAT and totals, and how to pay. A pure function of the issued document: sealing and storing
are finance.services.invoices'. User text is escaped by the template."""

import base64
import mimetypes
import re

from django.template.loader import render_to_string

from finance.models import FinanceSettings, Invoice, InvoiceStatus
from signing.documents import html_to_pdf
from tenants.models import Institution

DEFAULT_COLOUR = "#1f5f8b"
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def logo_src(institution: Institution) -> str:
    """The logo as a data URI ("" without one, or when it cannot be read)."""
    if not institution.logo:
        return ""
    content_type, _encoding = mimetypes.guess_type(institution.logo.name or "")
    if content_type not in ("image/png", "image/jpeg"):
        return ""
    try:
        with institution.logo.open("rb") as stored:
            data = stored.read()
    except OSError:
        return ""
    return f"data:{content_type};base64," + base64.b64encode(data).decode()


def invoice_html(invoice: Invoice, *, institution: Institution, settings: FinanceSettings) -> str:
    colour = institution.brand_colour
    return render_to_string(
        "finance/invoices/pdf/invoice.html",
        {
            "invoice": invoice,
            "lines": list(invoice.lines.all()),
            "institution": institution,
            "logo_src": logo_src(institution),
            "colour": colour if HEX_COLOUR.match(colour or "") else DEFAULT_COLOUR,
            "settings": settings,
            "is_void": invoice.status == InvoiceStatus.VOID,
        },
    )


def invoice_pdf(invoice: Invoice, *, institution: Institution, settings: FinanceSettings) -> bytes:
    """The document's page(s), unsealed."""
    return html_to_pdf(invoice_html(invoice, institution=institution, settings=settings))
