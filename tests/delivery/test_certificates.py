"""Certificates and statements of results: templates, issuing (one and a cohort), revoking,
reissuing and checking, each with its audit event."""

# The fixtures are imported from certificate_fixtures; each test's argument names one.
# ruff: noqa: F811

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from guardian.shortcuts import assign_perm

from accounts.models import SystemRole
from accounts.services import role_create
from audit.models import AuditEvent
from delivery.models import Certificate, CertificateKind, CertificateTemplate
from delivery.selectors.certificates import (
    certificate_check_code,
    certificate_check_pdf,
    transcript_pdf,
)
from delivery.services.certificates import (
    certificate_issue,
    certificate_reissue,
    certificate_revoke,
    certificate_template_for,
    certificate_template_save,
    certificates_issue_batch,
    certificates_issue_for_cohort,
    verification_code_normalise,
)
from enrolments.models import ProgrammeOutcome
from signing.sealing import pdf_seal_check
from signing.selectors import certificates_for_verify
from tests.delivery.certificate_fixtures import (  # noqa: F401 (fixtures)
    _media,
    graduate,
    programme_runs,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CODE = re.compile(r"^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$")


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def _pdf(certificate: Certificate) -> bytes:
    with certificate.pdf.open("rb") as stored:
        return stored.read()


def _text(pdf: bytes) -> str:
    import io

    from pypdf import PdfReader

    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def super_admin_actor(institution):
    return UserFactory(roles=[SystemRole.SUPER_ADMIN])


# Issuing


def test_a_completed_learner_gets_a_sealed_certificate_with_frozen_contents(graduate, admin):
    enrollment = graduate(full_name="Thandi Mokoena")

    certificate = certificate_issue(enrollment=enrollment, actor=admin)

    assert certificate.kind == CertificateKind.CERTIFICATE
    assert CODE.match(certificate.verification_code)
    pdf = _pdf(certificate)
    assert pdf_seal_check(pdf, certificates=certificates_for_verify()).ok
    import hashlib

    assert certificate.sha256 == hashlib.sha256(pdf).hexdigest()
    text = _text(pdf)
    for shown in (
        "Certificate of completion",
        "Thandi Mokoena",
        "Business Administration NQF 4",
        "Business communication",
        "Office administration",
        "26 November 2027",
        certificate.verification_code,
    ):
        assert shown in text
    contents = certificate.contents
    assert contents["learner"] == "Thandi Mokoena"
    assert contents["credits_achieved"] == 24
    assert [course["code"] for course in contents["courses"]] == ["BA401", "BA402"]
    assert {course["result"] for course in contents["courses"]} == {"Completed"}
    (event,) = _events("certificate.issued")
    assert event.actor == admin
    assert event.entity_id == str(certificate.pk)
    assert "verification_code" not in event.new_values  # the code opens the verify page
    assert certificate.verification_code not in str([event.old_values, event.new_values])
    assert event.new_values["sha256"] == certificate.sha256


def test_a_learner_who_did_not_complete_gets_a_statement_of_results(graduate, admin):
    enrollment = graduate(outcome=ProgrammeOutcome.NOT_YET_COMPETENT)

    statement = certificate_issue(enrollment=enrollment, actor=admin)

    assert statement.kind == CertificateKind.STATEMENT_OF_RESULTS
    assert [course["result"] for course in statement.contents["courses"]] == [
        "Completed",
        "Not completed",
    ]
    assert statement.contents["credits_achieved"] == 12
    assert "Statement of results" in _text(_pdf(statement))
    assert _events("certificate.issued")[0].new_values["kind"] == "statement_of_results"


def test_no_certificate_before_the_outcome_is_recorded(graduate, admin, media):
    enrollment = graduate()
    enrollment.programme_outcome = ""
    enrollment.save(update_fields=["programme_outcome"])

    with pytest.raises(ValidationError, match="outcome is not recorded"):
        certificate_issue(enrollment=enrollment, actor=admin)

    assert not Certificate.objects.exists()
    assert not _events("certificate.issued")
    assert not [path for path in media.rglob("*.pdf")]


def test_a_second_valid_certificate_is_refused(graduate, admin):
    enrollment = graduate(full_name="Sipho Dlamini")
    certificate_issue(enrollment=enrollment, actor=admin)

    with pytest.raises(ValidationError, match="Sipho Dlamini already has a valid certificate"):
        certificate_issue(enrollment=enrollment, actor=admin)
    assert Certificate.objects.count() == 1


def test_a_cohort_without_a_programme_cannot_issue(graduate, admin):
    enrollment = graduate()
    cohort = enrollment.cohort
    cohort.programme = None
    cohort.save(update_fields=["programme"])
    with pytest.raises(ValidationError, match="no programme"):
        certificate_issue(enrollment=enrollment, actor=admin)


def test_a_trainer_may_not_issue_and_the_refusal_is_audited(graduate):
    enrollment = graduate()
    trainer = UserFactory(roles=[SystemRole.TRAINER])

    with pytest.raises(PermissionDenied):
        certificate_issue(enrollment=enrollment, actor=trainer)

    assert not Certificate.objects.exists()
    refusal = AuditEvent.objects.get(action="permission.denied", actor=trainer)
    assert refusal.entity_id == "delivery.certificate_issue"


def test_an_issuer_limited_to_some_cohorts_issues_only_there(
    graduate, programme_runs, super_admin_actor
):
    role = role_create(
        actor=super_admin_actor,
        name="Certificates officer",
        description="Issues certificates in the cohorts they are given.",
        permission_codes=["delivery.issue_certificates"],
    )
    officer = UserFactory(roles=[role])
    theirs = graduate(programme_runs())
    other = graduate(programme_runs())
    assign_perm("cohorts.review_cohort", officer, theirs.cohort)

    assert certificate_issue(enrollment=theirs, actor=officer).issued_by == officer
    with pytest.raises(PermissionDenied):
        certificate_issue(enrollment=other, actor=officer)
    assert not other.certificates.exists()


# Templates


def test_templates_start_with_default_wording_for_both_kinds(institution):
    certificate = certificate_template_for(CertificateKind.CERTIFICATE)
    statement = certificate_template_for(CertificateKind.STATEMENT_OF_RESULTS)
    assert certificate.pk is None
    assert statement.pk is None
    assert certificate.title == "Certificate of completion"
    assert "{learner}" in certificate.body
    assert "{programme}" in certificate.body
    assert statement.title == "Statement of results"
    assert "not a certificate of completion" in statement.body


def test_saved_wording_is_used_from_then_on_and_issued_ones_keep_theirs(graduate, admin):
    runs_graduate = graduate()
    before = certificate_issue(enrollment=runs_graduate, actor=admin)

    certificate_template_save(
        kind=CertificateKind.CERTIFICATE,
        actor=admin,
        values={
            "title": "National Certificate",
            "body": "{learner} completed {programme} on {completion_date}.",
            "signatory_name": "Dr N. Khumalo",
            "signatory_title": "Principal",
            "footer": "Accredited by the Services SETA, number 12345.",
        },
    )

    after = certificate_issue(enrollment=graduate(), actor=admin)
    assert after.contents["title"] == "National Certificate"
    assert after.contents["body"] == (
        "Thandi Mokoena completed Business Administration NQF 4 on 26 November 2027."
    )
    text = _text(_pdf(after))
    assert "Dr N. Khumalo" in text
    assert "Services SETA" in text
    before.refresh_from_db()
    assert before.contents["title"] == "Certificate of completion"
    (event,) = _events("certificate_template.saved")
    assert event.actor == admin
    assert event.new_values["title"] == "National Certificate"
    assert event.old_values == {}


def test_wording_with_an_unknown_field_is_refused_naming_it(admin):
    with pytest.raises(ValidationError) as refused:
        certificate_template_save(
            kind=CertificateKind.CERTIFICATE,
            actor=admin,
            values={"title": "Certificate", "body": "{learner} of {cohort} and {id_number}."},
        )
    assert "{cohort}, {id_number}" in str(refused.value.message_dict["body"])
    assert not CertificateTemplate.objects.exists()
    assert not _events("certificate_template.saved")


def test_a_trainer_may_not_edit_templates():
    trainer = UserFactory(roles=[SystemRole.TRAINER])
    with pytest.raises(PermissionDenied):
        certificate_template_save(
            kind=CertificateKind.CERTIFICATE, actor=trainer, values={"title": "x", "body": "y"}
        )


def test_an_issuer_limited_to_some_cohorts_may_not_edit_the_institutions_wording(
    graduate, programme_runs, super_admin_actor, client_of
):
    role = role_create(
        actor=super_admin_actor,
        name="Certificates officer",
        description="Issues certificates in the cohorts they are given.",
        permission_codes=["delivery.issue_certificates"],
    )
    officer = UserFactory(roles=[role])
    assign_perm("cohorts.review_cohort", officer, graduate(programme_runs()).cohort)

    with pytest.raises(PermissionDenied):
        certificate_template_save(
            kind=CertificateKind.CERTIFICATE,
            actor=officer,
            values={"title": "Mine", "body": "{learner} did it."},
        )
    assert not CertificateTemplate.objects.exists()
    refusal = AuditEvent.objects.get(action="permission.denied", actor=officer)
    assert refusal.entity_id == "delivery.certificate_template_save"
    client = client_of(officer)
    assert client.get(reverse("delivery:certificates")).status_code == 200
    assert (
        reverse("delivery:certificate_templates")
        not in client.get(reverse("delivery:certificates")).content.decode()
    )
    for url in (
        reverse("delivery:certificate_templates"),
        reverse("delivery:certificate_template_edit", args=[CertificateKind.CERTIFICATE]),
        reverse("delivery:certificate_template_preview", args=[CertificateKind.CERTIFICATE]),
    ):
        assert client.get(url).status_code == 404, url


# Revoking and reissuing


def test_revoking_needs_a_reason_and_is_audited(graduate, admin):
    certificate = certificate_issue(enrollment=graduate(), actor=admin)

    with pytest.raises(ValidationError, match="Give the reason"):
        certificate_revoke(certificate=certificate, actor=admin, reason="  ")
    revoked = certificate_revoke(
        certificate=certificate, actor=admin, reason="Issued before moderation"
    )

    assert revoked.is_revoked
    assert revoked.revoked_by == admin
    assert revoked.revocation_reason == "Issued before moderation"
    (event,) = _events("certificate.revoked")
    assert event.new_values == {
        "sha256": certificate.sha256,
        "revocation_reason": "(changed)",
    }
    with pytest.raises(ValidationError, match="already revoked"):
        certificate_revoke(certificate=revoked, actor=admin, reason="Again")


def test_reissuing_revokes_the_old_one_and_points_back_to_it(graduate, admin):
    enrollment = graduate(full_name="Thandi Mokoena")
    old = certificate_issue(enrollment=enrollment, actor=admin)
    learner = enrollment.learner
    learner.last_name = "Mokoena-Zulu"
    learner.save(update_fields=["last_name"])

    new = certificate_reissue(certificate=old, actor=admin, reason="Surname corrected")

    old.refresh_from_db()
    assert old.is_revoked
    assert old.revocation_reason == "Surname corrected"
    assert new.replaces == old
    assert not new.is_revoked
    assert new.verification_code != old.verification_code
    assert new.contents["learner"] == "Thandi Mokoena-Zulu"
    assert old.contents["learner"] == "Thandi Mokoena"
    assert [event.entity_id for event in _events("certificate.revoked")] == [str(old.pk)]
    (reissued,) = _events("certificate.reissued")
    assert reissued.new_values["replaces"] == old.pk
    assert old.verification_code not in str(reissued.new_values)
    with pytest.raises(ValidationError, match="already reissued"):
        certificate_reissue(certificate=old, actor=admin, reason="Again")


def test_a_changed_outcome_is_reissued_as_the_other_kind(graduate, admin):
    enrollment = graduate(outcome=ProgrammeOutcome.NOT_YET_COMPETENT)
    statement = certificate_issue(enrollment=enrollment, actor=admin)
    enrollment.programme_outcome = ProgrammeOutcome.COMPLETED
    enrollment.save(update_fields=["programme_outcome"])

    certificate = certificate_reissue(
        certificate=statement, actor=admin, reason="Passed the reassessment"
    )

    assert certificate.kind == CertificateKind.CERTIFICATE
    assert certificate.replaces == statement


# A cohort at once


def test_a_cohort_is_issued_in_the_background_to_everyone_due(
    graduate, programme_runs, admin, eager, django_capture_on_commit_callbacks
):
    runs = programme_runs()
    done = graduate(runs)
    certificate_issue(enrollment=done, actor=admin)
    due = [graduate(runs), graduate(runs, outcome=ProgrammeOutcome.WITHDRAWN)]
    waiting = graduate(runs)
    waiting.programme_outcome = ""
    waiting.save(update_fields=["programme_outcome"])

    with django_capture_on_commit_callbacks(execute=True):
        queued = certificates_issue_for_cohort(cohort=runs[0].cohort, actor=admin)

    assert queued == 2
    assert {c.enrollment_id: c.kind for c in Certificate.objects.filter(enrollment__in=due)} == {
        due[0].pk: CertificateKind.CERTIFICATE,
        due[1].pk: CertificateKind.STATEMENT_OF_RESULTS,
    }
    assert not waiting.certificates.exists()
    assert done.certificates.count() == 1
    (started,) = _events("certificate.batch_started")
    assert started.new_values == {"learners": 2}
    assert len(_events("certificate.issued")) == 3
    with pytest.raises(ValidationError, match="already has theirs"):
        certificates_issue_for_cohort(cohort=runs[0].cohort, actor=admin)


def test_a_batch_skips_a_learner_it_cannot_issue_to_and_goes_on(graduate, programme_runs, admin):
    runs = programme_runs()
    first, second = graduate(runs), graduate(runs)
    certificate_issue(enrollment=first, actor=admin)

    outcome = certificates_issue_batch(enrollments=[first, second], actor=admin)

    assert [c.enrollment_id for c in outcome.issued] == [second.pk]
    assert "already has a valid certificate" in outcome.skipped[first.pk]


def test_a_trainer_may_not_issue_for_a_cohort(programme_runs):
    runs = programme_runs()
    with pytest.raises(PermissionDenied):
        certificates_issue_for_cohort(
            cohort=runs[0].cohort, actor=UserFactory(roles=[SystemRole.TRAINER])
        )


# Checking


def test_a_code_verifies_typed_loosely_and_a_revoked_one_verifies_as_revoked(graduate, admin):
    certificate = certificate_issue(enrollment=graduate(), actor=admin)
    typed = certificate.verification_code.lower().replace("-", " ")
    assert verification_code_normalise(typed) == certificate.verification_code

    check = certificate_check_code(typed)
    assert check.ok
    assert check.certificate == certificate

    certificate_revoke(certificate=certificate, actor=admin, reason="Issued in error")
    revoked = certificate_check_code(certificate.verification_code)
    assert not revoked.ok
    assert revoked.revoked
    assert "revoked" in revoked.reason

    unknown = certificate_check_code("AAAA-BBBB-CCCC-DDDD")
    assert not unknown.ok
    assert unknown.certificate is None


def test_the_issued_pdf_verifies_and_one_changed_byte_fails(graduate, admin):
    certificate = certificate_issue(enrollment=graduate(), actor=admin)
    pdf = _pdf(certificate)
    assert certificate_check_pdf(pdf).ok

    for position in (len(pdf) // 3, len(pdf) - 200):
        changed = bytearray(pdf)
        changed[position] = (changed[position] + 1) % 256
        check = certificate_check_pdf(bytes(changed))
        assert not check.ok
        assert check.certificate is None

    certificate_revoke(certificate=certificate, actor=admin, reason="Issued in error")
    revoked = certificate_check_pdf(pdf)
    assert not revoked.ok
    assert revoked.revoked


def test_a_sealed_transcript_is_not_taken_for_a_certificate(graduate):
    enrollment = graduate(outcome=ProgrammeOutcome.NOT_YET_COMPETENT)
    transcript = transcript_pdf(enrollment)

    assert pdf_seal_check(transcript, certificates=certificates_for_verify()).ok
    check = certificate_check_pdf(transcript)
    assert not check.ok
    assert "not a certificate" in check.reason
    text = _text(transcript)
    assert "Transcript of results" in text
    assert "Business communication" in text
    assert "Office administration" in text


def test_the_transcript_shows_courses_still_running_as_in_progress(graduate):
    enrollment = graduate(outcome=ProgrammeOutcome.NOT_YET_COMPETENT)
    enrollment.programme_outcome = ""
    enrollment.save(update_fields=["programme_outcome"])
    assert "In progress" in _text(transcript_pdf(enrollment))
