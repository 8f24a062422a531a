"""Supporting agreements (a POPIA consent form, a code of conduct): sent to each student with the
main agreement, signed by the student in the portal once the main agreement is signed, a
condition of the enrolment's completion; a decline tells the admins and the student may sign
again; a closed cohort refuses them and keeps the signed copies for the student."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from cohorts.services import cohort_activate, cohort_record_admin_signature
from enrolments.agreements import enrollment_agreement_sign
from enrolments.models import CohortEnrollment, EnrollmentState, SupportingAgreement
from enrolments.reminders import ReminderCadence, enrollment_remind
from enrolments.selectors import StepStatus, enrollment_steps, enrollments_lacking_supporting
from enrolments.services import enrollment_details_save, enrollment_withdraw
from enrolments.supporting import supporting_agreement_start
from enrolments.tasks import supporting_agreements_send_task
from learners.services import learner_national_id
from notifications.models import OutboundEmail
from notifications.services import email_render
from signing.documents import sha256_hex
from signing.models import SigningLink, Submission, SubmissionStatus
from signing.selectors import link_for_token, submissions_for_subject
from signing.services.completion import submitter_sign
from signing.services.templates import template_create
from tests.factories import CohortFactory
from tests.learners.support import consents_give
from tests.signing.conftest import pdf_text_contains, token_from
from verification.services import document_review

from .conftest import upload_document
from .test_views import DETAILS

pytestmark = pytest.mark.django_db

POPIA_BODY = (
    "<p>I, {{ student.full_name }}, consent to {{ institution.name }} processing my personal "
    "information for {{ cohort.name }}, as the Protection of Personal Information Act allows.</p>"
)


@pytest.fixture
def popia(admin):
    return template_create(
        title="POPIA consent", body=POPIA_BODY, signer_roles=["student"], actor=admin
    )


@pytest.fixture
def conduct(admin):
    return template_create(
        title="Code of conduct",
        body="<p>{{ student.full_name }} keeps the code of conduct.</p>",
        signer_roles=["student"],
        actor=admin,
    )


@pytest.fixture
def running(admin, popia, django_capture_on_commit_callbacks):
    """Activate a draft cohort that asks for `templates` (POPIA consent by default) as an admin
    does, running what its activation queues."""

    def make(*templates):
        cohort = CohortFactory(created_by=admin)
        cohort.supporting_templates.set(templates or [popia])
        cohort_record_admin_signature(cohort=cohort, actor=admin, signature="Ada Admin")
        with django_capture_on_commit_callbacks(execute=True):
            return cohort_activate(cohort=cohort, actor=admin)

    return make


def _supporting(enrollment) -> list[SupportingAgreement]:
    return list(enrollment.supporting_agreements.order_by("template__title"))


def _main_signed(enrollment):
    return enrollment_agreement_sign(enrollment=enrollment, actor=enrollment.user, signature="S")


def _everything_but_supporting(enrollment, admin):
    """Details given, documents verified and the main agreement signed."""
    from learners.forms import LearnerDetailsForm

    form = LearnerDetailsForm(DETAILS)
    assert form.is_valid(), form.errors
    enrollment_details_save(enrollment=enrollment, actor=enrollment.user, details=form.details())
    consents_give(enrollment.learner)
    for document_type in enrollment.cohort.required_document_types.all():
        document_review(
            document=upload_document(enrollment, document_type), reviewer=admin, approve=True
        )
    _main_signed(enrollment)


def _sign(url: str, name: str = "Sipho Student") -> None:
    submitter_sign(
        link=link_for_token(token_from(url)), signed_name=name, consent=True, signature_text=name
    )


def test_activating_a_cohort_sends_each_student_their_supporting_agreements_once(
    admin, enrol, popia, conduct, eager, django_capture_on_commit_callbacks
):
    cohort = CohortFactory(created_by=admin)
    cohort.supporting_templates.set([popia, conduct])
    with django_capture_on_commit_callbacks(execute=True):
        first, second = enrol(cohort=cohort), enrol(cohort=cohort)
    assert _supporting(first) == []  # a draft sends nothing
    assert list(enrollments_lacking_supporting(cohort=cohort)) == [first, second]
    cohort_record_admin_signature(cohort=cohort, actor=admin, signature="Ada Admin")

    with django_capture_on_commit_callbacks(execute=True):
        cohort_activate(cohort=cohort, actor=admin)

    for enrollment in (first, second):
        agreements = _supporting(enrollment)
        assert [agreement.template for agreement in agreements] == [conduct, popia]
        for agreement in agreements:
            [submission] = submissions_for_subject(agreement)
            assert submission.status == SubmissionStatus.PENDING
            [signer] = submission.submitters.all()
            assert (signer.role, signer.user) == ("student", enrollment.user)
            # No link and no e-mail: the student signs from the portal.
            assert not SigningLink.objects.filter(submitter=signer).exists()
        # The main agreement is its own: the supporting ones do not count as it.
        assert len(submissions_for_subject(enrollment)) == 1
        assert (
            AuditEvent.objects.filter(
                action="enrollment.supporting_agreement_sent", entity_id=str(enrollment.pk)
            ).count()
            == 2
        )
    assert "I, Sipho Student, consent to" in (
        submissions_for_subject(_supporting(first)[1]).get().html
    )
    assert not OutboundEmail.objects.filter(template="signing_request").exists()

    assert list(enrollments_lacking_supporting(cohort=cohort)) == []
    before = Submission.objects.count()
    assert supporting_agreements_send_task.apply(args=[cohort.pk]).get() == 0
    assert supporting_agreements_send_task.apply(args=[cohort.pk, [first.pk]]).get() == 0
    assert Submission.objects.count() == before


def test_enrolling_into_an_active_cohort_sends_the_supporting_agreement_after_commit(
    enrol, running, eager, django_capture_on_commit_callbacks
):
    cohort = running()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enrollment = enrol(cohort=cohort)
    assert _supporting(enrollment) == []  # nothing rendered in the request

    for callback in callbacks:
        callback()

    [agreement] = _supporting(enrollment)
    assert submissions_for_subject(agreement).get().status == SubmissionStatus.PENDING


def test_a_supporting_agreement_waits_for_the_main_agreement(
    enrol, running, popia, client_of, eager, django_capture_on_commit_callbacks
):
    cohort = running()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    client = client_of(enrollment.user)
    url = reverse("enrolments:supporting", args=[enrollment.pk, popia.pk])

    with pytest.raises(ValidationError, match="Sign your agreement first"):
        supporting_agreement_start(enrollment=enrollment, template=popia, actor=enrollment.user)
    [step] = [step for step in enrollment_steps(enrollment) if step.kind == "supporting"]
    assert (step.title, step.status) == ("POPIA consent", StepStatus.UNAVAILABLE)
    detail = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()
    assert "After your agreement" in detail
    assert "You can sign it once you have signed your agreement above." in detail
    assert url not in detail
    page = client.post(url).content.decode()
    assert "Sign your agreement first: “POPIA consent” comes after it." in page

    _main_signed(enrollment)

    started = client.post(url)
    link = link_for_token(token_from(started["Location"]))
    [agreement] = _supporting(enrollment)
    assert link.submitter.submission == submissions_for_subject(agreement).get()


def test_the_enrolment_completes_only_once_every_supporting_agreement_is_signed(
    admin, enrol, running, popia, conduct, client_of, eager, django_capture_on_commit_callbacks
):
    cohort = running(popia, conduct)
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    _everything_but_supporting(enrollment, admin)
    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.IN_PROGRESS
    completion = OutboundEmail.objects.filter(template="enrollment_complete")

    _sign(supporting_agreement_start(enrollment=enrollment, template=popia, actor=enrollment.user))

    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.IN_PROGRESS
    assert not completion.exists()
    signed = SupportingAgreement.objects.get(enrollment=enrollment, template=popia)
    assert signed.signature == "Sipho Student"
    assert AuditEvent.objects.filter(
        action="enrollment.supporting_agreement_signed", entity_id=str(signed.pk)
    ).exists()

    _sign(
        supporting_agreement_start(enrollment=enrollment, template=conduct, actor=enrollment.user)
    )

    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.COMPLETE
    assert completion.count() == 1
    page = client_of(enrollment.user).get(reverse("enrolments:detail", args=[enrollment.pk]))
    assert "All done." in page.content.decode()
    assert "7 of 7 steps done" in page.content.decode()
    with pytest.raises(ValidationError, match="This enrolment is complete."):
        supporting_agreement_start(enrollment=enrollment, template=popia, actor=enrollment.user)


def test_signing_from_the_portal_returns_there_with_a_message_and_the_signed_copy(
    enrol, running, popia, client_of, eager, django_capture_on_commit_callbacks
):
    cohort = running()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    _main_signed(enrollment)
    client = client_of(enrollment.user)
    sign_path = client.post(reverse("enrolments:supporting", args=[enrollment.pk, popia.pk]))[
        "Location"
    ]

    signed = client.post(
        sign_path,
        {"action": "sign", "signed_name": "Sipho Student", "signature_text": "S", "consent": "on"},
        follow=True,
    )

    detail_path = reverse("enrolments:detail", args=[enrollment.pk])
    assert signed.redirect_chain[-1][0] == f"{detail_path}#supporting-{popia.pk}"
    page = signed.content.decode()
    assert "You signed “POPIA consent”." in page
    assert "Signed as “Sipho Student”" in page
    pdf_url = reverse("enrolments:supporting_pdf", args=[enrollment.pk, popia.pk])
    assert pdf_url in page
    response = client.get(pdf_url)
    assert response["Content-Type"] == "application/pdf"
    [agreement] = _supporting(enrollment)
    sealed = submissions_for_subject(agreement).get()
    assert sha256_hex(b"".join(response.streaming_content)) == sealed.final_sha256
    # Nobody else's: another student of the cohort finds nothing there.
    other = enrol(cohort=cohort)
    assert client_of(other.user).get(pdf_url).status_code == 404
    with pytest.raises(PermissionDenied):
        supporting_agreement_start(enrollment=enrollment, template=popia, actor=other.user)


def test_a_declined_supporting_agreement_tells_the_admins_and_can_be_signed_again(
    admin, admin_client, enrol, running, popia, client_of, eager, django_capture_on_commit_callbacks
):
    cohort = running()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    _main_signed(enrollment)
    client = client_of(enrollment.user)
    url = reverse("enrolments:supporting", args=[enrollment.pk, popia.pk])
    sign_path = client.post(url)["Location"]

    declined = client.post(
        sign_path, {"action": "decline", "reason": "Why keep my data for five years?"}, follow=True
    )

    assert declined.redirect_chain[-1][0] == url
    assert "You declined “POPIA consent”. The institution has been told" in (
        declined.content.decode()
    )
    [agreement] = _supporting(enrollment)
    [first] = submissions_for_subject(agreement)
    assert first.status == SubmissionStatus.DECLINED
    email = OutboundEmail.objects.get(template="student_agreement_declined")
    assert email.recipient == admin.email
    message = email_render(email)
    assert 'Sipho Student has declined "POPIA consent"' in message.body
    assert "Their reason: Why keep my data for five years?" in message.body
    assert AuditEvent.objects.filter(
        action="enrollment.supporting_agreement_declined", entity_id=str(agreement.pk)
    ).exists()
    enrollment.refresh_from_db()
    [step] = [step for step in enrollment_steps(enrollment) if step.kind == "supporting"]
    assert (step.status, step.decline_reason) == (
        StepStatus.DECLINED,
        "Why keep my data for five years?",
    )
    assert "Sign it now" in client.get(url).content.decode()
    # The e-mail's link: the enrolment's page says which agreement was declined.
    review = admin_client.get(f"/review/enrolments/{enrollment.pk}/").content.decode()
    assert 'POPIA consent</span> <span class="badge text-bg-danger">Declined</span>' in review

    again = client.post(url)

    link = link_for_token(token_from(again["Location"]))
    assert link.submitter.submission_id != first.pk
    submitter_sign(link=link, signed_name="Sipho Student", consent=True, signature_text="S")
    agreement.refresh_from_db()
    assert agreement.signed_at is not None
    assert [submission.status for submission in submissions_for_subject(agreement)] == [
        SubmissionStatus.COMPLETED,
        SubmissionStatus.DECLINED,
    ]


def test_a_closed_cohort_refuses_supporting_agreements_and_keeps_the_signed_copies(
    enrol, running, popia, conduct, client_of, close, eager, django_capture_on_commit_callbacks
):
    cohort = running(popia, conduct)
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    _main_signed(enrollment)
    _sign(supporting_agreement_start(enrollment=enrollment, template=popia, actor=enrollment.user))
    waiting = supporting_agreement_start(
        enrollment=enrollment, template=conduct, actor=enrollment.user
    )

    close(cohort)

    with pytest.raises(ValidationError, match="its agreements can no longer be signed"):
        supporting_agreement_start(enrollment=enrollment, template=conduct, actor=enrollment.user)
    # The one it was waiting for no longer applies: its link is revoked.
    assert link_for_token(token_from(waiting)).state == "revoked"
    [conduct_agreement] = SupportingAgreement.objects.filter(template=conduct)
    assert submissions_for_subject(conduct_agreement).get().status == SubmissionStatus.REVOKED
    client = client_of(enrollment.user)
    detail = client.get(reverse("enrolments:detail", args=[enrollment.pk])).content.decode()
    assert "the supporting agreements you signed" in detail
    assert reverse("enrolments:supporting_pdf", args=[enrollment.pk, popia.pk]) in detail
    assert "Not signed before the cohort closed." in detail
    page = client.get(reverse("enrolments:supporting", args=[enrollment.pk, conduct.pk]))
    assert "its agreements can no longer be signed" in page.content.decode()
    assert "<form" not in page.content.decode().split("<main", 1)[1]
    pdf = client.get(reverse("enrolments:supporting_pdf", args=[enrollment.pk, popia.pk]))
    assert pdf["Content-Type"] == "application/pdf"


def test_withdrawing_a_student_revokes_their_waiting_supporting_agreements(
    admin, enrol, running, eager, django_capture_on_commit_callbacks
):
    cohort = running()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    [agreement] = _supporting(enrollment)

    enrollment_withdraw(enrollment=enrollment, actor=admin, reason="Moved away")

    assert submissions_for_subject(agreement).get().status == SubmissionStatus.REVOKED
    assert supporting_agreements_send_task.apply(args=[cohort.pk]).get() == 0


def test_a_cohort_without_supporting_agreements_completes_as_before(enrol, admin):
    enrollment = enrol()
    _everything_but_supporting(enrollment, admin)
    enrollment.refresh_from_db()
    assert enrollment.state == EnrollmentState.COMPLETE
    assert [step.kind for step in enrollment_steps(enrollment)].count("supporting") == 0


def test_a_reminder_lists_a_supporting_agreement_once_it_can_be_signed(
    admin, enrol, running, eager, django_capture_on_commit_callbacks
):
    cohort = running()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    _everything_but_supporting(enrollment, admin)
    CohortEnrollment.objects.filter(pk=enrollment.pk).update(
        invited_at=timezone.now() - timedelta(days=4)
    )

    assert enrollment_remind(
        enrollment=enrollment, cadence=ReminderCadence(every=timedelta(days=3), max_reminders=5)
    )

    email = OutboundEmail.objects.get(template="reminder", recipient=enrollment.user.email)
    assert email.context["outstanding"] == ["POPIA consent: sign it"]


def test_signing_from_the_link_without_the_portal_ends_on_the_signing_pages_own_answer(
    enrol, running, popia, institution, client_for, eager, django_capture_on_commit_callbacks
):
    """Only the student signed in to their own account goes back to the portal: anyone else
    with the link (the student on another device, say) gets the page that says it is done."""
    cohort = running()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)
    _main_signed(enrollment)
    url = supporting_agreement_start(enrollment=enrollment, template=popia, actor=enrollment.user)

    response = client_for(institution).post(
        f"/sign/{token_from(url)}/",
        {"action": "sign", "signed_name": "Sipho Student", "signature_text": "S", "consent": "on"},
    )

    assert response.status_code == 200
    assert "Thank you, you have signed" in response.content.decode()
    assert SupportingAgreement.objects.get(enrollment=enrollment).signed_at is not None


def test_the_supporting_callbacks_and_the_way_back_are_registered_at_start_up():
    from enrolments import supporting
    from signing import callbacks

    assert callbacks.callback_for(supporting.ON_COMPLETE) is supporting.supporting_agreement_signed
    assert callbacks.callback_for(supporting.ON_DECLINE) is (
        supporting.supporting_agreement_declined
    )
    assert callbacks.return_for("enrolments.supportingagreement") is supporting.signing_return
    with pytest.raises(ImproperlyConfigured, match="already registered"):
        callbacks.register_return("enrolments.supportingagreement", supporting.signing_return)


def test_a_supporting_agreement_keeps_the_learners_id_number_in_its_pdf_only(
    admin, enrol, running, eager, django_capture_on_commit_callbacks
):
    consent = template_create(
        title="ID consent",
        body="<p>I, {{ student.full_name }} ({{ student.id_number }}), consent.</p>",
        signer_roles=["student"],
        actor=admin,
    )
    cohort = running(consent)
    with django_capture_on_commit_callbacks(execute=False) as sending:
        enrollment = enrol(cohort=cohort)
    _everything_but_supporting(enrollment, admin)  # her details, ID number included
    for send in sending:
        send()
    supporting_agreement_start(enrollment=enrollment, template=consent, actor=enrollment.user)
    [agreement] = _supporting(enrollment)
    submission = submissions_for_subject(agreement).get()
    enrollment.refresh_from_db()
    id_number = learner_national_id(enrollment.learner)
    assert id_number not in str(submission.context)
    assert id_number not in submission.html
    with submission.original_pdf.open("rb") as stored:
        assert pdf_text_contains(stored.read(), id_number)


def test_a_supporting_agreement_sent_before_the_id_number_was_given_is_made_again_with_it(
    admin, enrol, running, eager, django_capture_on_commit_callbacks
):
    consent = template_create(
        title="ID consent",
        body="<p>I, {{ student.full_name }} ({{ student.id_number }}), consent.</p>",
        signer_roles=["student"],
        actor=admin,
    )
    cohort = running(consent)
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=cohort)  # sent now, before her details
    [agreement] = _supporting(enrollment)
    first = submissions_for_subject(agreement).get()
    assert first.context["student.id_number"] == "(not given yet)"

    _everything_but_supporting(enrollment, admin)
    supporting_agreement_start(enrollment=enrollment, template=consent, actor=enrollment.user)
    first.refresh_from_db()
    assert first.status == SubmissionStatus.REVOKED
    current = submissions_for_subject(agreement).filter(status=SubmissionStatus.PENDING).get()
    enrollment.refresh_from_db()
    id_number = learner_national_id(enrollment.learner)
    assert id_number not in str(current.context)
    with current.original_pdf.open("rb") as stored:
        assert pdf_text_contains(stored.read(), id_number)
