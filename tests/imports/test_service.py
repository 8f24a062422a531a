"""enrollments_import: the bulk import behind the pages and the command."""

from urllib.parse import urlparse

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Invitation, SystemRole, User
from accounts.selectors import invitation_for_token
from audit.models import AuditEvent
from audit.selectors import audit_chain_first_break
from cohorts.imports.selectors import enrollments_import_plan
from cohorts.imports.writing import EMAIL_CHUNK, enrollments_import
from cohorts.services import cohort_cancel
from enrolments.models import CohortEnrollment, EnrollmentState
from learners.services import learner_national_id
from notifications.models import OutboundEmail
from tenants.directory import email_directory_hash
from tenants.models import InstitutionDirectoryEntry
from tests.factories import PASSWORD, UserFactory, role_keys
from tests.imports.support import student_row, unique_email

pytestmark = pytest.mark.django_db


def rows(count: int, **values) -> list[dict]:
    return [
        {"line": line, **student_row(full_name=f"Student {line}", **values)}
        for line in range(2, count + 2)
    ]


def test_an_import_creates_accounts_enrolments_invitations_and_emails(cohort, admin):
    students = rows(3, race="white", disability="hearing")

    result = enrollments_import(cohort=cohort, actor=admin, rows=students, reference="test")

    assert result.as_dict() == {
        "enrolled": 3,
        "new_accounts": 3,
        "existing_accounts": 0,
        "new_learners": 3,
        "existing_learners": 0,
        "already_enrolled": 0,
        "invitations": 3,
        "notices": 0,
    }
    for row in students:
        user = User.objects.get(email=row["email"])
        assert user.full_name == row["full_name"]
        assert role_keys(user) == {SystemRole.STUDENT}
        assert not user.has_usable_password()
        enrollment = CohortEnrollment.objects.get(cohort=cohort, user=user)
        assert enrollment.state == EnrollmentState.WAITING
        learner = enrollment.learner
        assert learner_national_id(learner) == row["id_number"]
        assert (learner.gender, learner.race, learner.disability) == ("female", "white", "hearing")
        assert InstitutionDirectoryEntry.objects.filter(
            email_hash=email_directory_hash(row["email"]), institution=connection.tenant
        ).exists()
        (invitation,) = Invitation.objects.filter(user=user)
        assert invitation.invited_by == admin
        assert invitation.is_usable
        (email,) = OutboundEmail.objects.filter(recipient=row["email"])
        assert email.template == "invitation"
        assert email.status == OutboundEmail.Status.QUEUED
        assert email.context["full_name"] == row["full_name"]
        assert email.context["invited_by"] == str(admin)
        assert email.context["roles"] == ["Student"]
        # The e-mailed link opens this student's invitation; only its hash is stored.
        token = urlparse(email.context["accept_url"]).path.rstrip("/").rsplit("/", 1)[1]
        assert invitation.token_hash != token
        assert invitation_for_token(token) == invitation


def test_an_import_is_audited_per_enrolment_and_as_a_whole_without_special_information(
    cohort, admin
):
    students = rows(2, race="african", disability="physical")

    enrollments_import(cohort=cohort, actor=admin, rows=students, reference="upload 7")

    invited = AuditEvent.objects.filter(
        action="enrollment.invited", new_values__cohort=cohort.pk
    ).order_by("id")
    accounts = dict(User.objects.values_list("email", "pk"))
    assert [event.new_values["student"] for event in invited] == [
        accounts[row["email"]] for row in students
    ]
    assert {event.actor_id for event in invited} == {admin.pk}
    summary = AuditEvent.objects.get(action="enrollment.imported", entity_id=str(cohort.pk))
    assert summary.entity_id == str(cohort.pk)
    assert summary.new_values["reference"] == "upload 7"
    assert summary.new_values["enrolled"] == 2
    assert summary.id > max(event.id for event in invited)
    for event in [*invited, summary]:
        text = str(event.new_values) + str(event.old_values)
        assert "african" not in text
        assert not any(row["email"] in text for row in students)
        assert "physical" not in text
    assert audit_chain_first_break() is None


