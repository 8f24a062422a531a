"""`manage.py setup_demo`: the demo institution shows the product (cohorts in every state,
students at every step, a person for each role who signs in with the printed password), sends
no invitation to anyone who has a password, and a second run changes nothing."""

import io
import re
import secrets
from collections.abc import Callable

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import Invitation, SystemRole, User
from audit.models import AuditEvent
from cohorts.models import Cohort, CohortState
from enrolments.models import (
    CohortEnrollment,
    DocumentStatus,
    EnrollmentState,
    StudentDocument,
    VerificationState,
)
from notifications.models import OutboundEmail
from signing.documents import sha256_hex
from signing.models import SubmissionStatus
from signing.selectors import submissions_for_subject
from sponsors.models import Sponsor
from sponsors.selectors import cohort_sponsor_status
from tenants.models import Institution
from tests.factories import role_keys
from verification.selectors import may_review_cohort

pytestmark = pytest.mark.django_db

# "    Verifier:         verifier@demo.example  <password>"
CREDENTIAL = re.compile(r"^\s+([A-Z][a-z ]+):\s+(\S+@\S+)\s+(\S+)$", re.MULTILINE)


@pytest.fixture
def setup_demo(settings, tmp_path, media) -> Callable[[], str]:
    """Run the command (its password file under the test's own directory); returns what it
    printed."""
    settings.DATA_DIR = tmp_path

    def run() -> str:
        out = io.StringIO()
        call_command("setup_demo", stdout=out)
        connection.set_schema_to_public()
        return out.getvalue()

    return run


def _demo() -> Institution:
    return Institution.objects.get(code="demo")


def _by_email(cohort: Cohort) -> dict[str, CohortEnrollment]:
    return {e.user.email: e for e in cohort.enrollments.select_related("user")}


def _current_documents(enrollment: CohortEnrollment) -> dict[str, str]:
    return dict(
        StudentDocument.objects.filter(enrollment=enrollment, is_current=True).values_list(
            "document_type__name", "status"
        )
    )


def test_the_demo_shows_every_state_and_every_role_and_invites_nobody_signed_up(
    setup_demo, client_for
):
    output = setup_demo()

    _cohorts_check()
    _people_check(output, client_for)


def _cohorts_check() -> None:
    """A cohort in every state, students at every step, documents in each review state."""
    with tenant_context(_demo()):
        cohorts = {cohort.state: cohort for cohort in Cohort.objects.all()}
        assert sorted(cohorts) == sorted(CohortState.values)
        assert Cohort.objects.count() == 4
        sponsor = Sponsor.objects.get()
        assert all(cohort.sponsor == sponsor for cohort in cohorts.values())

        draft = cohorts[CohortState.DRAFT]
        assert draft.admin_signed_at is None
        assert draft.required_document_types.count() == 2
        assert cohorts[CohortState.CANCELLED].cancellation_reason

        # The running cohort: one student at each step, the sponsor invited and not signed yet.
        active = cohorts[CohortState.ACTIVE]
        students = _by_email(active)
        invited = students["lindiwe@demo.example"]
        assert invited.state == EnrollmentState.WAITING
        assert not invited.user.has_usable_password()
        details = students["kagiso@demo.example"]
        assert details.learner.details_completed_at is not None
        assert details.learner.consent_flags["data_processing"]["given"] is True
        assert not invited.learner.consent_flags
        assert _current_documents(details) == {}
        for waiting in ("ayanda@demo.example", "bongani@demo.example"):
            assert set(_current_documents(students[waiting]).values()) == {DocumentStatus.PENDING}
        approved = students["nomvula@demo.example"]
        assert approved.document_verification_state == VerificationState.VERIFIED
        assert approved.agreement_signed_at is None
        rejected = students["thandi@demo.example"]
        assert rejected.document_verification_state == VerificationState.REJECTED
        assert _current_documents(rejected) == {
            "South African ID or passport": DocumentStatus.VERIFIED,
            "Matric certificate": DocumentStatus.REJECTED,
        }
        assert "Scan the whole page" in rejected.rejection_reason
        # Lerato has signed; her agreement waits for the sponsor, who has not signed yet here.
        signed = students["lerato@demo.example"]
        assert signed.state == EnrollmentState.IN_PROGRESS
        assert signed.agreement_signed_at is None
        waiting = submissions_for_subject(signed).first()
        assert waiting.status == SubmissionStatus.PENDING
        assert [s.role for s in waiting.submitters.all() if s.signed_at] == ["student"]
        # Every cohort asks for a POPIA consent form, signed after the student's signature.
        [consent] = signed.supporting_agreements.all()
        assert (consent.template.title, consent.signature) == ("POPIA consent", "Lerato Mahlaba")
        assert approved.supporting_agreements.get().signed_at is None
        # Every student who has not signed finds their agreement waiting in the portal.
        for enrollment in students.values():
            if enrollment.agreement_signed_at is None:
                assert submissions_for_subject(enrollment).first().status == (
                    SubmissionStatus.PENDING
                )
        assert cohort_sponsor_status(active).state == "invited"

        # The completed cohort: every student complete, every agreement sealed.
        completed = cohorts[CohortState.COMPLETED]
        assert completed.forced_completion_reason == ""
        assert cohort_sponsor_status(completed).state == "signed"
        assert completed.enrollments.count() == 3
        sealed = list(submissions_for_subject(completed))
        for enrollment in completed.enrollments.all():
            assert enrollment.state == EnrollmentState.COMPLETE
            assert enrollment.document_verification_state == VerificationState.VERIFIED
            latest, *replaced = submissions_for_subject(enrollment)
            sealed.append(latest)
            # Made before the student gave their ID number, then made again with it.
            assert {s.status for s in replaced} <= {SubmissionStatus.REVOKED}
            sealed += list(submissions_for_subject(enrollment.supporting_agreements.get()))
        # The institution's, the sponsor's, and three students' agreements and consent forms.
        assert len(sealed) == 8
        for submission in sealed:
            assert submission.status == SubmissionStatus.COMPLETED
            with submission.final_pdf.open("rb") as final:
                assert sha256_hex(final.read()) == submission.final_sha256

        # Each document type in each review state, with real files behind them.
        statuses = StudentDocument.objects.filter(is_current=True).values_list("status", flat=True)
        assert set(statuses) == set(DocumentStatus.values)
        for document in StudentDocument.objects.all():
            with document.file.open("rb") as stored:
                assert sha256_hex(stored.read()) == document.sha256


