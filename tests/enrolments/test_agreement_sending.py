"""Students' agreements: rendered by a task once the student is in an active cohort, used by the
portal, frozen against later template edits; a decline shows in the portal, tells the admins, and
the student can sign again."""

import importlib

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from cohorts.imports.writing import enrollments_import
from cohorts.services import (
    cohort_activate,
    cohort_cancel,
    cohort_complete,
    cohort_record_admin_signature,
)
from enrolments.agreements import enrollment_agreement_send, enrollment_agreement_start
from enrolments.models import EnrollmentState
from enrolments.selectors import StepStatus, enrollment_steps
from enrolments.services import enrollment_withdraw
from enrolments.tasks import enrollment_agreements_send_task
from learners.services import learner_national_id
from notifications.models import OutboundEmail
from notifications.services import email_render
from signing.documents import sha256_hex
from signing.models import SigningLink, Submission, SubmissionStatus
from signing.selectors import link_for_token, submissions_for_subject
from signing.services.completion import submitter_decline, submitter_sign
from signing.services.templates import template_update
from tests.factories import CohortFactory
from tests.imports.support import student_row
from tests.signing.conftest import others_sign, pdf_text_contains, token_from

pytestmark = pytest.mark.django_db


def _sent(enrollment) -> list[Submission]:
    return list(submissions_for_subject(enrollment))


def test_enrolling_into_an_active_cohort_sends_the_agreement_after_commit_by_a_task(
    enrol, active_cohort, eager, django_capture_on_commit_callbacks
):
    cohort = active_cohort()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enrollment = enrol(cohort=cohort)
    assert _sent(enrollment) == []  # nothing rendered in the request

    for callback in callbacks:
        callback()

    [submission] = _sent(enrollment)
    assert submission.status == SubmissionStatus.PENDING
    # One agreement for every party, in the template's order; only the student is reached now.
    signer, institution = submission.submitters.all()
    assert (signer.role, signer.user, signer.sent_at) == ("student", enrollment.user, None)
    assert (institution.role, institution.user) == ("institution_admin", cohort.admin_signed_by)
    assert not institution.notify_turn
    assert submission.context["student.full_name"] == "Sipho Student"
    # No signing link and no second e-mail: the student signs from the portal.
    assert not SigningLink.objects.filter(submitter=signer).exists()
    assert not OutboundEmail.objects.filter(
        recipient=enrollment.user.email, template="signing_request"
    ).exists()
    assert AuditEvent.objects.filter(
        action="enrollment.agreement_sent", entity_id=str(enrollment.pk)
    ).exists()


def test_enrolling_into_a_draft_cohort_sends_nothing_until_activation(
    enrol, admin, eager, django_capture_on_commit_callbacks
):
    cohort = CohortFactory(created_by=admin)
    with django_capture_on_commit_callbacks(execute=True):
        waiting, withdrawn = enrol(cohort=cohort), enrol(cohort=cohort)
        enrollment_withdraw(enrollment=withdrawn, actor=admin, reason="Moved away")
    assert _sent(waiting) == []
    assert _sent(withdrawn) == []

    cohort_record_admin_signature(cohort=cohort, actor=admin, signature="Ada Admin")
    with django_capture_on_commit_callbacks(execute=True):
        cohort_activate(cohort=cohort, actor=admin)

    assert len(_sent(waiting)) == 1
    assert _sent(withdrawn) == []


def test_a_student_of_a_draft_cohort_cannot_sign_yet(enrol, client_of):
    """The cohort's text may still change while it is a draft, and the institution has not
    signed it: the student signs once the cohort is activated."""
    enrollment = enrol(cohort=CohortFactory())
    with pytest.raises(ValidationError, match="not ready yet"):
        enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)
    assert _sent(enrollment) == []

    client = client_of(enrollment.user)
    detail = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()
    assert "The institution is still preparing the agreement." in detail
    assert reverse("enrolments:agreement", args=[enrollment.pk]) not in detail
    refused = client.post(reverse("enrolments:agreement", args=[enrollment.pk]), follow=True)
    assert "The agreement for this cohort is not ready yet." in refused.content.decode()
    assert _sent(enrollment) == []


