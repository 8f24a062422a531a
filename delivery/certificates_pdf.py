"""A certificate or statement of results as a PDF: the template's wording with its fields filled
in, and the page rendered with WeasyPrint as signing renders agreements. Pure functions of the
certificate's frozen contents: no database. Sealing is delivery.services.certificates'."""

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe

from delivery.models import CertificateKind
from signing.documents import html_to_pdf

# The fields a template's wording may use, with what each stands for.
TEMPLATE_FIELDS: dict[str, str] = {
    "learner": "The learner's full name",
    "programme": "The programme's name",
    "institution": "The institution's name",
    "completion_date": "The date the learner finished the programme",
}
TEMPLATE_FIELD = re.compile(r"\{([^{}]*)\}")

DEFAULT_WORDING: dict[str, dict[str, str]] = {
    CertificateKind.CERTIFICATE: {
        "title": "Certificate of completion",
        "body": "This is to certify that {learner} has successfully completed the programme "
        "{programme} at {institution}, on {completion_date}, with the results below.",
        "signatory_name": "",
        "signatory_title": "Head of training",
        "footer": "",
    },
    CertificateKind.STATEMENT_OF_RESULTS: {
        "title": "Statement of results",
        "body": "This statement lists the results {learner} achieved in the programme "
        "{programme} at {institution}. It is a record of the courses below and is not a "
        "certificate of completion of the programme.",
        "signatory_name": "",
        "signatory_title": "Head of training",
        "footer": "",
    },
}

DEFAULT_COLOUR = "#1f3b63"
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def wording_check(text: str) -> None:
    """Refuse a wording that uses a field not listed in TEMPLATE_FIELDS, naming each one."""
    unknown = [
        name for name in TEMPLATE_FIELD.findall(text or "") if name.strip() not in TEMPLATE_FIELDS
    ]
    if unknown:
        raise ValidationError(
            "Unknown field%(s)s %(fields)s. Use only %(known)s.",
            code="unknown_field",
            params={
                "s": "s" if len(unknown) > 1 else "",
                "fields": ", ".join(f"{{{name}}}" for name in dict.fromkeys(unknown)),
                "known": ", ".join(f"{{{name}}}" for name in TEMPLATE_FIELDS),
            },
        )


def wording_fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with each {field} replaced by its value (plain text: escaping is the page's)."""
    wording_check(text)
    return TEMPLATE_FIELD.sub(lambda match: str(values.get(match.group(1).strip(), "")), text)


def _paragraphs(text: str) -> SafeString:
    return mark_safe(linebreaks(escape(text)))  # noqa: S308 (escaped just before)


def certificate_html(
    contents: Mapping[str, Any], *, verify_url: str, colour: str = "", preview: bool = False
) -> str:
    return render_to_string(
        "delivery/certificates/pdf/certificate.html",
        {
            "contents": contents,
            "body_html": _paragraphs(contents.get("body", "")),
            "footer_html": _paragraphs(contents.get("footer", "")),
            "verify_url": verify_url,
            "colour": colour if HEX_COLOUR.match(colour or "") else DEFAULT_COLOUR,
            "preview": preview,
        },
    )


def certificate_pdf(
    contents: Mapping[str, Any], *, verify_url: str, colour: str = "", preview: bool = False
) -> bytes:
    """The certificate's page(s), unsealed."""
    return html_to_pdf(
        certificate_html(contents, verify_url=verify_url, colour=colour, preview=preview)
    )
