"""One agreement per learner, signed by every party: the learner in the portal, the sponsor,
then the institution's signatory, who countersigns the cohort's agreements in bulk (a task,
each document its own signature, trail entry and seal)."""

import pytest
from django.urls import reverse

from accounts.services import role_create, user_roles_set
from audit.models import AuditEvent
from enrolments.agreements import agreements_countersign_start, enrollment_agreement_start
from enrolments.models import AgreementCountersigning, CountersigningStatus
from enrolments.selectors import agreements_awaiting_countersign, learner_agreement_counts
from notifications.models import OutboundEmail
from signing.models import SubmissionStatus
from signing.sealing import pdf_seal_check
from signing.selectors import certificates_for_verify, link_for_token, submissions_for_subject
from signing.services.completion import submitter_sign, submitter_sign_in_place
from signing.services.links import link_issue
from sponsors.services import cohort_sponsor_set, sponsor_create
from tests.factories import PASSWORD, CohortFactory, UserFactory
from tests.learners.support import sa_id_number
from tests.signing.conftest import pdf_text, pdf_text_contains, token_from

pytestmark = pytest.mark.django_db


@pytest.fixture
def sponsored(admin, eager, django_capture_on_commit_callbacks):
    """An active cohort with a sponsor, whose main agreement the admin signed."""
    sponsor = sponsor_create(
        actor=admin,
        company_name="Ubuntu Mining",
        contact_name="Sipho Dlamini",
        contact_email="sipho@ubuntu.example",
        tax_number="9012345678",
    )
    cohort = CohortFactory(active=True, admin_signed_by=admin, created_by=admin)
    return cohort_sponsor_set(cohort=cohort, sponsor=sponsor, actor=admin)


def _student_signs(enrollment):
    url = enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)
    link = link_for_token(token_from(url))
    submitter_sign(link=link, signed_name="Thandi Learner", consent=True, signature_text="T L")
    return link.submitter.submission


def _sponsor_signs(submission):
    submitter_sign_in_place(
        submission=submission,
        role="sponsor",
        signed_name="Sipho Dlamini",
        signature_text="Sipho Dlamini",
        consent=True,
    )


def test_each_learner_agreement_is_one_document_for_every_party_in_the_templates_order(
    sponsored, enrol, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=sponsored, id_number="9506120001083")
    [submission] = submissions_for_subject(enrollment)
    assert [(s.role, s.email) for s in submission.submitters.all()] == [
        ("student", enrollment.user.email),
        ("sponsor", "sipho@ubuntu.example"),
        ("institution_admin", sponsored.admin_signed_by.email),
    ]
    # The shipped agreement names every party; the ID number is in the PDF only.
    assert "Ubuntu Mining, tax number 9012345678" in submission.html
    assert "9506120001083" not in submission.html
    assert "9506120001083" not in str(submission.context)
    with submission.original_pdf.open("rb") as stored:
        text = pdf_text(stored.read())
    assert "9506120001083" in text
    assert "Ubuntu Mining" in text


def test_the_learners_signature_alone_does_not_sign_the_agreement(
    sponsored, enrol, client_of, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=sponsored, id_number="9506120001083")
    with django_capture_on_commit_callbacks(execute=True):
        submission = _student_signs(enrollment)
    enrollment.refresh_from_db()
    assert enrollment.agreement_signed_at is None
    assert not OutboundEmail.objects.filter(template="signing_completed").exists()
    page = client_of(enrollment.user).get(reverse("enrolments:detail", args=[enrollment.pk]))
    text = page.content.decode()
    assert "Signed by everyone" not in text
    assert "Not yet signed by the sponsor or the institution" in text

    _sponsor_signs(submission)
    page = client_of(enrollment.user).get(reverse("enrolments:agreement", args=[enrollment.pk]))
    assert "Not signed yet" in page.content.decode()
    assert list(agreements_awaiting_countersign(cohort=sponsored)) == [enrollment]
    assert learner_agreement_counts(cohort=sponsored)["institution_admin"] == 1


