"""The certificate pages: who reaches them (anyone else gets 404), the learner's downloads, and
the public verify page by code and by PDF, rate-limited per address."""

# The fixtures are imported from certificate_fixtures; each test's argument names one.
# ruff: noqa: F811

import secrets

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import SystemRole
from audit.models import AuditEvent
from delivery.models import Certificate, CertificateKind
from delivery.services.certificates import certificate_issue, certificate_revoke
from delivery.views.certificates import TRANSCRIPT_RATE, VERIFY_RATE
from enrolments.models import ProgrammeOutcome
from signing.sealing import pdf_seal_check
from signing.selectors import certificates_for_verify
from tests.delivery.certificate_fixtures import (  # noqa: F401 (fixtures)
    _media,
    graduate,
    programme_runs,
)
from tests.factories import TrainerFactory, UserFactory

pytestmark = pytest.mark.django_db


def _pdf(certificate: Certificate) -> bytes:
    with certificate.pdf.open("rb") as stored:
        return stored.read()


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def public_client(client_for, institution):
    """A visitor without an account, from an address of the test's own (rate limits count per
    address)."""
    client = client_for(institution)
    client.defaults["REMOTE_ADDR"] = "10." + ".".join(
        str(secrets.randbelow(250) + 1) for _ in range(3)
    )
    return client


# Staff pages


def test_an_admin_issues_from_the_cohort_page_and_downloads_it(graduate, admin_client):
    enrollment = graduate(full_name="Thandi Mokoena")
    cohort = enrollment.cohort

    page = admin_client.get(reverse("delivery:cohort_certificates", args=[cohort.pk]))
    assert page.status_code == 200
    assert "Thandi Mokoena" in page.content.decode()
    assert "Issue 1 due" in page.content.decode()

    issued = admin_client.post(
        reverse("delivery:certificate_issue", args=[cohort.pk, enrollment.pk])
    )
    certificate = Certificate.objects.get(enrollment=enrollment)
    assert issued.url == reverse("delivery:certificate", args=[certificate.pk])
    detail = admin_client.get(issued.url)
    assert certificate.verification_code in detail.content.decode()
    download = admin_client.get(reverse("delivery:certificate_pdf", args=[certificate.pk]))
    assert download.status_code == 200
    assert _body(download) == _pdf(certificate)


def test_issuing_without_an_outcome_says_why(graduate, admin_client):
    enrollment = graduate()
    enrollment.programme_outcome = ""
    enrollment.save(update_fields=["programme_outcome"])
    response = admin_client.post(
        reverse("delivery:certificate_issue", args=[enrollment.cohort.pk, enrollment.pk]),
        follow=True,
    )
    assert "outcome is not recorded yet" in response.content.decode()
    assert not Certificate.objects.exists()


def test_revoking_from_its_page_needs_a_reason(graduate, admin, admin_client):
    certificate = certificate_issue(enrollment=graduate(), actor=admin)
    url = reverse("delivery:certificate_revoke", args=[certificate.pk])

    refused = admin_client.post(url, {"reason": ""})
    assert refused.status_code == 200
    assert "This field is required" in refused.content.decode()
    certificate.refresh_from_db()
    assert not certificate.is_revoked

    done = admin_client.post(url, {"reason": "Issued in error"})
    assert done.status_code == 302
    certificate.refresh_from_db()
    assert certificate.is_revoked


def test_reissuing_from_its_page_leads_to_the_new_one(graduate, admin, admin_client):
    old = certificate_issue(enrollment=graduate(), actor=admin)
    response = admin_client.post(
        reverse("delivery:certificate_reissue", args=[old.pk]), {"reason": "Name corrected"}
    )
    new = Certificate.objects.get(replaces=old)
    assert response.url == reverse("delivery:certificate", args=[new.pk])
    assert (
        "Replaced by"
        in admin_client.get(reverse("delivery:certificate", args=[old.pk])).content.decode()
    )