def test_running_the_task_again_sends_nobody_a_second_agreement(
    enrol, active_cohort, eager, django_capture_on_commit_callbacks
):
    cohort = active_cohort()
    with django_capture_on_commit_callbacks(execute=True):
        first, second = enrol(cohort=cohort), enrol(cohort=cohort)

    assert enrollment_agreements_send_task.apply(args=[cohort.pk]).get() == 0
    assert enrollment_agreements_send_task.apply(args=[cohort.pk, [first.pk]]).get() == 0
    assert [len(_sent(first)), len(_sent(second))] == [1, 1]


def test_a_spreadsheet_import_into_an_active_cohort_renders_no_agreement_inline(
    active_cohort, admin, eager, django_capture_on_commit_callbacks
):
    cohort = active_cohort()
    rows = [student_row(), student_row()]
    before = Submission.objects.count()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = enrollments_import(cohort=cohort, actor=admin, rows=rows)
    assert result.enrolled == 2
    assert Submission.objects.count() == before

    for callback in callbacks:
        callback()

    for enrollment in cohort.enrollments.all():
        [submission] = _sent(enrollment)
        id_number = learner_national_id(enrollment.learner)
        # The ID number goes into the PDF only, never the stored row.
        assert id_number not in str(submission.context)
        assert id_number not in submission.html
        with submission.original_pdf.open("rb") as stored:
            assert pdf_text_contains(stored.read(), id_number)


def test_the_portal_signs_the_agreement_the_task_sent(
    enrol, active_cohort, client_of, eager, django_capture_on_commit_callbacks
):
    cohort = active_cohort()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    [sent] = _sent(enrollment)
    client = client_of(enrollment.user)
    detail = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()
    assert "Sign your agreement" in detail

    started = client.post(reverse("enrolments:agreement", args=[enrollment.pk]))

    link = link_for_token(token_from(started["Location"]))
    assert link.submitter.submission_id == sent.pk
    assert _sent(enrollment) == [sent]
    pdf_url = reverse("enrolments:agreement_pdf", args=[enrollment.pk])
    assert client.get(pdf_url).status_code == 404
    submitter_sign(link=link, signed_name="Sipho Student", consent=True, signature_text="Sipho")
    enrollment.refresh_from_db()
    assert enrollment.agreement_signed_at is None  # the institution has not signed yet
    page = client.get(reverse("enrolments:agreement", args=[enrollment.pk])).content.decode()
    assert "Signed by every party" not in page
    assert "You have signed. The agreement counts once every party" in page
    assert client.get(pdf_url).status_code == 404

    others_sign(sent)
    enrollment.refresh_from_db()
    assert enrollment.agreement_signature == "Sipho Student"

    # The sealed PDF is the student's to download, and nobody else's.
    page = client.get(reverse("enrolments:agreement", args=[enrollment.pk])).content.decode()
    assert pdf_url in page
    response = client.get(pdf_url)
    assert response["Content-Type"] == "application/pdf"
    sent.refresh_from_db()
    final = b"".join(response.streaming_content)
    assert sha256_hex(final) == sent.final_sha256
    # The audit certificate says how she was reached: signed in, not by an e-mailed link.
    assert pdf_text_contains(final, f"Signed in to their account, {enrollment.user.email}")
    assert pdf_text_contains(final, "Signing started on the page")
    assert not pdf_text_contains(final, "Link e-mailed")
    other = enrol(cohort=cohort)
    assert client_of(other.user).get(pdf_url).status_code == 404


