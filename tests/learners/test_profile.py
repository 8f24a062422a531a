"""The student's own profile (/profile/): their details, which they change themselves; a change
to what their verified ID document vouches for (number, date of birth, gender) sends it back to
review, audited, with a notice; the enrolment's details page does the same; and their consents,
withdrawn and given again."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from audit.models import AuditEvent
from enrolments.models import DocumentStatus, StudentDocument, VerificationState
from enrolments.services import enrollment_details_save, enrollment_withdraw
from learners.consents import WORDINGS, consent_given
from learners.models import ConsentKind, LearnerConsent
from learners.services import learner_profile_save
from tests.enrolments.conftest import upload_document
from tests.factories import UserFactory
from tests.learners.support import FORM_DETAILS, consents_give, details_of, sa_id_number
from verification.services import document_review

pytestmark = pytest.mark.django_db

NUMBER = FORM_DETAILS["id_number"]  # 9904125800080: born 12 April 1999, male


def _form(**changes) -> dict:
    """The profile form as the student sends it: the number on file is not sent again."""
    return {**FORM_DETAILS, "id_number": "", "date_of_birth": "1999-04-12", **changes}


@pytest.fixture
def verified(enrol, admin):
    """A student whose details are in and whose ID and matric certificate are verified."""
    enrollment = enrol()
    enrollment_details_save(enrollment=enrollment, actor=enrollment.user, details=details_of())
    for document_type in enrollment.cohort.required_document_types.all():
        document_review(
            document=upload_document(enrollment, document_type), reviewer=admin, approve=True
        )
    enrollment.refresh_from_db()
    assert enrollment.document_verification_state == VerificationState.VERIFIED
    return enrollment


def _status(enrollment, name: str) -> str:
    return StudentDocument.objects.get(
        enrollment=enrollment, document_type__name=name, is_current=True
    ).status


ID_DOCUMENT = "South African ID or passport"
MATRIC = "Matric certificate"


def test_the_profile_shows_the_students_details_masked_and_their_consents(verified, client_of):
    client = client_of(verified.user)
    page = client.get(reverse("profile:profile")).content.decode()

    assert "Your profile" in page
    assert "On file: the number ending 0080" in page
    assert NUMBER not in page
    assert 'value="Cape Town"' in page
    for wording in WORDINGS.values():
        assert wording.title in page
    assert reverse("profile:profile") in page  # "My profile" in the portal's navigation


def test_someone_without_a_learner_record_has_no_profile(institution, client_of, admin):
    assert client_of(admin).get(reverse("profile:profile")).status_code == 404


def test_contact_details_change_without_review(verified, client_of):
    client = client_of(verified.user)
    response = client.post(
        reverse("profile:profile"),
        _form(
            phone_number="082 123 4567",
            address_line1="12 Long Street",
            city="Durban",
            province="KwaZulu-Natal",
            postal_code="4001",
            home_language="isizulu",
            highest_qualification="degree",
        ),
        follow=True,
    )

    learner = verified.learner
    learner.refresh_from_db()
    assert (learner.phone_number, learner.city, learner.address_line1) == (
        "+27821234567",
        "Durban",
        "12 Long Street",
    )
    assert learner.home_language == "isizulu"
    assert learner.national_id_last4 == "0080"  # left empty: kept
    assert _status(verified, ID_DOCUMENT) == DocumentStatus.VERIFIED
    assert "Your details are saved." in response.content.decode()
    assert "goes back to the institution for review" not in response.content.decode()
    event = AuditEvent.objects.filter(action="learner.details_saved").latest("id")
    assert "city" in event.new_values["fields"]
    assert "Durban" not in str(event.new_values)


def test_a_new_id_number_sends_the_verified_id_document_back_to_review(verified, client_of):
    new_number = sa_id_number(17, birth="990412")
    response = client_of(verified.user).post(
        reverse("profile:profile"), _form(id_number=new_number), follow=True
    )

    page = response.content.decode()
    assert "goes back to the institution for review" in page
    assert new_number not in page
    assert _status(verified, ID_DOCUMENT) == DocumentStatus.PENDING
    assert _status(verified, MATRIC) == DocumentStatus.VERIFIED  # vouches for none of it
    verified.refresh_from_db()
    assert verified.document_verification_state == VerificationState.PENDING
    event = AuditEvent.objects.get(action="document.reopened")
    assert event.actor_id == verified.user.pk
    assert event.new_values == {"status": "pending", "reason": "verified facts changed"}
    assert new_number not in str(event.new_values)


def test_a_passport_in_place_of_the_id_number_sends_it_back_too(verified, client_of):
    client_of(verified.user).post(
        reverse("profile:profile"),
        _form(passport_number="A1234567", passport_country="ZW", gender="male"),
    )
    verified.learner.refresh_from_db()
    assert verified.learner.national_id_type == "passport"
    assert _status(verified, ID_DOCUMENT) == DocumentStatus.PENDING


def test_the_enrolments_details_page_sends_the_id_document_back_as_well(verified, client_of):
    response = client_of(verified.user).post(
        reverse("enrolments:details", args=[verified.pk]),
        {**FORM_DETAILS, "id_number": sa_id_number(18, birth="990412")},
    )
    assert response.status_code == 302
    assert _status(verified, ID_DOCUMENT) == DocumentStatus.PENDING
    verified.refresh_from_db()
    assert verified.document_verification_state == VerificationState.PENDING


def test_a_withdrawn_enrolments_verified_document_stays_as_it_was(verified, admin):
    enrollment_withdraw(enrollment=verified, actor=admin, reason="Moved")
    result = learner_profile_save(
        learner=verified.learner,
        actor=verified.user,
        details=details_of(id_number=sa_id_number(19, birth="990412")),
    )
    # Verified as it was for that enrolment, but no longer the learner's current one: a later
    # enrolment asks for it again.
    assert result.documents_reopened == 1
    document = StudentDocument.objects.get(enrollment=verified, document_type__name=ID_DOCUMENT)
    assert (document.status, document.is_current) == (DocumentStatus.VERIFIED, False)


def test_only_the_student_saves_their_own_profile(verified, admin):
    for actor in (admin, UserFactory()):
        with pytest.raises(PermissionDenied):
            learner_profile_save(
                learner=verified.learner,
                actor=actor,
                details=details_of(id_number="", date_of_birth="1999-04-12", gender="male"),
            )


def test_a_student_withdraws_a_consent_on_their_profile_and_gives_it_again(enrol, client_of):
    enrollment = enrol()
    learner = enrollment.learner
    consents_give(learner, ConsentKind.SPONSOR_SHARING)
    client = client_of(enrollment.user)

    response = client.post(
        reverse("profile:consents"), {"withdraw": ConsentKind.SPONSOR_SHARING}, follow=True
    )

    page = response.content.decode()
    assert "You withdrew your consent" in page
    assert WORDINGS[ConsentKind.SPONSOR_SHARING].withdrawal in page
    assert "Withdrawn " in page
    learner.refresh_from_db()
    assert not consent_given(learner, ConsentKind.SPONSOR_SHARING)

    client.post(reverse("profile:consents"), {"give": ConsentKind.SPONSOR_SHARING})
    learner.refresh_from_db()
    assert consent_given(learner, ConsentKind.SPONSOR_SHARING)
    assert list(LearnerConsent.objects.filter(learner=learner).values_list("given", flat=True)) == [
        True,
        False,
        True,
    ]


def test_the_consents_page_takes_posts_only(enrol, client_of):
    enrollment = enrol()
    assert client_of(enrollment.user).get(reverse("profile:consents")).status_code == 405
