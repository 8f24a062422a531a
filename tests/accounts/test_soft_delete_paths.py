"""A deleted account stays out of every path that finds people by e-mail or lets them in: an
enrolment, an import, a trainer or partner contact, an invitation, a role, a password reset,
a picker; and deleting then restoring gives the account back as it was."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Invitation, SystemRole
from accounts.selectors import DELETED_ACCOUNT_REFUSAL, user_for_email
from accounts.services import (
    invitation_issue,
    invitation_resend,
    user_deactivate,
    user_delete,
    user_restore,
    user_role_add_in_transaction,
)
from cohorts.imports.writing import enrollments_import
from delivery.services.trainers import TrainerDetails, trainer_create
from enrolments.services import enrollment_invite
from notifications.models import OutboundEmail
from tenants.directory import email_directory_hash
from tenants.models import InstitutionDirectoryEntry
from tests.factories import CohortFactory, UserFactory
from tests.imports.support import student_row
from workplace.forms.moderation import SampleDrawForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def deleted_student(institution, admin):
    student = UserFactory(email="gone.student@example.org", roles=[SystemRole.STUDENT])
    return user_delete(user=student, actor=admin)


def test_the_lookup_refuses_a_deleted_account(deleted_student):
    assert user_for_email("nobody@example.org") is None
    with pytest.raises(ValidationError, match="restore it under People first"):
        user_for_email("Gone.Student@example.org")


def test_enrolling_the_email_of_a_deleted_student_is_refused(deleted_student, admin):
    with pytest.raises(ValidationError) as refused:
        enrollment_invite(
            cohort=CohortFactory(active=True),
            actor=admin,
            email="gone.student@example.org",
            full_name="Gone Student",
        )
    assert refused.value.messages == [DELETED_ACCOUNT_REFUSAL]
    deleted_student.refresh_from_db()
    assert deleted_student.is_deleted
    assert not deleted_student.enrollments.exists()


def test_an_import_naming_a_deleted_student_is_refused(deleted_student, admin):
    rows = [student_row(email="gone.student@example.org"), student_row()]
    with pytest.raises(ValidationError, match="restore it under People first"):
        enrollments_import(
            cohort=CohortFactory(active=True), actor=admin, rows=rows, reference="test"
        )


def test_a_deleted_person_is_not_made_a_trainer(deleted_student, super_admin):
    with pytest.raises(ValidationError, match="restore it under People first"):
        trainer_create(
            actor=super_admin,
            email="gone.student@example.org",
            details=TrainerDetails(name="Gone Student"),
        )


def test_no_invitation_or_role_for_a_deleted_or_deactivated_person(deleted_student, admin):
    with pytest.raises(ValidationError, match="restore it under People first"):
        invitation_issue(user=deleted_student, invited_by=admin)
    with pytest.raises(ValidationError, match="restore it under People first"):
        user_role_add_in_transaction(user=deleted_student, role=SystemRole.TRAINER, actor=admin)
    inactive = user_deactivate(user=UserFactory(roles=[SystemRole.TRAINER]), actor=admin)
    with pytest.raises(ValidationError, match="deactivated"):
        invitation_issue(user=inactive, invited_by=admin)
    with pytest.raises(ValidationError, match="deactivated"):
        user_role_add_in_transaction(user=inactive, role=SystemRole.VERIFIER, actor=admin)


def test_an_invitation_of_a_deleted_person_is_not_resent(institution, admin):
    person = UserFactory(roles=[SystemRole.TRAINER], password="!")
    invitation = invitation_issue(user=person, invited_by=admin)
    user_delete(user=person, actor=admin)

    with pytest.raises(ValidationError, match="deleted"):
        invitation_resend(invitation=Invitation.objects.get(pk=invitation.pk))


def test_a_deleted_person_gets_no_password_reset(institution, client_for, deleted_student):
    client = client_for(institution)
    token = default_token_generator.make_token(deleted_student)  # a link sent before deletion
    uid = urlsafe_base64_encode(force_bytes(deleted_student.pk))

    client.post("/accounts/reset/", {"email": "gone.student@example.org"})

    assert not OutboundEmail.objects.filter(template="password_reset").exists()
    page = client.get(f"/accounts/reset/{uid}/{token}/", follow=True).content.decode()
    assert "no longer works" in page


def test_restoring_a_deactivated_person_leaves_them_deactivated(institution, admin):
    person = UserFactory(email="off@example.org", roles=[SystemRole.TRAINER])
    user_deactivate(user=person, actor=admin)
    user_delete(user=person, actor=admin)

    person = user_restore(user=person, actor=admin)

    person.refresh_from_db()
    assert (person.deleted_at, person.is_active) == (None, False)
    assert not InstitutionDirectoryEntry.objects.filter(
        email_hash=email_directory_hash("off@example.org")
    ).exists()


def test_the_moderator_picker_leaves_deleted_people_out(deleted_student):
    choices = SampleDrawForm().fields["moderator"].queryset
    assert deleted_student not in choices