def test_the_signatory_countersigns_the_chosen_agreements_in_bulk_each_sealed(
    sponsored, enrol, admin, admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enrollments = [enrol(cohort=sponsored, id_number=sa_id_number(n)) for n in range(3)]
    submissions = []
    for enrollment in enrollments:
        with django_capture_on_commit_callbacks(execute=True):
            submission = _student_signs(enrollment)
        _sponsor_signs(submission)
        submissions.append(submission)
    url = reverse("countersign:list", args=[sponsored.pk])
    page = admin_client.get(url).content.decode()
    assert "3 agreements waiting for the institution" in page
    preview = admin_client.get(
        reverse("countersign:preview", args=[sponsored.pk, submissions[0].pk])
    )
    assert preview["Content-Type"] == "application/pdf"

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            url,
            {
                "which": "chosen",
                "agreements": [submissions[0].pk, submissions[1].pk],
                "signed_name": "Ada Admin",
                "password": PASSWORD,
                "consent": "on",
            },
        )
    run = AgreementCountersigning.objects.get()
    assert response["Location"] == reverse("countersign:progress", args=[sponsored.pk, run.pk])
    assert (run.status, run.signed_count, run.skipped) == (CountersigningStatus.DONE, 2, [])
    progress = admin_client.get(response["Location"]).content.decode()
    assert "Done: 2 of 2 agreements signed for the institution and sealed." in progress

    for enrollment, submission in zip(enrollments[:2], submissions[:2], strict=True):
        submission.refresh_from_db()
        assert submission.status == SubmissionStatus.COMPLETED
        institution = submission.submitters.get(role="institution_admin")
        assert (institution.user, institution.signed_name) == (admin, "Ada Admin")
        assert submission.events.filter(kind="signed", submitter=institution).count() == 1
        with submission.final_pdf.open("rb") as sealed:
            final = sealed.read()
        assert pdf_seal_check(final, certificates=certificates_for_verify()).ok
        text = pdf_text(final)
        for name in ("Thandi Learner", "Sipho Dlamini", "Ada Admin"):
            assert name in text
        # The certificate says where each party signed without a link.
        assert pdf_text_contains(final, "On the page of agreements e-mailed to sipho@ubuntu")
        assert pdf_text_contains(final, f"Signed in to their account, {admin.email}")
        enrollment.refresh_from_db()
        assert enrollment.agreement_signed_at is not None
    submissions[2].refresh_from_db()
    assert submissions[2].status == SubmissionStatus.PENDING
    assert AuditEvent.objects.filter(action="enrollment.agreements_countersigned").exists()
    # Nothing was e-mailed to the signatory to sign: they sign on the cohort page.
    assert not OutboundEmail.objects.filter(
        recipient=admin.email, template="signing_request"
    ).exists()


def test_a_wrong_password_signs_nothing(
    sponsored, enrol, admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=sponsored, id_number="9506120001083")
    with django_capture_on_commit_callbacks(execute=True):
        submission = _student_signs(enrollment)
    _sponsor_signs(submission)

    response = admin_client.post(
        reverse("countersign:list", args=[sponsored.pk]),
        {
            "which": "all",
            "listed": [submission.pk],
            "signed_name": "Ada Admin",
            "password": "wrong",
            "consent": "on",
        },
    )
    assert response.status_code == 200
    assert "That is not your password. Nothing was signed." in response.content.decode()
    assert not AgreementCountersigning.objects.exists()
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.PENDING


