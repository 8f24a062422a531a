import io
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from signing.models import (
    AgreementTemplate,
    InstitutionCertificate,
    SubmissionStatus,
    TemplateVersion,
)
from signing.sealing import pdf_seal_check
from signing.selectors import link_for_token, template_preview_pdf
from signing.services.completion import submitter_decline, submitter_open, submitter_sign
from signing.services.templates import template_create, template_update
from tests.factories import UserFactory
from tests.signing.conftest import (
    BODY,
    first_page_text,
    last_link_to,
    pdf_text,
    pdf_text_contains,
    png_signature,
)

pytestmark = pytest.mark.django_db


def _sign(email: str, **kwargs):
    link = link_for_token(last_link_to(email))
    values = {"signed_name": "Signer", "consent": True, "signature_text": "Signer"} | kwargs
    return submitter_sign(link=link, **values)


def _sign_all(submission):
    for submitter in submission.submitters.order_by("order"):
        _sign(submitter.email, signed_name=submitter.name, signature_text=submitter.name)
    submission.refresh_from_db()
    return submission


def test_template_with_an_unknown_merge_field_is_refused(admin):
    with pytest.raises(ValidationError) as error:
        template_create(
            title="T",
            body="<p>{{ student.full_name }} {{ student.shoe_size }}</p>",
            signer_roles=["student"],
            actor=admin,
        )
    assert "{{ student.shoe_size }}" in str(error.value.message_dict["body"])
    assert not AgreementTemplate.objects.filter(title="T").exists()


def test_template_body_is_sanitised(admin):
    template = template_create(
        title="T",
        body='<p onclick="x()">Hi<script>alert(1)</script></p>',
        signer_roles=["student"],
        actor=admin,
    )
    assert template.body == "<p>Hi</p>"


def test_template_needs_known_signer_roles(admin):
    with pytest.raises(ValidationError) as error:
        template_create(title="T", body="<p>x</p>", signer_roles=["king"], actor=admin)
    assert "signer_roles" in error.value.message_dict


def test_only_admins_write_templates(institution):
    student = UserFactory(roles=[SystemRole.STUDENT])
    with pytest.raises(PermissionDenied):
        template_create(title="T", body="<p>x</p>", signer_roles=["student"], actor=student)


def test_preview_renders_a_pdf_with_example_values(template):
    pdf = template_preview_pdf(template=template)
    assert pdf.startswith(b"%PDF")
    assert pdf_text_contains(pdf, "Thandi Mokoena")


def test_editing_an_unsent_template_keeps_its_version(template, admin):
    template_update(
        template=template, title="Renamed", body=BODY, signer_roles=["student"], actor=admin
    )
    template.refresh_from_db()
    assert template.version == 1
    assert TemplateVersion.objects.get(template=template).title == "Renamed"


def test_sent_submission_is_unaffected_by_a_later_template_edit(template, admin, make_submission):
    submission = make_submission()
    original = submission.original_pdf.read()
    template_update(
        template=template,
        title="Learnership agreement",
        body="<p>Entirely new terms.</p>",
        signer_roles=["student", "sponsor", "institution_admin"],
        actor=admin,
    )
    template.refresh_from_db()
    submission.refresh_from_db()
    assert template.version == 2
    assert submission.template_version.number == 1
    assert submission.template_version.body == BODY
    with submission.original_pdf.open("rb") as stored:
        assert stored.read() == original
    assert pdf_text_contains(original, "Analytics 2027")
    _sign_all(submission)
    submission.refresh_from_db()
    with submission.final_pdf.open("rb") as stored:
        final = stored.read()
    assert pdf_text_contains(final, "Analytics 2027")
    assert not pdf_text_contains(final, "Entirely new terms")


def test_submission_needs_every_merge_value(template, admin):
    from signing.services.submissions import submission_create

    with pytest.raises(ValidationError, match="sponsor.company_name"):
        submission_create(
            template=template,
            context={"student.full_name": "A", "cohort.name": "B"},
            signers=[{"role": "student", "name": "A", "email": "a@example.org"}],
            actor=admin,
        )