def test_a_later_template_edit_leaves_the_cohorts_agreement_unchanged(
    enrol, active_cohort, admin, client_of, eager, django_capture_on_commit_callbacks
):
    cohort = active_cohort()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    [sent] = _sent(enrollment)
    template = cohort.main_template
    template_update(
        template=template,
        title=template.title,
        body="<p>{{ student.full_name }} agrees to the revised terms.</p>",
        signer_roles=template.signer_roles,
        actor=admin,
    )

    page = client_of(enrollment.user).get(reverse("enrolments:agreement", args=[enrollment.pk]))
    text = page.content.decode()
    assert "By signing, each party accepts these terms." in text
    assert "revised terms" not in text
    url = enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)
    assert link_for_token(token_from(url)).submitter.submission_id == sent.pk
    sent.refresh_from_db()
    assert "revised terms" not in sent.html

    # A student enrolled after the edit gets the text the institution signed for the cohort;
    # a cohort signed after the edit, the new one.
    with django_capture_on_commit_callbacks(execute=True):
        later = enrol(cohort=cohort)
    [later_sent] = _sent(later)
    assert later_sent.template_version == sent.template_version
    assert "revised terms" not in later_sent.html
    next_cohort = active_cohort()
    with django_capture_on_commit_callbacks(execute=True):
        next_student = enrol(cohort=next_cohort)
    assert "Sipho Student agrees to the revised terms." in _sent(next_student)[0].html


def test_a_declined_agreement_shows_in_the_portal_tells_the_admins_and_can_be_signed_again(
    enrol, active_cohort, admin, client_of, eager, django_capture_on_commit_callbacks
):
    cohort = active_cohort()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    client = client_of(enrollment.user)
    agreement_url = reverse("enrolments:agreement", args=[enrollment.pk])
    link = link_for_token(token_from(client.post(agreement_url)["Location"]))

    with django_capture_on_commit_callbacks(execute=False):
        submitter_decline(link=link, reason="Clause 2 says nothing about a stipend.")

    [declined] = _sent(enrollment)
    assert declined.status == SubmissionStatus.DECLINED
    email = OutboundEmail.objects.get(template="student_agreement_declined")
    assert email.recipient == admin.email  # the cohort's admin
    message = email_render(email)
    assert message.subject == f"Sipho Student declined the agreement for {cohort.name}"
    assert "Their reason: Clause 2 says nothing about a stipend." in message.body
    assert f"/review/enrolments/{enrollment.pk}/" in message.body
    assert AuditEvent.objects.filter(
        action="enrollment.agreement_declined", entity_id=str(enrollment.pk)
    ).exists()

    [agreement_step] = [step for step in enrollment_steps(enrollment) if step.kind == "agreement"]
    assert agreement_step.status == StepStatus.DECLINED
    assert agreement_step.is_outstanding
    detail = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()
    assert "You declined this agreement." in detail
    assert "Clause 2 says nothing about a stipend." in detail
    page = client.get(agreement_url).content.decode()
    assert "You declined this agreement" in page
    assert "Sign it now" in page

    again = client.post(agreement_url)

    new_link = link_for_token(token_from(again["Location"]))
    assert new_link.submitter.submission_id != declined.pk
    assert [submission.status for submission in _sent(enrollment)] == [
        SubmissionStatus.PENDING,
        SubmissionStatus.DECLINED,
    ]
    submitter_sign(link=new_link, signed_name="Sipho Student", consent=True, signature_text="Sipho")
    others_sign(new_link.submitter.submission)
    enrollment.refresh_from_db()
    assert enrollment.agreement_signed_at is not None
    assert enrollment.state == EnrollmentState.IN_PROGRESS  # documents still to come
    detail = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()
    assert "You declined this agreement." not in detail
    assert "you signed as “Sipho Student”" in detail


def test_a_cohort_without_a_known_creator_tells_every_admin_of_a_decline(
    enrol, active_cohort, admin, eager, django_capture_on_commit_callbacks
):
    cohort = active_cohort()
    cohort.created_by = None
    cohort.save(update_fields=["created_by"])
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    url = enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)

    submitter_decline(link=link_for_token(token_from(url)), reason="Not now.")

    recipients = set(
        OutboundEmail.objects.filter(template="student_agreement_declined").values_list(
            "recipient", flat=True
        )
    )
    assert {admin.email, "founder@alpha.example"} <= recipients
    assert enrollment.user.email not in recipients