def test_template_wording_is_edited_and_previewed(institution, admin_client):
    url = reverse("delivery:certificate_template_edit", args=[CertificateKind.CERTIFICATE])
    assert "Certificate of completion" in admin_client.get(url).content.decode()

    refused = admin_client.post(url, {"title": "Certificate", "body": "{learner} {nickname}"})
    assert "Unknown field {nickname}" in refused.content.decode()

    saved = admin_client.post(
        url, {"title": "National Certificate", "body": "{learner} completed {programme}."}
    )
    assert saved.status_code == 302
    preview = admin_client.get(
        reverse("delivery:certificate_template_preview", args=[CertificateKind.CERTIFICATE])
    )
    assert preview["Content-Type"] == "application/pdf"
    assert preview.content.startswith(b"%PDF")
    assert admin_client.get("/delivery/certificates/templates/nonsense/").status_code == 404


def test_the_index_lists_cohorts_with_their_counts(graduate, admin, admin_client):
    enrollment = graduate()
    certificate_issue(enrollment=enrollment, actor=admin)
    page = admin_client.get(reverse("delivery:certificates")).content.decode()
    assert enrollment.cohort.name in page


@pytest.mark.parametrize(
    "name", ["delivery:certificate", "delivery:certificate_pdf", "delivery:certificate_revoke"]
)
def test_people_who_do_not_issue_certificates_get_404(graduate, admin, client_of, name):
    certificate = certificate_issue(enrollment=graduate(), actor=admin)
    trainer = TrainerFactory().user
    learner = certificate.enrollment.user
    for person in (trainer, learner, UserFactory(roles=[SystemRole.MODERATOR])):
        client = client_of(person)
        assert client.get(reverse(name, args=[certificate.pk])).status_code == 404
        assert (
            client.get(
                reverse("delivery:cohort_certificates", args=[certificate.enrollment.cohort_id])
            ).status_code
            == 404
        )
    assert AuditEvent.objects.filter(action="permission.denied", actor=trainer).exists()


def test_a_trainer_cannot_issue_by_posting(graduate, client_of):
    enrollment = graduate()
    trainer = TrainerFactory().user
    response = client_of(trainer).post(
        reverse("delivery:certificate_issue", args=[enrollment.cohort.pk, enrollment.pk])
    )
    assert response.status_code == 404
    assert not Certificate.objects.exists()


# The learner's


def test_a_learner_downloads_their_certificate_and_transcript(graduate, admin, client_of):
    enrollment = graduate()
    certificate = certificate_issue(enrollment=enrollment, actor=admin)
    client = client_of(enrollment.user)

    page = client.get(reverse("delivery:my_certificates")).content.decode()
    assert "Download certificate" in page
    assert certificate.verification_code in page
    download = client.get(reverse("delivery:my_certificate_pdf", args=[certificate.pk]))
    assert _body(download) == _pdf(certificate)
    transcript = client.get(reverse("delivery:my_transcript", args=[enrollment.pk]))
    assert transcript.status_code == 200
    assert "attachment" in transcript["Content-Disposition"]
    assert pdf_seal_check(transcript.content, certificates=certificates_for_verify()).ok


def test_a_learner_reaches_only_their_own(graduate, programme_runs, admin, client_of):
    mine = graduate(programme_runs())
    theirs = graduate(programme_runs())
    other = certificate_issue(enrollment=theirs, actor=admin)
    client = client_of(mine.user)

    assert client.get(reverse("delivery:my_certificate_pdf", args=[other.pk])).status_code == 404
    assert client.get(reverse("delivery:my_transcript", args=[theirs.pk])).status_code == 404
    assert (
        other.verification_code
        not in client.get(reverse("delivery:my_certificates")).content.decode()
    )


def test_a_revoked_certificate_is_no_longer_offered_to_the_learner(graduate, admin, client_of):
    enrollment = graduate(outcome=ProgrammeOutcome.NOT_YET_COMPETENT)
    statement = certificate_issue(enrollment=enrollment, actor=admin)
    certificate_revoke(certificate=statement, actor=admin, reason="Issued in error")
    client = client_of(enrollment.user)

    assert (
        client.get(reverse("delivery:my_certificate_pdf", args=[statement.pk])).status_code == 404
    )
    page = client.get(reverse("delivery:my_certificates")).content.decode()
    assert "statement of results is being prepared" in page


