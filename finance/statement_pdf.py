"""A partner's monthly commission statement as a PDF in the institution's branding (its name,
logo, colour, address, registration and VAT numbers), rendered with WeasyPrint as agreements
and certificates are, then sealed with the institution's certificate: any change to the file
breaks the seal. Rendered on request and not kept: the figures come from the records each
time. User text is escaped by the template."""

import base64
import logging
import mimetypes
import re

from django.template.loader import render_to_string
from django.utils import timezone

from finance.selectors.commissions import Statement
from finance.selectors.settings import finance_settings_current
from signing.documents import html_to_pdf
from signing.sealing import pdf_seal
from signing.services.certificates import certificate_for_institution
from tenants.db import tenant_connection
from tenants.models import Institution

logger = logging.getLogger(__name__)

DEFAULT_COLOUR = "#1f3b63"
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_TYPES = {"image/png", "image/jpeg", "image/svg+xml", "image/gif"}
MAX_LOGO_BYTES = 2 * 1024 * 1024


def logo_src(institution: Institution) -> str:
    """The institution's logo as a data URI for the page, or "" (none, unreadable, too big)."""
    if not institution.logo:
        return ""
    content_type, _encoding = mimetypes.guess_type(institution.logo.name or "")
    if content_type not in LOGO_TYPES:
        return ""
    try:
        with institution.logo.open("rb") as stored:
            data: bytes = stored.read(MAX_LOGO_BYTES + 1)
    except OSError as error:
        logger.warning("The logo of %s could not be read: %r", institution.code, error)
        return ""
    if len(data) > MAX_LOGO_BYTES:
        return ""
    return f"data:{content_type};base64," + base64.b64encode(data).decode()


def statement_filename(statement: Statement) -> str:
    """commission-statement-<partner code>-<yyyy-mm>.pdf (codes are capitals, digits, hyphens)."""
    return f"commission-statement-{statement.partner.code}-{statement.month:%Y-%m}.pdf"


def statement_html(statement: Statement, *, institution: Institution) -> str:
    colour = getattr(institution, "brand_colour", "") or ""
    return render_to_string(
        "finance/statements/pdf/statement.html",
        {
            "statement": statement,
            "partner": statement.partner,
            "institution": institution,
            "vat_number": finance_settings_current().vat_number,
            "logo_src": logo_src(institution),
            "colour": colour if HEX_COLOUR.match(colour) else DEFAULT_COLOUR,
            "produced_on": timezone.localdate(),
        },
    )


def statement_pdf(statement: Statement) -> bytes:
    """The statement's PDF, sealed by the current institution."""
    institution = tenant_connection.tenant
    rendered = html_to_pdf(statement_html(statement, institution=institution))
    return pdf_seal(
        rendered,
        certificate=certificate_for_institution(),
        reason=f"Commission statement {statement.partner.code} {statement.month:%Y-%m}",
    )