def test_withdrawing_a_student_revokes_their_waiting_agreement(
    enrol, active_cohort, admin, client_of, eager, django_capture_on_commit_callbacks
):
    cohort = active_cohort()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment, classmate = enrol(cohort=cohort), enrol(cohort=cohort)
    started = client_of(enrollment.user).post(reverse("enrolments:agreement", args=[enrollment.pk]))
    link = link_for_token(token_from(started["Location"]))

    enrollment_withdraw(enrollment=enrollment, actor=admin, reason="Moved away")

    [revoked] = _sent(enrollment)
    assert revoked.status == SubmissionStatus.REVOKED
    assert revoked.events.filter(kind="revoked").get().data["reason"] == (
        "The student was withdrawn."
    )
    link.refresh_from_db()
    assert link.state == "revoked"
    assert [s.status for s in _sent(classmate)] == [SubmissionStatus.PENDING]


@pytest.mark.parametrize("ending", ["cancel", "complete"])
def test_a_cohort_that_ends_revokes_the_agreements_still_waiting(
    enrol, active_cohort, admin, eager, django_capture_on_commit_callbacks, ending
):
    cohort = active_cohort()
    with django_capture_on_commit_callbacks(execute=True):
        waiting, signed = enrol(cohort=cohort), enrol(cohort=cohort)
    link = link_for_token(
        token_from(enrollment_agreement_start(enrollment=signed, actor=signed.user))
    )
    submitter_sign(link=link, signed_name="Signed Student", consent=True, signature_text="S")
    others_sign(link.submitter.submission)
    elsewhere = active_cohort()
    with django_capture_on_commit_callbacks(execute=True):
        other = enrol(cohort=elsewhere)

    if ending == "cancel":
        cohort_cancel(cohort=cohort, actor=admin, reason="The sponsor withdrew.")
    else:
        cohort_complete(cohort=cohort, actor=admin, force_reason="Funding year ended.")

    assert [s.status for s in _sent(waiting)] == [SubmissionStatus.REVOKED]
    assert [s.status for s in _sent(signed)] == [SubmissionStatus.COMPLETED]
    assert [s.status for s in _sent(other)] == [SubmissionStatus.PENDING]
    reason = {"cancel": "The cohort was cancelled.", "complete": "The cohort was completed."}
    assert _sent(waiting)[0].events.get(kind="revoked").data["reason"] == reason[ending]


def test_a_waiting_agreement_of_other_text_than_the_institution_signed_is_replaced(enrol, admin):
    """Sent before the cohort kept the text its admin signed (a draft where students could
    sign): the student signs the institution's text instead."""
    from cohorts.models import Cohort

    cohort = CohortFactory(active=True)
    enrollment = enrol(cohort=cohort)
    old = enrollment_agreement_send(enrollment=enrollment)
    template = template_update(
        template=cohort.main_template,
        title=cohort.main_template.title,
        body="<p>{{ student.full_name }} agrees to the signed terms.</p>",
        signer_roles=cohort.main_template.signer_roles,
        actor=admin,
    )
    Cohort.objects.filter(pk=cohort.pk).update(
        main_template_version=template.versions.get(number=template.version)
    )
    enrollment.refresh_from_db()

    link = link_for_token(
        token_from(enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user))
    )

    old.refresh_from_db()
    assert old.status == SubmissionStatus.REVOKED
    assert "agrees to the signed terms" in link.submitter.submission.html


def test_agreements_made_before_the_callbacks_moved_still_reach_them(
    enrol, active_cohort, eager, django_capture_on_commit_callbacks
):
    """Submissions made before the callback registry stored the dotted path of their callbacks:
    the migration that names them instead points the student's stored ones at the registered
    names, and a student who signs such an agreement completes their part."""
    from django.apps import apps

    moved = importlib.import_module("signing.migrations.0008_callback_names")
    cohort = active_cohort()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    [submission] = _sent(enrollment)
    Submission.objects.filter(pk=submission.pk).update(
        on_complete="enrolments.services.enrollment_agreement_signed",
        on_decline="enrolments.services.enrollment_agreement_declined",
    )

    moved.paths_to_names(apps, None)

    submission.refresh_from_db()
    assert (submission.on_complete, submission.on_decline) == (
        "enrolments.agreement_signed",
        "enrolments.agreement_declined",
    )
    url = enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)
    submitter_sign(
        link=link_for_token(token_from(url)),
        signed_name="Sipho Student",
        consent=True,
        signature_text="Sipho",
    )
    others_sign(submission)
    enrollment.refresh_from_db()
    assert enrollment.agreement_signed_at is not None
