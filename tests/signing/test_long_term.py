"""Long-term seals: PAdES B-LT with a time-stamp from the authority on loopback (tests/tsa.py),
B-B without one, and a seal refused rather than made without its time-stamp when the
authority is down."""

import datetime
import io

import pytest
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader

from signing.documents import html_to_pdf
from signing.models import InstitutionCertificate
from signing.sealing import (
    TimestampUnavailable,
    _cached_signer,
    pdf_seal,
    pdf_seal_check,
    timestamp_trust_roots,
)
from signing.services.certificates import certificate_for_institution

pytestmark = pytest.mark.django_db


def _document() -> bytes:
    return html_to_pdf("<h1>Learnership agreement</h1><p>Signed by all parties.</p>")


def _check(pdf: bytes):
    return pdf_seal_check(pdf, certificates=list(InstitutionCertificate.objects.all()))


def test_without_an_authority_a_seal_is_b_b(institution, settings):
    settings.SIGNING_TIMESTAMP_URL = ""
    sealed = pdf_seal(_document(), certificate=certificate_for_institution(), reason="Test")
    check = _check(sealed)
    assert check.ok
    assert check.level == "B-B"
    assert check.timestamped_at is None
    assert "/DSS" not in PdfFileReader(io.BytesIO(sealed)).root


def test_with_an_authority_the_seal_is_time_stamped_and_carries_its_validation_data(
    institution, tsa
):
    before = timezone.now()
    sealed = pdf_seal(_document(), certificate=certificate_for_institution(), reason="Test")
    assert tsa.requests >= 1
    check = _check(sealed)
    assert check.ok, check.reason
    assert check.level == "B-LT"
    assert check.timestamp_authority == "Test Time-Stamp Unit"
    assert check.timestamped_at is not None
    assert before - datetime.timedelta(seconds=5) <= check.timestamped_at <= timezone.now()
    reader = PdfFileReader(io.BytesIO(sealed))
    # The token sits in the signature; the certificates to check it later in the DSS.
    unsigned = reader.embedded_signatures[-1].signer_info["unsigned_attrs"]
    assert "signature_time_stamp_token" in [attribute["type"].native for attribute in unsigned]
    dss = reader.root["/DSS"]
    assert len(dss["/Certs"]) >= 2  # the institution's certificate and the authority's


def test_a_long_term_seal_fails_the_check_once_the_document_changes(institution, tsa):
    sealed = bytearray(
        pdf_seal(_document(), certificate=certificate_for_institution(), reason="Test")
    )
    position = sealed.index(b"stream") + 20
    sealed[position] = (sealed[position] + 1) % 256
    assert not _check(bytes(sealed)).ok


def test_a_seal_made_before_the_authority_was_configured_still_checks(institution, settings, tsa):
    settings.SIGNING_TIMESTAMP_URL = ""
    sealed = pdf_seal(_document(), certificate=certificate_for_institution(), reason="Test")
    settings.SIGNING_TIMESTAMP_URL = tsa.url
    check = _check(sealed)
    assert check.ok
    assert check.level == "B-B"


def test_a_time_stamp_from_an_authority_not_trusted_here_is_not_reported_as_a_time(
    institution, settings, tsa
):
    sealed = pdf_seal(_document(), certificate=certificate_for_institution(), reason="Test")
    settings.SIGNING_TIMESTAMP_TRUST_ROOTS = ""
    check = _check(sealed)
    assert check.ok
    assert check.timestamped_at is None
    assert "does not trust" in check.reason


def test_an_authority_that_is_down_leaves_the_document_unsealed_with_a_clear_message(
    institution, tsa
):
    certificate = certificate_for_institution()
    tsa.stop()
    with pytest.raises(TimestampUnavailable) as refused:
        pdf_seal(_document(), certificate=certificate, reason="Test")
    assert "time-stamp authority did not answer" in refused.value.messages[0]
    assert tsa.url in refused.value.messages[0]


def test_an_authority_answering_with_an_error_leaves_the_document_unsealed(institution, tsa):
    tsa.mode = "error"
    with pytest.raises(TimestampUnavailable):
        pdf_seal(_document(), certificate=certificate_for_institution(), reason="Test")


def test_a_time_stamp_is_never_trusted_through_the_webs_tls_roots(institution, settings, tsa):
    sealed = pdf_seal(_document(), certificate=certificate_for_institution(), reason="Test")
    settings.SIGNING_TIMESTAMP_TRUST_ROOTS = ""
    assert timestamp_trust_roots() == []
    assert _check(sealed).timestamped_at is None


def test_a_time_stamped_seal_with_an_empty_security_store_is_not_called_b_lt(institution, tsa):
    """B-LT means the validation data is in the file, not merely a /DSS entry."""
    from pyhanko.pdf_utils.generic import DictionaryObject, NameObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps import HTTPTimeStamper

    certificate = certificate_for_institution()
    writer = IncrementalPdfFileWriter(io.BytesIO(_document()))
    writer.root[NameObject("/DSS")] = writer.add_object(DictionaryObject())
    writer.update_root()
    sealed = signers.sign_pdf(
        writer,
        signers.PdfSignatureMetadata(
            field_name="InstitutionSeal", subfilter=fields.SigSeedSubFilter.PADES
        ),
        signer=_cached_signer(certificate),
        timestamper=HTTPTimeStamper(tsa.url),
    ).getvalue()

    check = _check(sealed)
    assert check.ok, check.reason
    assert check.timestamped_at is not None
    assert check.level == "B-T"
