"""Entry-point services run in a durable transaction of their own: one nested in another
transaction would commit with it, not when it says it has. Services composed inside another's
transaction are not durable and run there. (The test's own transaction is the test case's,
which durable blocks allow; the explicit atomic blocks here are not.)"""

import pytest
from django.db import transaction

from accounts.models import SystemRole, User
from accounts.services import user_invite, user_invite_in_transaction, user_password_change
from audit.models import AuditEvent
from cohorts.services import cohort_create, cohort_record_admin_signature
from enrolments.services import enrollment_invite, enrollment_invite_in_transaction
from signing.documents import placeholder_values
from signing.models import AgreementTemplate, SubmissionStatus
from signing.services.submissions import (
    submission_create,
    submission_revoke,
    submission_revoke_in_transaction,
)
from sponsors.services import sponsor_create
from tests.factories import CohortFactory, role_keys

pytestmark = pytest.mark.django_db

NESTED = "cannot be nested"


def _submission(admin):
    return submission_create(
        template=AgreementTemplate.objects.order_by("pk").first(),
        context=placeholder_values(),  # the shipped agreement names every party
        signers=[{"role": "institution_admin", "name": "Ada", "email": admin.email}],
        actor=admin,
    )


ENTRY_POINTS = [
    lambda admin: user_invite(
        email="nested@example.org", full_name="N", roles=[SystemRole.STUDENT], actor=admin
    ),
    lambda admin: cohort_create(
        actor=admin,
        name="Nested",
        program_type="learnership",
        student_count=1,
        start_date="2027-02-01",
        end_date="2027-11-30",
    ),
    lambda admin: enrollment_invite(
        cohort=CohortFactory(active=True), actor=admin, email="s@example.org", full_name="S"
    ),
    lambda admin: sponsor_create(
        actor=admin, company_name="Co", contact_name="C", contact_email="c@example.org"
    ),
    lambda admin: submission_revoke(submission=_submission(admin), actor=admin),
    lambda admin: user_password_change(user=admin, new_password="a-Long-new-passphrase-9"),
]


@pytest.mark.parametrize("call", ENTRY_POINTS)
def test_an_entry_point_refuses_to_run_inside_another_transaction(admin, call):
    with transaction.atomic(), pytest.raises(RuntimeError, match=NESTED):
        call(admin)


@pytest.mark.parametrize("call", ENTRY_POINTS)
def test_an_entry_point_runs_in_a_transaction_of_its_own(admin, call):
    call(admin)
    assert AuditEvent.objects.filter(actor=admin).exclude(action="permission.denied").exists()


def test_composable_services_run_inside_the_callers_transaction(admin):
    cohort = CohortFactory()
    with transaction.atomic():
        user = user_invite_in_transaction(
            email="composed@example.org", full_name="C", roles=[SystemRole.STUDENT], actor=admin
        )
        enrollment = enrollment_invite_in_transaction(
            cohort=cohort, actor=admin, email="student@example.org", full_name="S"
        )
        submission = submission_revoke_in_transaction(submission=_submission(admin), actor=admin)
        cohort_record_admin_signature(cohort=cohort, actor=admin, signature="Ada Admin")
    assert role_keys(user) == {SystemRole.STUDENT}
    assert enrollment.cohort == cohort
    assert submission.status == SubmissionStatus.REVOKED
    cohort.refresh_from_db()
    assert cohort.admin_signed_by == admin


def test_a_composable_service_rolls_back_with_its_caller(admin):
    last_event = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    with transaction.atomic():
        user_invite_in_transaction(
            email="rolled@example.org", full_name="R", roles=[SystemRole.STUDENT], actor=admin
        )
        transaction.set_rollback(True)  # the caller gives up after the invitation
    assert not User.objects.filter(email="rolled@example.org").exists()
    assert not AuditEvent.objects.filter(id__gt=last_event or 0).exists()