def test_importing_the_same_rows_again_adds_nobody_twice(cohort, admin):
    students = rows(3)
    enrollments_import(cohort=cohort, actor=admin, rows=students)
    counts = (User.objects.count(), CohortEnrollment.objects.count(), OutboundEmail.objects.count())

    again = enrollments_import(cohort=cohort, actor=admin, rows=[*students, *rows(1)])

    assert (again.enrolled, again.new_accounts, again.already_enrolled) == (1, 1, 3)
    assert User.objects.count() == counts[0] + 1
    assert CohortEnrollment.objects.count() == counts[1] + 1
    assert OutboundEmail.objects.count() == counts[2] + 1


def test_an_existing_account_is_attached_and_told_where_to_sign_in(cohort, admin):
    trainer = UserFactory(roles=[SystemRole.TRAINER], full_name="Existing Trainer")
    row = {"line": 2, **student_row(email=trainer.email.upper(), full_name="Other Name")}

    result = enrollments_import(cohort=cohort, actor=admin, rows=[row])

    assert (result.new_accounts, result.existing_accounts, result.notices) == (0, 1, 1)
    trainer.refresh_from_db()
    assert role_keys(trainer) == {SystemRole.TRAINER, SystemRole.STUDENT}
    assert trainer.full_name == "Existing Trainer"
    assert check_password(PASSWORD, trainer.password)
    assert CohortEnrollment.objects.filter(cohort=cohort, user=trainer).exists()
    assert not Invitation.objects.filter(user=trainer).exists()
    (email,) = OutboundEmail.objects.filter(recipient=trainer.email)
    assert email.template == "enrolled"
    assert email.context["cohort_name"] == cohort.name


def test_an_invited_account_that_never_signed_in_gets_a_fresh_invitation(cohort, admin):
    other_cohort = type(cohort).objects.create(
        name="Earlier", program_type="internship", start_date=cohort.start_date,
        end_date=cohort.end_date,
    )  # fmt: skip
    email = unique_email()
    student = rows(1, email=email)
    enrollments_import(cohort=other_cohort, actor=admin, rows=student)
    (first,) = Invitation.objects.filter(user__email=email)

    result = enrollments_import(cohort=cohort, actor=admin, rows=student)

    assert (result.new_accounts, result.existing_accounts, result.invitations) == (0, 1, 1)
    assert (result.new_learners, result.existing_learners) == (0, 1)
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert Invitation.objects.filter(user__email=email, revoked_at__isnull=True).count() == 1
    assert role_keys(User.objects.get(email=email)) == {SystemRole.STUDENT}


def test_a_failure_midway_creates_nothing(cohort, admin):
    """A database constraint refuses one e-mail row, after the accounts, directory entries,
    enrolments and invitations are written: the whole import rolls back."""
    refused = unique_email("refused")
    students = [*rows(2), {"line": 4, **student_row(email=refused)}, *rows(2)]
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE notifications_outboundemail ADD CONSTRAINT test_refused_recipient "
            "CHECK (recipient <> %s)",
            [refused],
        )
    before = {
        model: model.objects.count()
        for model in (User, CohortEnrollment, Invitation, OutboundEmail, AuditEvent)
    }

    with pytest.raises(IntegrityError, match="test_refused_recipient"):
        enrollments_import(cohort=cohort, actor=admin, rows=students)

    assert {model: model.objects.count() for model in before} == before
    hashes = [email_directory_hash(row["email"]) for row in students]
    assert not InstitutionDirectoryEntry.objects.filter(email_hash__in=hashes).exists()


def test_an_invalid_row_refuses_the_whole_import(cohort, admin):
    students = [*rows(2), {"line": 4, **student_row(email="not-an-address")}]

    with pytest.raises(ValidationError) as refused:
        enrollments_import(cohort=cohort, actor=admin, rows=students)

    assert refused.value.messages == [
        "1 row cannot be imported. Row 4: “not-an-address” is not a valid e-mail address."
    ]
    assert not User.objects.filter(email__in=[row["email"] for row in students]).exists()


def test_many_invalid_rows_are_listed_as_sentences(cohort, admin):
    students = [{"line": line, **student_row(full_name="")} for line in range(2, 9)]

    with pytest.raises(ValidationError) as refused:
        enrollments_import(cohort=cohort, actor=admin, rows=students)

    message = refused.value.messages[0]
    assert message.startswith("7 rows cannot be imported. Row 2: Full name is missing. Row 3: ")
    assert message.endswith("Row 6: Full name is missing. 2 more rows have problems too.")
    assert ".." not in message


