"""The signature page and audit certificate of a sealed PDF: every value is there in full, and
nothing runs off the page however long a signer's browser string, address or name is."""

import re

import pytest
from django.template.loader import render_to_string
from django.test.signals import template_rendered

from audit.context import RequestContext, activate, deactivate
from signing.selectors import link_for_token
from signing.services.completion import submitter_sign
from tests.signing.conftest import last_link_to, pdf_text

pytestmark = pytest.mark.django_db

# A browser string as long as a signer's is kept (500 characters), without a single space
# where a line could break, and a realistic one with its usual spaces.
UNBROKEN_AGENT = "Mozilla/5.0;" + "X" * 400 + "-" * 20 + "Z" * 68
SPACED_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; SM-S928B Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.179 Mobile Safari/537.36 "
    "[FB_IAB/FB4A;FBAV/463.0.0.40.93;IABMV/1;] " * 2
)[:500]
IPV6 = "2001:db8:85a3::8a2e:370:7334"  # as the database gives it back


def _sign_as(email: str, *, user_agent: str, ip_address: str) -> None:
    token = activate(
        RequestContext(
            correlation_id="certificate-test", ip_address=ip_address, user_agent=user_agent
        )  # fmt: skip
    )
    try:
        submitter_sign(
            link=link_for_token(last_link_to(email)),
            signed_name=f"Signer {email}",
            consent=True,
            signature_text="Signer",
        )
    finally:
        deactivate(token)


def sealed_with_long_values(make_submission) -> tuple[bytes, object]:
    """A completed submission whose signers signed from very long browser strings, one of them
    over IPv6, and its sealed PDF."""
    submission = make_submission()
    agents = [UNBROKEN_AGENT, SPACED_AGENT, UNBROKEN_AGENT]
    for submitter, agent in zip(submission.submitters.order_by("order"), agents, strict=True):
        _sign_as(submitter.email, user_agent=agent, ip_address=IPV6)
    submission.refresh_from_db()
    with submission.final_pdf.open("rb") as stored:
        return stored.read(), submission


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _rendered_certificate(make_submission) -> str:
    """The HTML of a real sealed PDF's signature page and audit certificate, rendered again
    from the context the sealing gave the template."""
    contexts = []

    def keep(sender, template, context, **kwargs):
        if template.name == "signing/pdf/completion.html":
            contexts.append(context.flatten())

    template_rendered.connect(keep)
    try:
        sealed_with_long_values(make_submission)
    finally:
        template_rendered.disconnect(keep)
    assert len(contexts) == 1
    return render_to_string("signing/pdf/completion.html", contexts[0])


def test_the_certificate_gives_every_hash_and_browser_string_in_full(make_submission):
    pdf, submission = sealed_with_long_values(make_submission)
    text = _compact(pdf_text(pdf))
    assert submission.original_sha256 in text
    for submitter in submission.submitters.all():
        assert submitter.consent_sha256 in text
        assert _compact(submitter.user_agent) in text
    assert IPV6 in text


def _certificate_context(**changes) -> dict:
    signer = {
        "role": "Institution admin",
        "email": "a.very.long.address.of.the.institution.signatory@training-institution.example",
        "reached_by": "E-mailed link to a.very.long.address.of.the.institution.signatory@"
        "training-institution.example",
        "signed_name": "Nomvula Thandiwe Mbali Dlamini-Khumalo van der Merwe",
        "signature_text": "Nomvula Thandiwe Mbali Dlamini-Khumalo van der Merwe",
        "signature_src": "",
        "opened_at": "2027-05-04 14:01:09 SAST",
        "consented_at": "2027-05-04 14:05:02 SAST",
        "signed_at": "2027-05-04 14:05:03 SAST",
        "ip_address": IPV6,
        "user_agent": UNBROKEN_AGENT,
        "consent_sha256": "c" * 64,
    }
    events = [
        {
            "at": "2027-05-04 14:05:03 SAST",
            "kind": kind,
            "who": f"{signer['signed_name']} (Institution admin)",
            "ip_address": IPV6,
        }  # fmt: skip
        for kind in ("Sent", "Opened", "Consented to sign electronically", "Signed")
    ] * 6
    return {
        "title": "Learnership agreement: " + "Occupational Certificate " * 6,
        "institution_name": "Alpha College of Advanced Occupational Training (Pty) Ltd",
        "signers": [signer] * 3,
        "events": events,
        "original_sha256": "a" * 64,
        "signed_sha256": "b" * 64,
        "verify_url": "https://alpha.cohortly.example/verify/" + "x" * 60,
        "time_zone": "Africa/Johannesburg (SAST, UTC+02:00)",
    } | changes


def _boxes_past_the_margins(html: str) -> list[str]:
    """Every box WeasyPrint laid out whose right edge passes the page's right margin: what
    would be cut off, or printed into the margin, on paper."""
    from weasyprint import HTML
    from weasyprint.formatting_structure import boxes

    past = []
    for page in HTML(string=html).render().pages:
        page_box = page._page_box
        right = page_box.margin_width() - page_box.margin_right - page_box.padding_right
        for box in page_box.descendants():
            if isinstance(box, boxes.TextBox | boxes.TableCellBox | boxes.TableBox):
                edge = box.position_x + box.margin_width()
                if edge > right + 0.5:  # half a CSS pixel of rounding
                    label = box.text[:40] if isinstance(box, boxes.TextBox) else type(box).__name__
                    past.append(f"{label!r} ends at {edge:.0f}px, the margin is at {right:.0f}px")
    return past


def test_a_sealed_certificate_fits_its_pages(make_submission):
    assert _boxes_past_the_margins(_rendered_certificate(make_submission)) == []


def test_the_certificate_tables_fit_the_page_with_long_values():
    html = render_to_string("signing/pdf/completion.html", _certificate_context())
    assert _boxes_past_the_margins(html) == []


def test_the_layout_check_sees_a_table_wider_than_the_page():
    """The check above would find an overflow: a cell that may not wrap is past the margin."""
    html = render_to_string("signing/pdf/completion.html", _certificate_context()).replace(
        "</style>",
        "td, th { white-space: nowrap; word-break: normal; overflow-wrap: normal; }</style>",
    )
    assert _boxes_past_the_margins(html)


def test_the_signature_band_on_each_page_fits_with_long_values():
    signers = _certificate_context()["signers"]
    html = render_to_string("signing/pdf/stamp.html", {"signers": signers})
    assert _boxes_past_the_margins(html) == []