def test_an_agreement_the_sponsor_has_not_signed_cannot_be_countersigned(
    sponsored, enrol, admin_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrol(cohort=sponsored, id_number="9506120001083")
    with django_capture_on_commit_callbacks(execute=True):
        submission = _student_signs(enrollment)
    response = admin_client.post(
        reverse("countersign:list", args=[sponsored.pk]),
        {
            "which": "chosen",
            "agreements": [submission.pk],
            "signed_name": "Ada",
            "password": PASSWORD,
            "consent": "on",
        },
    )
    assert response.status_code == 200
    assert "No agreement waits for the institution" in response.content.decode()
    assert not AgreementCountersigning.objects.exists()


def test_only_a_signatory_may_countersign(sponsored, client_of, institution):
    verifier = UserFactory(roles=["verifier"])
    response = client_of(verifier).get(reverse("countersign:list", args=[sponsored.pk]))
    assert response.status_code == 404  # the audited refusal every staff page gives


def test_a_bulk_countersigning_is_shared_out_in_parts_and_done_when_the_last_part_ends(
    sponsored, enrol, admin, monkeypatch, django_capture_on_commit_callbacks
):
    submissions = []
    for n in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            enrollment = enrol(cohort=sponsored, id_number=sa_id_number(n))
        with django_capture_on_commit_callbacks(execute=True):
            submission = _student_signs(enrollment)
        _sponsor_signs(submission)
        submissions.append(submission)
    # Already signed for the institution (one link at a time) before the bulk run starts.
    signatory = submissions[2].submitters.get(role="institution_admin")
    submitter_sign(
        link=link_for_token(token_from(link_issue(signatory, notify=False))),
        signed_name="Ada Admin",
        consent=True,
        signature_text="Ada Admin",
    )
    monkeypatch.setattr("enrolments.agreements.COUNTERSIGN_PART_SIZE", 1)
    with django_capture_on_commit_callbacks(execute=False) as started:
        run = agreements_countersign_start(
            cohort=sponsored,
            actor=admin,
            submission_ids=[submission.pk for submission in submissions[:2]],
            signed_name="Ada Admin",
            password=PASSWORD,
        )
    assert run.status == CountersigningStatus.QUEUED
    with django_capture_on_commit_callbacks(execute=False) as handed_out:
        [start] = started
        start()
    run.refresh_from_db()
    assert (run.status, len(handed_out)) == (CountersigningStatus.RUNNING, 2)

    first, last = handed_out
    first()
    run.refresh_from_db()
    assert (run.status, run.signed_count) == (CountersigningStatus.RUNNING, 1)
    first()  # redelivered: signs nothing twice
    run.refresh_from_db()
    assert (run.status, run.signed_count) == (CountersigningStatus.RUNNING, 1)
    last()
    run.refresh_from_db()
    assert (run.status, run.signed_count, run.skipped) == (CountersigningStatus.DONE, 2, [])
    for submission in submissions:
        submission.refresh_from_db()
        assert submission.status == SubmissionStatus.COMPLETED
    assert AuditEvent.objects.filter(action="enrollment.agreements_countersigned").count() == 1


def _waiting_for_the_institution(cohort, enrol, count, django_capture_on_commit_callbacks):
    submissions = []
    for n in range(count):
        with django_capture_on_commit_callbacks(execute=True):
            enrollment = enrol(cohort=cohort, id_number=sa_id_number(n))
        with django_capture_on_commit_callbacks(execute=True):
            submission = _student_signs(enrollment)
        _sponsor_signs(submission)
        submissions.append(submission)
    return submissions


def test_a_signatory_without_access_to_the_cohort_sees_none_of_its_agreements(
    sponsored, enrol, super_admin, client_of, django_capture_on_commit_callbacks
):
    [submission] = _waiting_for_the_institution(
        sponsored, enrol, 1, django_capture_on_commit_callbacks
    )
    signer = role_create(
        actor=super_admin,
        name="Countersigner",
        description="",
        permission_codes=["enrolments.countersign_agreements"],
    )
    elsewhere = UserFactory(roles=[])
    user_roles_set(user=elsewhere, roles=[signer], actor=super_admin)
    client = client_of(elsewhere)
    assert client.get(reverse("countersign:list", args=[sponsored.pk])).status_code == 404
    preview = reverse("countersign:preview", args=[sponsored.pk, submission.pk])
    assert client.get(preview).status_code == 404


def test_signing_every_agreement_listed_signs_only_those_the_signatory_was_shown(
    sponsored, enrol, admin_client, django_capture_on_commit_callbacks
):
    shown, arrived = _waiting_for_the_institution(
        sponsored, enrol, 2, django_capture_on_commit_callbacks
    )
    url = reverse("countersign:list", args=[sponsored.pk])
    form = {"which": "all", "signed_name": "Ada Admin", "password": PASSWORD, "consent": "on"}
    response = admin_client.post(url, form | {"listed": [shown.pk]})
    assert response.status_code == 200
    assert "More agreements wait for your signature than the list you read." in (
        response.content.decode()
    )
    assert not AgreementCountersigning.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, form | {"listed": [shown.pk, arrived.pk]})
    assert response.status_code == 302
    assert AgreementCountersigning.objects.get().submission_ids == [shown.pk, arrived.pk]


def test_a_document_that_fails_to_seal_is_skipped_and_the_run_still_ends(
    sponsored, enrol, admin, django_capture_on_commit_callbacks
):
    broken, fine = _waiting_for_the_institution(
        sponsored, enrol, 2, django_capture_on_commit_callbacks
    )
    broken.original_pdf.storage.delete(broken.original_pdf.name)  # the file went missing
    with django_capture_on_commit_callbacks(execute=True):
        run = agreements_countersign_start(
            cohort=sponsored,
            actor=admin,
            submission_ids=[broken.pk, fine.pk],
            signed_name="Ada Admin",
            password=PASSWORD,
        )
    run.refresh_from_db()
    assert (run.status, run.signed_count) == (CountersigningStatus.DONE, 1)
    assert run.skipped == [
        {
            "submission": broken.pk,
            "reason": "It could not be signed: nothing was changed. Try it again.",
        }
    ]
    broken.refresh_from_db()
    assert broken.status == SubmissionStatus.PENDING
    assert not broken.submitters.filter(role="institution_admin", signed_at__isnull=False).exists()