def test_duplicate_rows_refuse_the_import(cohort, admin):
    email = unique_email()

    with pytest.raises(ValidationError, match="Duplicate"):
        enrollments_import(cohort=cohort, actor=admin, rows=rows(2, email=email))


@pytest.mark.parametrize("role", [SystemRole.STUDENT, SystemRole.VERIFIER, SystemRole.AUDITOR])
def test_only_cohort_managers_may_import(cohort, role):
    actor = UserFactory(roles=[role])
    students = rows(1)

    with pytest.raises(PermissionDenied):
        enrollments_import(cohort=cohort, actor=actor, rows=students)

    assert not User.objects.filter(email=students[0]["email"]).exists()
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="cohorts.enrollments_import", actor=actor
    ).exists()


def test_a_closed_cohort_takes_no_students(cohort, admin):
    cohort_cancel(cohort=cohort, actor=admin, reason="Sponsor withdrew")

    with pytest.raises(
        ValidationError, match="This cohort is cancelled; students can no longer join it."
    ):
        enrollments_import(cohort=cohort, actor=admin, rows=rows(1))

    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()


def test_the_number_of_queries_does_not_grow_with_the_number_of_rows(cohort, admin):
    def queries(count: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            enrollments_import(cohort=cohort, actor=admin, rows=rows(count))
        return len(captured)

    queries(1)  # the admin's permissions are read once, then kept for the request
    assert queries(3) == queries(40)


def test_the_emails_go_to_the_workers_after_commit_in_chunks(
    cohort, admin, django_capture_on_commit_callbacks
):
    count = EMAIL_CHUNK * 2 + 1

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enrollments_import(cohort=cohort, actor=admin, rows=rows(count))

    assert OutboundEmail.objects.filter(template="invitation").count() >= count
    assert len(callbacks) == 3
    # Each callback queues one delivery task for its chunk, on the e-mail queue.
    chunks = [callback.args[0][0] for callback in callbacks]
    assert [len(chunk) for chunk in chunks] == [EMAIL_CHUNK, EMAIL_CHUNK, 1]
    assert {callback.keywords["queue"] for callback in callbacks} == {"notifications"}


def test_the_plan_says_what_the_import_will_do(cohort, admin):
    trainer = UserFactory(roles=[SystemRole.TRAINER])
    enrolled = rows(1)
    enrollments_import(cohort=cohort, actor=admin, rows=enrolled)
    students = [*enrolled, *rows(2), *rows(1, email=trainer.email)]

    plan = enrollments_import_plan(cohort=cohort, rows=students)
    result = enrollments_import(cohort=cohort, actor=admin, rows=students)

    assert plan == result
    assert (plan.enrolled, plan.new_accounts, plan.existing_accounts) == (3, 2, 1)
    assert (plan.already_enrolled, plan.invitations, plan.notices) == (1, 2, 1)


def test_the_system_may_import_without_an_actor(cohort):
    result = enrollments_import(cohort=cohort, actor=None, rows=rows(1))

    assert result.enrolled == 1
    assert Invitation.objects.filter(invited_by__isnull=True).exists()
    assert (
        AuditEvent.objects.get(action="enrollment.imported", entity_id=str(cohort.pk)).actor is None
    )


def test_unconfirmed_imports_are_discarded_after_a_week(cohort, admin, settings, tmp_path):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from cohorts.imports.uploads import student_imports_discard_stale
    from cohorts.models import StudentImport, StudentImportStatus

    stale = StudentImport.objects.create(
        cohort=cohort, original_name="old.csv", kind="csv", created_by=admin,
        status=StudentImportStatus.PREVIEW, valid_rows=[{"email": "x@example.org", "race": "x"}],
    )  # fmt: skip
    stale.file.save("old.csv", ContentFile(b"full_name,email\n"))
    fresh = StudentImport.objects.create(
        cohort=cohort, original_name="new.csv", kind="csv", created_by=admin,
        status=StudentImportStatus.PREVIEW, valid_rows=[{"email": "y@example.org"}],
    )  # fmt: skip
    StudentImport.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=8))

    assert student_imports_discard_stale() == 1

    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == StudentImportStatus.FAILED
    assert stale.valid_rows == []
    assert not stale.file
    assert fresh.valid_rows == [{"email": "y@example.org"}]