def test_signing_order_is_enforced(make_submission):
    submission = make_submission()
    student, sponsor, admin_signer = submission.submitters.order_by("order")
    # Only the first signer has a link yet; a link for a later one (e.g. resent) still waits.
    from signing.services.links import link_issue

    url = link_issue(sponsor, notify=True)
    sponsor_link = link_for_token(url.rstrip("/").rsplit("/", 1)[1])
    with pytest.raises(ValidationError, match="Waiting for the student"):
        submitter_sign(link=sponsor_link, signed_name="S", consent=True, signature_text="S")
    with pytest.raises(ValidationError, match="Waiting for the student"):
        submitter_open(link=sponsor_link)
    _sign(student.email)
    sponsor.refresh_from_db()
    assert sponsor.signed_at is None
    _sign(sponsor.email)  # the link e-mailed after the student signed
    assert submission.submitters.get(pk=sponsor.pk).signed_at is not None


def test_declined_submission_stops(make_submission):
    submission = make_submission()
    student = submission.submitters.get(order=1)
    token = last_link_to(student.email)
    submitter_decline(link=link_for_token(token), reason="The dates do not suit me.")
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.DECLINED
    assert link_for_token(token).state == "used"
    assert not submission.submitters.filter(order=2, sent_at__isnull=False).exists()
    with pytest.raises(PermissionDenied):
        _sign(student.email)
    assert AuditEvent.objects.filter(action="signing.submission_declined").exists()
    assert AuditEvent.objects.get(action="test.submission_declined").new_values == {
        "role": "student",
        "reason": "The dates do not suit me.",
    }


def test_decline_needs_a_reason(make_submission):
    submission = make_submission()
    link = link_for_token(last_link_to(submission.submitters.get(order=1).email))
    with pytest.raises(ValidationError):
        submitter_decline(link=link, reason="  ")


def test_sign_needs_consent_and_a_signature(make_submission):
    submission = make_submission()
    link = link_for_token(last_link_to(submission.submitters.get(order=1).email))
    with pytest.raises(ValidationError) as error:
        submitter_sign(link=link, signed_name="A", consent=False, signature_text="")
    assert set(error.value.message_dict) == {"consent", "signature_text"}


def test_expired_link_is_refused(make_submission):
    submission = make_submission()
    link = link_for_token(last_link_to(submission.submitters.get(order=1).email))
    link.expires_at = timezone.now()
    link.save()
    assert link.state == "expired"
    with pytest.raises(PermissionDenied):
        submitter_sign(link=link, signed_name="A", consent=True, signature_text="A")


def test_completion_seals_stamps_mails_and_calls_back(make_submission, admin):
    from notifications.models import OutboundEmail
    from notifications.services import email_render

    submission = make_submission(subject=admin)
    student = submission.submitters.get(order=1)
    _sign(student.email, signature_text="", signature_png=png_signature())
    for submitter in submission.submitters.filter(order__gt=1):
        _sign(submitter.email)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.COMPLETED
    with submission.final_pdf.open("rb") as stored:
        final = stored.read()
    assert submission.final_sha256
    assert submission.final_sha256 != submission.original_sha256
    assert final.startswith(submission.original_pdf.open("rb").read()[:8])
    assert pdf_text_contains(final, "Audit certificate")
    stamp = first_page_text(final)  # the signatures' band on the document's own pages
    assert "Institution admin" in stamp
    assert "Sponsor" in stamp
    assert pdf_text_contains(final, submission.original_sha256)
    certificate_text = pdf_text(final)
    signed_hex = re.search(
        r"signed document \(its pages with the signatures, before this certificate\) "
        r"([0-9a-f ]+)",
        certificate_text,
    )
    assert signed_hex is not None
    signed_sha256 = signed_hex.group(1).replace(" ", "")
    assert len(signed_sha256) == 64
    assert signed_sha256 not in (submission.original_sha256, submission.final_sha256)
    assert f"E-mailed link to {student.email}" in certificate_text
    check = pdf_seal_check(final, certificates=list(InstitutionCertificate.objects.all()))
    assert check.ok, check.reason
    assert submission.submitters.get(pk=student.pk).signature_image
    assert AuditEvent.objects.filter(
        action="test.submission_completed", entity_id=str(admin.pk)
    ).exists()
    mails = OutboundEmail.objects.filter(template="signing_completed")
    assert sorted(mails.values_list("recipient", flat=True)) == sorted(
        submission.submitters.values_list("email", flat=True)
    )
    message = email_render(mails.first())
    assert message.attachments[0][1] == final


