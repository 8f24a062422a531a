"""What the pages that show an agreement's PDF share, in signing and in the apps built on it
(the sponsor's page, the countersign page)."""

from collections.abc import Callable
from typing import Any

from csp.constants import NONE, SELF
from csp.decorators import csp_replace
from django.db.models.fields.files import FieldFile
from django.http import HttpResponse
from django.views.decorators.clickjacking import xframe_options_sameorigin

# A PDF shown in a frame of our own pages: Chromium's viewer is an object of the PDF's own
# document, so the PDF response allows that and nothing else.
PDF_FRAME_CSP = {"frame-ancestors": [SELF], "default-src": [NONE], "object-src": [SELF]}


def pdf_in_frame(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view whose PDF our own pages may show in a frame, and no other site."""
    return xframe_options_sameorigin(csp_replace(PDF_FRAME_CSP)(view))


def pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def stored_pdf_response(stored: FieldFile, filename: str) -> HttpResponse:
    with stored.open("rb") as pdf:
        return pdf_response(pdf.read(), filename)
