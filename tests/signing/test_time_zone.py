"""An agreement's times in the institution's zone: the verify page, the e-mail that carries the
sealed copy and the copy's audit certificate give the same instants, labelled with the zone, and
follow the institution's setting."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from notifications.models import OutboundEmail
from notifications.services import email_render
from signing.selectors import link_for_token
from signing.services.completion import submitter_sign
from tests.signing.conftest import last_link_to, pdf_text
from tests.tenants.test_settings_page import _form

pytestmark = pytest.mark.django_db


def _exact(moment: datetime.datetime, zone: str, label: str) -> str:
    """What the certificate should say, worked out here rather than by the code under test."""
    return f"{moment.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M:%S} {label}"


def _completed(make_submission):
    submission = make_submission()
    for submitter in submission.submitters.order_by("order"):
        link = link_for_token(last_link_to(submitter.email))
        submitter_sign(link=link, signed_name=submitter.name, consent=True, signature_text="x")
    submission.refresh_from_db()
    with submission.final_pdf.open("rb") as stored:
        return submission, stored.read()


def _verify_page(client, pdf: bytes) -> str:
    upload = SimpleUploadedFile("agreement.pdf", pdf, content_type="application/pdf")
    response = client.post("/sign/verify/", {"document": upload})
    assert response.status_code == 200
    return response.content.decode()


def _completion_email(submission) -> tuple[str, str]:
    message = email_render(
        OutboundEmail.objects.filter(
            template="signing_completed", recipient=submission.submitters.first().email
        ).latest("id")
    )
    return message.body, message.alternatives[0][0]


def _request_email_expiry(submission) -> str:
    signer = submission.submitters.get(order=1)
    message = email_render(
        OutboundEmail.objects.filter(template="signing_request", recipient=signer.email).latest(
            "id"
        )
    )
    return message.body


def _agree_on(submission, pdf: bytes, client, zone: str, label: str) -> None:
    certificate = pdf_text(pdf)
    page = _verify_page(client, pdf)
    text, html = _completion_email(submission)
    completed = _exact(submission.completed_at, zone, label)
    assert completed in certificate
    assert f'completed <span class="text-nowrap">{completed}</span>.' in page
    assert f"completed {completed}." in text
    assert f"completed {completed}." in html
    for signer in submission.submitters.all():
        signed = _exact(signer.signed_at, zone, label)
        assert f"signed {signed}" in certificate  # the signature page
        assert f'signed <span class="text-nowrap">{signed}</span>' in page
    assert f"Times are in {zone} ({label}, " in certificate
    assert f"Times are in {zone} ({label}, " in page
    everything = certificate + page + text
    assert "(UTC)" not in everything
    assert re.search(r"\d UTC\b", everything) is None  # no time labelled UTC


def test_the_page_the_email_and_the_certificate_agree_in_the_institutions_zone(
    institution, make_submission, client_for, unique_ip
):
    client = client_for(institution)
    client.defaults["REMOTE_ADDR"] = unique_ip
    submission, pdf = _completed(make_submission)
    _agree_on(submission, pdf, client, "Africa/Johannesburg", "SAST")

    link = submission.submitters.get(order=1).links.earliest("id")
    expiry = link.expires_at.astimezone(ZoneInfo("Africa/Johannesburg"))
    assert f"works until {expiry:%-d %B %Y, %H:%M} SAST" in _request_email_expiry(submission)


def test_changing_the_zone_changes_the_page_the_email_and_the_certificate(
    institution, make_submission, client_for, super_admin_client, unique_ip
):
    response = super_admin_client.post("/settings/", _form(time_zone="Asia/Tokyo"))
    assert response.status_code == 302
    institution.refresh_from_db()
    connection.set_tenant(institution)  # as the next request or task finds it
    client = client_for(institution)
    client.defaults["REMOTE_ADDR"] = unique_ip

    submission, pdf = _completed(make_submission)
    _agree_on(submission, pdf, client, "Asia/Tokyo", "JST")
    assert "SAST" not in pdf_text(pdf)

    link = submission.submitters.get(order=1).links.earliest("id")
    expiry = link.expires_at.astimezone(ZoneInfo("Asia/Tokyo"))
    assert f"works until {expiry:%-d %B %Y, %H:%M} JST" in _request_email_expiry(submission)
