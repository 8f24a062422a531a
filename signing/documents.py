"""Agreement text to PDF: merge fields, sanitising, rendering with WeasyPrint, and the pages
appended on completion (signatures and the audit certificate). Pure functions: no database."""

import base64
import functools
import hashlib
import io
import logging
import re
from collections.abc import Mapping
from typing import Any

import nh3
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils.html import escape, linebreaks

from signing.models import MERGE_FIELDS

# WeasyPrint logs each rendering step at INFO: seven lines per agreement, nothing to act on.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

MERGE_FIELD = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
FIELD_NAME = re.compile(r"^[a-z_]+(\.[a-z_]+)?$")

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "h1", "h2", "h3", "h4", "ul", "ol", "li",
    "blockquote", "hr", "table", "thead", "tbody", "tr", "th", "td", "span", "div", "sub", "sup",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def body_sanitise(body: str) -> str:
    """Keep only formatting tags: no scripts, links, images, styles or event handlers."""
    return nh3.clean(body or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, link_rel=None)


def merge_fields_used(body: str) -> list[str]:
    """The merge fields a body uses, in order of first use. Raises ValidationError naming
    every field that is not in the listed set (or is not a field name at all)."""
    used: list[str] = []
    unknown: list[str] = []
    for match in MERGE_FIELD.finditer(body or ""):
        name = match.group(1).strip()
        if FIELD_NAME.match(name) and name in MERGE_FIELDS:
            if name not in used:
                used.append(name)
        elif name not in unknown:
            unknown.append(name or "(empty)")
    if "{%" in (body or ""):
        unknown.append("{% ... %}")
    if unknown:
        raise ValidationError(
            "Unknown merge field%(s)s: %(fields)s. Use only the listed fields.",
            code="unknown_merge_field",
            params={
                "s": "s" if len(unknown) > 1 else "",
                "fields": ", ".join(f"{{{{ {name} }}}}" for name in unknown),
            },
        )
    return used


def body_fill(body: str, values: Mapping[str, Any]) -> str:
    """Replace each merge field by its value, HTML-escaped. A missing value is an error, not a
    blank: the caller must supply every field the body uses."""
    used = merge_fields_used(body)
    missing = [name for name in used if str(values.get(name, "") or "").strip() == ""]
    if missing:
        raise ValidationError(
            "No value for %(fields)s.",
            code="missing_merge_value",
            params={"fields": ", ".join(missing)},
        )
    if not re.search(r"<[a-zA-Z]", body):
        body = linebreaks(body)
    return MERGE_FIELD.sub(lambda match: escape(str(values[match.group(1).strip()])), body)


def body_fill_for_reading(body: str, values: Mapping[str, Any]) -> str:
    """`body` filled as far as `values` go, for a page that shows an agreement before it is
    sent: a value missing or blank reads as what it stands for (body_fill refuses it)."""
    known = {name: value for name, value in values.items() if str(value or "").strip()}
    return body_fill(body, placeholder_values() | known)


def preview_values() -> dict[str, str]:
    return {name: example for name, (_, example) in MERGE_FIELDS.items()}


def placeholder_values(*groups: str) -> dict[str, str]:
    """Each merge field of `groups` ("student", "sponsor" ...; every field if none) as what it
    stands for, e.g. "[The student's full name]": for a copy of an agreement that is not that
    party's, or a value not known yet."""
    return {
        name: f"[{label}]"
        for name, (label, _) in MERGE_FIELDS.items()
        if not groups or name.partition(".")[0] in groups
    }


def document_html(*, title: str, body_html: str, institution_name: str) -> str:
    return render_to_string(
        "signing/pdf/document.html",
        {"title": title, "body_html": body_html, "institution_name": institution_name},
    )


def html_to_pdf(html: str, *, attachments: dict[str, bytes] | None = None) -> bytes:
    """The page as PDF; `attachments` (name: content) are embedded as files in it."""
    from weasyprint import HTML, Attachment

    # One font configuration per process: loading the system's fonts again for each document
    # was most of the time a small page (the signature band) took, which a bulk countersigning
    # pays twice per agreement.
    return HTML(string=html).write_pdf(
        font_config=_font_config(),
        attachments=[
            Attachment(file_obj=io.BytesIO(content), name=name)
            for name, content in (attachments or {}).items()
        ],
    )


@functools.cache
def _font_config() -> Any:
    from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]

    return FontConfiguration()


def png_data_uri(png: bytes | None) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode() if png else ""


def signed_pages_pdf(original: bytes, signers: list[dict]) -> bytes:
    """The document as sent with the signers' band stamped at the top of every page. Each
    signer is a dict with the fields the stamp shows, and `signature_src` (a data URI)."""
    from pypdf import PdfReader, PdfWriter

    stamp = html_to_pdf(render_to_string("signing/pdf/stamp.html", {"signers": signers}))
    writer = PdfWriter(clone_from=io.BytesIO(original))
    stamp_page = PdfReader(io.BytesIO(stamp)).pages[0]
    for page in writer.pages:
        page.merge_page(stamp_page)
    return _pdf_bytes(writer)


def completion_pdf(
    *,
    signed: bytes,
    submission_title: str,
    institution_name: str,
    signers: list[dict],
    events: list[dict],
    original_sha256: str,
    verify_url: str,
    time_zone: str,
) -> bytes:
    """`signed` (signed_pages_pdf) followed by the signature page and the audit certificate,
    which gives the SHA-256 of the document as sent and of `signed`: the sealed file's own
    cannot be written inside it. `time_zone` says which zone the times are in
    (tenants.zones.zone_description)."""
    pages = render_to_string(
        "signing/pdf/completion.html",
        {
            "title": submission_title,
            "institution_name": institution_name,
            "signers": signers,
            "events": events,
            "original_sha256": original_sha256,
            "signed_sha256": sha256_hex(signed),
            "verify_url": verify_url,
            "time_zone": time_zone,
        },
    )
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(signed))
    writer.append(io.BytesIO(html_to_pdf(pages)))
    return _pdf_bytes(writer)


def _pdf_bytes(writer) -> bytes:
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