def _people_check(output: str, client_for) -> None:
    """A person for each role, who signs in with the printed credentials; nobody with a
    password was e-mailed an invitation."""
    credentials = {role: (email, password) for role, email, password in CREDENTIAL.findall(output)}
    institution = _demo()
    with tenant_context(institution):
        expected_roles = {
            "Super admin": SystemRole.SUPER_ADMIN,
            "Admin": SystemRole.ADMIN,
            "Verifier": SystemRole.VERIFIER,
            "Auditor": SystemRole.AUDITOR,
            "Trainer": SystemRole.TRAINER,
            "Sponsor contact": SystemRole.SPONSOR_CONTACT,
            "Student": SystemRole.STUDENT,
        }
        assert set(credentials) == {*expected_roles, "Operator"}
        address = "10.77." + ".".join(str(secrets.randbelow(250) + 1) for _ in range(2))
        for role, key in expected_roles.items():
            email, password = credentials[role]
            person = User.objects.get(email=email)
            assert key in role_keys(person)
            response = client_for(institution).post(
                "/accounts/login/", {"username": email, "password": password}, REMOTE_ADDR=address
            )
            assert response.status_code == 302, f"{role} {email} cannot sign in"

        # The verifier works in the running cohort only; the sponsor's contact has an account.
        verifier = User.objects.get(email=credentials["Verifier"][0])
        cohorts = {cohort.state: cohort for cohort in Cohort.objects.all()}
        assert may_review_cohort(user=verifier, cohort_id=cohorts[CohortState.ACTIVE].pk)
        assert not may_review_cohort(user=verifier, cohort_id=cohorts[CohortState.DRAFT].pk)
        assert Sponsor.objects.get().user.email == credentials["Sponsor contact"][0]

        # Everything was done by people: the demo admin ran the cohorts, students uploaded.
        admin = User.objects.get(email=credentials["Super admin"][0])
        created = AuditEvent.objects.filter(action="cohort.created")
        assert created.count() == 4
        assert set(created.values_list("actor", flat=True)) == {admin.pk}
        uploads = AuditEvent.objects.filter(action="enrollment.document_uploaded")
        assert admin.pk not in set(uploads.values_list("actor", flat=True))

        # The only invitation e-mailed is the one to the student who has not signed up.
        invited = OutboundEmail.objects.filter(template="invitation")
        assert list(invited.values_list("recipient", flat=True)) == ["lindiwe@demo.example"]
        for email in invited.values_list("recipient", flat=True):
            assert not User.objects.get(email=email).has_usable_password()
        for invitation in Invitation.objects.select_related("user"):
            if invitation.user.has_usable_password():
                assert invitation.used_at is not None, invitation.user.email


def _counts() -> dict[str, int]:
    """Rows of every model in the demo institution's schema, and its public rows."""
    tenant_labels = {"accounts", "audit", "notifications", "signing", "cohorts", "enrolments"}
    tenant_labels |= {"verification", "integrations", "sponsors", "guardian", "auth"}
    with tenant_context(_demo()):
        counts = {
            model._meta.label: model.objects.count()
            for model in apps.get_models()
            if model._meta.app_label in tenant_labels
        }
    counts["institutions"] = Institution.objects.count()
    counts["directory"] = _demo().directory_entries.count()
    return counts


def test_a_second_run_adds_nothing_and_prints_the_same_credentials(setup_demo):
    first = setup_demo()
    before = _counts()

    second = setup_demo()

    assert before["cohorts.Cohort"] == 4
    assert _counts() == before
    assert CREDENTIAL.findall(second) == CREDENTIAL.findall(first)
