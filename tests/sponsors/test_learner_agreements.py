"""The sponsor signs a cohort's learner agreements from one e-mailed link: one at a time, or
all at once after reading the list; or declines one with a reason."""

import pytest
from django.urls import reverse

from enrolments.agreements import enrollment_agreement_start
from enrolments.models import CohortEnrollment
from enrolments.selectors import agreements_awaiting_countersign, agreements_awaiting_sponsor
from learners.models import ConsentKind
from notifications.models import OutboundEmail
from notifications.services import email_render
from signing.models import SubmissionStatus
from signing.selectors import link_for_token
from signing.services.completion import submitter_sign
from sponsors.services import sponsor_update
from tests.factories import CohortFactory
from tests.learners.support import consents_give
from tests.signing.conftest import token_from

pytestmark = pytest.mark.django_db


@pytest.fixture
def anonymous(client_for, institution):
    """The sponsor's browser: no account, on the institution's site."""
    return client_for(institution)


@pytest.fixture
def learners(sponsor, admin, enrol, eager, django_capture_on_commit_callbacks):
    """Three learners of an active cohort sponsored by `sponsor`, each of whom signed."""
    from sponsors.services import cohort_sponsor_set

    cohort = cohort_sponsor_set(
        cohort=CohortFactory(active=True, admin_signed_by=admin, created_by=admin),
        sponsor=sponsor,
        actor=admin,
    )
    submissions = []
    for number in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            enrollment = enrol(cohort=cohort, full_name=f"Learner {number}")
        url = enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)
        link = link_for_token(token_from(url))
        submitter_sign(link=link, signed_name=f"Learner {number}", consent=True, signature_text="L")
        submissions.append(link.submitter.submission)
    return cohort, submissions


def _sponsor_url(admin_client, cohort, django_capture_on_commit_callbacks) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("sponsors:learner_agreements_invite", args=[cohort.pk]), follow=True
        )
    assert "The sponsor has been e-mailed a link" in response.content.decode()
    email = OutboundEmail.objects.filter(template="sponsor_learner_agreements").latest("id")
    assert email.recipient == "sipho@ubuntu.example"
    message = email_render(email)
    assert "3 agreements wait for your signature now" in message.body
    return email.context["sign_url"].split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_the_sponsor_is_not_e_mailed_one_link_per_agreement(learners):
    assert not OutboundEmail.objects.filter(
        recipient="sipho@ubuntu.example", template="signing_request"
    ).exists()


def test_the_sponsor_signs_one_then_all_the_others_after_reading_the_list(
    learners, admin_client, anonymous, django_capture_on_commit_callbacks
):
    cohort, submissions = learners
    url = _sponsor_url(admin_client, cohort, django_capture_on_commit_callbacks)
    page = anonymous.get(url).content.decode()
    assert "3 agreements waiting for your signature" in page
    assert "Learner 0" in page
    document = anonymous.get(url + f"agreements/{submissions[0].pk}.pdf")
    assert document["Content-Type"] == "application/pdf"

    signature = {"signed_name": "Sipho Dlamini", "signature_text": "S Dlamini", "consent": "on"}
    anonymous.post(url, {**signature, "action": f"sign-{submissions[0].pk}"})
    assert [e.latest_agreement_id for e in agreements_awaiting_countersign(cohort=cohort)] == [
        submissions[0].pk
    ]

    # "Sign all" signs the agreements the page listed (a hidden input each).
    listed = {"listed": [submissions[1].pk, submissions[2].pk]}
    refused = anonymous.post(url, {**signature, **listed, "action": "sign-all"})
    assert "Tick the box to confirm that you have read every agreement listed." in (
        refused.content.decode()
    )
    assert agreements_awaiting_sponsor(cohort=cohort).count() == 2

    signed = anonymous.post(
        url, {**signature, **listed, "read_all": "on", "action": "sign-all"}, follow=True
    )
    assert "You signed 2 agreements for Ubuntu Mining." in signed.content.decode()
    assert agreements_awaiting_sponsor(cohort=cohort).count() == 0
    assert agreements_awaiting_countersign(cohort=cohort).count() == 3
    for submission in submissions:
        sponsor_signer = submission.submitters.get(role="sponsor")
        assert sponsor_signer.signed_name == "Sipho Dlamini"
        assert submission.events.filter(kind="signed", submitter=sponsor_signer).count() == 1