def test_the_seal_is_an_incremental_update(make_submission):
    """Sealing only appends to the file: every earlier byte, and so any signature already in
    it, stays as it was."""
    from signing.sealing import pdf_seal
    from signing.services.certificates import certificate_for_institution

    with make_submission().original_pdf.open("rb") as stored:
        document = stored.read()
    sealed = pdf_seal(document, certificate=certificate_for_institution(), reason="Test")
    assert sealed.startswith(document)
    assert pdf_seal_check(sealed, certificates=list(InstitutionCertificate.objects.all())).ok


def test_sealed_pdf_changed_by_one_byte_fails_the_check(make_submission):
    submission = _sign_all(make_submission())
    with submission.final_pdf.open("rb") as stored:
        final = bytearray(stored.read())
    # A byte inside the signed document's content, not in the signature itself.
    position = final.index(b"stream") + 20
    final[position] = (final[position] + 1) % 256
    check = pdf_seal_check(bytes(final), certificates=list(InstitutionCertificate.objects.all()))
    assert not check.ok


def test_institution_certificate_key_is_encrypted_at_rest(make_submission):
    _sign_all(make_submission())
    certificate = InstitutionCertificate.objects.get()
    assert b"ENCRYPTED PRIVATE KEY" in bytes(certificate.private_key_encrypted)
    assert io.BytesIO(certificate.certificate_pem.encode()).read().startswith(b"-----BEGIN CERT")


def test_submission_refuses_roles_the_template_does_not_have(template, admin):
    from signing.services.submissions import submission_create

    with pytest.raises(ValidationError, match="no signer role"):
        submission_create(
            template=template,
            context={},
            actor=admin,
            signers=[{"role": "auditor", "name": "A", "email": "a@example.org"}],
        )


def test_submission_refuses_an_unknown_callback(template, admin):
    from signing.services.submissions import submission_create

    with pytest.raises(ValidationError, match="Unknown callback"):
        submission_create(
            template=template,
            context={},
            actor=admin,
            on_complete="nowhere.at_all",
            signers=[{"role": "student", "name": "A", "email": "a@example.org"}],
        )


def test_each_step_is_audited(make_submission, admin):
    from signing.selectors import submissions_for_subject

    submission = _sign_all(make_submission(subject=admin))
    assert list(submissions_for_subject(admin)) == [submission]
    actions = set(
        AuditEvent.objects.filter(
            entity_type="signing.submission", entity_id=str(submission.pk)
        ).values_list("action", flat=True)
    )
    assert {
        "signing.submission_created",
        "signing.link_sent",
        "signing.submission_signed",
        "signing.submission_completed",
    } <= actions
    kinds = list(submission.events.values_list("kind", flat=True))
    assert kinds[0] == "created"
    assert kinds[-1] == "completed"


def test_the_starting_template_has_signers_and_a_first_version(institution):
    template = AgreementTemplate.objects.get(title="Programme participation agreement")
    assert template.signer_roles == ["student", "sponsor", "institution_admin"]
    assert template.versions.get().number == template.version == 1
    assert template_preview_pdf(template=template).startswith(b"%PDF")