# The verify page


def test_the_verify_page_checks_a_code(graduate, admin, public_client):
    certificate = certificate_issue(enrollment=graduate(full_name="Thandi Mokoena"), actor=admin)
    url = reverse("delivery_public:verify")

    response = public_client.get(url, {"code": certificate.verification_code.lower()})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Valid certificate" in page
    assert "Thandi Mokoena" in page
    assert "Business communication" in page
    assert certificate.enrollment.user.email not in page

    unknown = public_client.get(url, {"code": "AAAA-BBBB-CCCC-DDDD"})
    assert unknown.status_code == 404
    assert "No certificate has this code" in unknown.content.decode()

    certificate_revoke(certificate=certificate, actor=admin, reason="Fraudulent results")
    revoked = public_client.get(url, {"code": certificate.verification_code})
    page = revoked.content.decode()
    assert "Revoked" in page
    assert "Fraudulent results" not in page
    # A revoked certificate shows that it is revoked, when, its kind and code; not its contents.
    assert "Revoked on " in page
    assert certificate.verification_code in page
    assert "Certificate" in page
    assert "Thandi Mokoena" not in page
    assert "Business communication" not in page
    assert "Credits achieved" not in page


def test_the_verify_page_checks_a_pdf_and_refuses_a_changed_one(graduate, admin, public_client):
    certificate = certificate_issue(enrollment=graduate(), actor=admin)
    pdf = _pdf(certificate)
    url = reverse("delivery_public:verify")

    genuine = public_client.post(
        url, {"document": SimpleUploadedFile("c.pdf", pdf, "application/pdf")}
    )
    assert genuine.status_code == 200
    assert "Valid certificate" in genuine.content.decode()

    changed = bytearray(pdf)
    changed[len(pdf) // 2] ^= 0x01
    refused = public_client.post(
        url, {"document": SimpleUploadedFile("c.pdf", bytes(changed), "application/pdf")}
    )
    assert refused.status_code == 422
    assert "Not verified" in refused.content.decode()


def test_the_verify_page_refuses_an_oversized_upload_before_reading_it(public_client):
    response = public_client.post(
        reverse("delivery_public:verify"),
        data=b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(20 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "larger than any certificate we issue" in response.content.decode()


def test_the_verify_page_is_rate_limited_per_address(public_client):
    url = reverse("delivery_public:verify")
    for _ in range(int(VERIFY_RATE.split("/")[0])):
        assert public_client.get(url, {"code": "AAAA-BBBB-CCCC-DDDD"}).status_code == 404
    limited = public_client.get(url, {"code": "AAAA-BBBB-CCCC-DDDD"})
    assert limited.status_code == 429
    assert "Too many checks from your address" in limited.content.decode()
    assert public_client.get(url).status_code == 200  # the empty page is not counted


def test_transcripts_are_rate_limited_per_person(graduate, admin, client_of):
    enrollment = graduate()
    certificate = certificate_issue(enrollment=enrollment, actor=admin)
    client = client_of(enrollment.user)
    url = reverse("delivery:my_transcript", args=[enrollment.pk])
    for _ in range(int(TRANSCRIPT_RATE.split("/")[0])):
        assert client.get(url).status_code == 200

    limited = client.get(url)

    assert limited.status_code == 429
    assert "Try the transcript again later" in limited.content.decode()
    assert "try again in an hour" in limited.content.decode().lower()
    download = client.get(reverse("delivery:my_certificate_pdf", args=[certificate.pk]))
    assert download.status_code == 200  # the certificate is not limited
    other = graduate(full_name="Sipho Dlamini")
    assert (
        client_of(other.user).get(reverse("delivery:my_transcript", args=[other.pk])).status_code
        == 200
    )  # another person has their own count