def test_the_sponsor_declines_one_with_a_reason_and_the_admins_are_told(
    learners, admin, admin_client, anonymous, django_capture_on_commit_callbacks
):
    cohort, submissions = learners
    url = _sponsor_url(admin_client, cohort, django_capture_on_commit_callbacks)
    action = f"decline-{submissions[1].pk}"

    empty = anonymous.post(url, {"action": action})
    assert "Say why you decline" in empty.content.decode()

    with django_capture_on_commit_callbacks(execute=False):
        anonymous.post(url, {"action": action, f"reason-{submissions[1].pk}": "Not our employee."})
    submissions[1].refresh_from_db()
    assert submissions[1].status == SubmissionStatus.DECLINED
    email = OutboundEmail.objects.filter(template="student_agreement_declined").latest("id")
    message = email_render(email)
    assert (
        message.subject
        == f"Sipho Dlamini (sponsor) declined Learner 1's agreement for {cohort.name}"
    )
    assert "Their reason: Not our employee." in message.body
    assert "Signed before the decline: the student. Not signed: the sponsor" in message.body
    assert agreements_awaiting_sponsor(cohort=cohort).count() == 2


def test_a_link_stops_working_when_the_sponsors_address_changes(
    learners, sponsor, admin, admin_client, anonymous, django_capture_on_commit_callbacks
):
    cohort, _ = learners
    url = _sponsor_url(admin_client, cohort, django_capture_on_commit_callbacks)
    sponsor_update(
        sponsor=sponsor,
        actor=admin,
        company_name=sponsor.company_name,
        contact_name=sponsor.contact_name,
        contact_email="new@ubuntu.example",
    )
    assert anonymous.get(url).status_code == 410
    assert anonymous.get("/sponsor/not-a-token/").status_code == 404


def test_the_sponsors_new_contact_signs_the_learners_agreements_the_old_one_had_not(
    learners, sponsor, admin, admin_client, anonymous, django_capture_on_commit_callbacks
):
    cohort, submissions = learners
    sponsor_update(
        sponsor=sponsor,
        actor=admin,
        company_name=sponsor.company_name,
        contact_name="Naledi Mokoena",
        contact_email="naledi@ubuntu.example",
    )
    for submission in submissions:
        signer = submission.submitters.get(role="sponsor")
        assert (signer.name, signer.email) == ("Naledi Mokoena", "naledi@ubuntu.example")
        assert submission.events.filter(kind="readdressed", submitter=signer).exists()
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("sponsors:learner_agreements_invite", args=[cohort.pk]))
    email = OutboundEmail.objects.filter(template="sponsor_learner_agreements").latest("id")
    assert email.recipient == "naledi@ubuntu.example"
    url = email.context["sign_url"].split("://", 1)[1].split("/", 1)[1].join(["/", ""])
    signed = anonymous.post(
        url,
        {
            "signed_name": "Naledi Mokoena",
            "signature_text": "N Mokoena",
            "consent": "on",
            "read_all": "on",
            "action": "sign-all",
            "listed": [submission.pk for submission in submissions],
        },
        follow=True,
    )
    assert "You signed 3 agreements for Ubuntu Mining." in signed.content.decode()


def test_a_new_sponsor_revokes_the_learners_agreements_that_name_the_previous_one(learners, admin):
    from sponsors.services import cohort_sponsor_set, sponsor_create

    cohort, submissions = learners
    other = sponsor_create(
        actor=admin,
        company_name="Karoo Solar",
        contact_name="Anele Zulu",
        contact_email="anele@karoo.example",
        tax_number="9123456789",
    )
    cohort_sponsor_set(cohort=cohort, sponsor=other, actor=admin)
    for submission in submissions:
        submission.refresh_from_db()
        assert submission.status == SubmissionStatus.REVOKED
    assert agreements_awaiting_sponsor(cohort=cohort).count() == 0


def test_the_sponsor_sees_a_learners_contact_details_only_with_their_consent(
    learners, admin_client, anonymous, django_capture_on_commit_callbacks
):
    cohort, _submissions = learners
    enrollments = CohortEnrollment.objects.filter(cohort=cohort).select_related("user")
    sharing = enrollments.get(user__full_name="Learner 1")
    consents_give(sharing.learner, ConsentKind.SPONSOR_SHARING)

    page = anonymous.get(
        _sponsor_url(admin_client, cohort, django_capture_on_commit_callbacks)
    ).content.decode()

    assert sharing.user.email in page
    for other in enrollments.exclude(pk=sharing.pk):
        assert other.user.full_name in page
        assert other.user.email not in page
    assert page.count("Contact details not shared") == 2
