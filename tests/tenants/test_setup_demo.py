"""`manage.py setup_demo`: the demo institution shows the product (cohorts in every state,
students at every step, a person for each role who signs in with the printed password, the
programme's catalogue and its delivery), sends no invitation to anyone who has a password, and a
second run changes nothing."""

import io
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from academics.calendar import working_calendar
from academics.models import (
    AcademicSession,
    AcademicYear,
    Closure,
    Department,
    Faculty,
    GradingScale,
    Outcome,
    OutcomeKind,
    Programme,
)
from accounts.models import Invitation, SystemRole, User
from audit.models import AuditEvent
from cohorts.models import Cohort, CohortState
from delivery.models import (
    Assessment,
    AttendanceRecord,
    AttendanceStatus,
    Certificate,
    CertificateKind,
    CourseEnrollment,
    CourseEnrollmentStatus,
    CourseRun,
    Session,
    Trainer,
)
from enrolments.models import (
    CohortEnrollment,
    DocumentStatus,
    EnrollmentState,
    ProgrammeOutcome,
    StudentDocument,
    VerificationState,
)
from finance.models import (
    BankStatementImport,
    Commission,
    CommissionStatus,
    DocumentKind,
    FinanceSettings,
    GrantAgreement,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentPurpose,
    StatementLineStatus,
    StipendRate,
    StipendRun,
    StipendRunStatus,
)
from notifications.models import OutboundEmail
from partners.bank import bank_details_open
from partners.models import (
    BankAccount,
    BankAccountChange,
    BankChangeStatus,
    CommissionBasis,
    LearnerIntroduction,
    Partner,
    PartnerKind,
)
from placements.access import current_organisation
from placements.models import (
    GeocodeStatus,
    Organisation,
    Placement,
    PlacementStatus,
    PlacementSubject,
    VettingRecord,
    VettingStatus,
)
from placements.selectors.capacity import places_free
from placements.selectors.clearance import required_vetting_types, vetting_missing
from placements.selectors.distance import Point, organisations_near
from placements.services.vetting import evidence_is_reviewable
from projects.models import InnovationProject, MemberRole, MilestoneStatus, ProjectStatus
from signing.documents import sha256_hex
from signing.models import SubmissionStatus
from signing.selectors import submissions_for_subject
from sponsors.models import Sponsor
from sponsors.selectors import cohort_sponsor_status
from tenants.models import Institution
from tests.factories import role_keys
from verification.selectors import may_review_cohort
from workplace.access import registration_valid
from workplace.models import (
    Decision,
    EvidenceKind,
    LogbookEntry,
    LogbookWeekStatus,
    Mentorship,
    ModerationSample,
    ObservationReport,
    Portfolio,
    PortfolioStatus,
    PractitionerRegistration,
    PractitionerRole,
    SampleStatus,
)
from workplace.selectors.hours import outcome_hours

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
    _catalogue_check()
    _running_delivery_check()
    _completed_delivery_check()
    _placements_check()
    _workplace_check()


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
            "Moderator": SystemRole.MODERATOR,
            "Assessor": SystemRole.ASSESSOR,
            "Ops admin": SystemRole.OPS_ADMIN,
            "Finance": SystemRole.FINANCE,
            "Sponsor contact": SystemRole.SPONSOR_CONTACT,
            "Organisation member": SystemRole.ORGANISATION_MEMBER,
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


def _catalogue_check() -> None:
    """What the programme teaches: its faculty and department, its NQF level and SAQA ID, its
    grading scale, two core courses and an elective that needs one of them, this year and last
    (this year's session current) and a closure."""
    with tenant_context(_demo()):
        department = Department.objects.select_related("faculty", "head_of_department").get()
        assert department.faculty == Faculty.objects.get()
        assert department.head_of_department.email == "programmes@demo.example"
        programme = Programme.objects.select_related("grading_scale").get()
        assert programme.department == department
        assert (programme.nqf_level, programme.saqa_qualification_id) == (5, "118708")
        scale = GradingScale.objects.get()
        assert programme.grading_scale == scale
        assert scale.is_default
        assert scale.bands.count() == 4
        courses = {course.code: course for course in programme.courses.all()}
        assert {code: course.is_core for code, course in courses.items()} == {
            "DA101": True,
            "DA102": True,
            "DA201": False,
        }
        assert list(courses["DA201"].prerequisites.all()) == [courses["DA101"]]
        assert not courses["DA101"].prerequisites.exists()
        assert AcademicYear.objects.count() == 2
        current = AcademicSession.objects.get(is_current=True)
        running = Cohort.objects.get(state=CohortState.ACTIVE)
        assert current.start_date == running.start_date <= current.end_date
        assert AcademicSession.objects.count() == 2
        assert Closure.objects.count() == 1
        assert set(Cohort.objects.values_list("programme", flat=True)) == {programme.pk}


def _running_delivery_check() -> None:
    """The running intake: its three runs taught by the demo trainer, its first course's weekly
    schedule (no session on a holiday or a closure), three registers signed off by the trainer
    with one absence and one excused absence, its moderator given, and the returning learner
    in the elective her last year's course opened."""
    with tenant_context(_demo()):
        trainer = Trainer.objects.select_related("user").get()
        assert trainer.user.email == "trainer@demo.example"
        assert trainer.accreditation_number
        assert trainer.accreditation_expires_on
        moderator = User.objects.get(email="moderator@demo.example")
        running = Cohort.objects.get(state=CohortState.ACTIVE)
        runs = {run.course_ref: run for run in CourseRun.objects.filter(cohort=running)}
        assert sorted(runs) == ["DA101", "DA102", "DA201"]
        assert {run.trainer for run in runs.values()} == {trainer}
        first = runs["DA101"]
        assert first.moderator == moderator
        assert first.moderated_at is None
        sessions = list(Session.objects.filter(course_run=first))
        assert len(sessions) > 60
        assert {session.session_date.weekday() for session in sessions} == {1, 3}
        calendar = working_calendar()
        assert all(calendar.is_working_day(session.session_date) for session in sessions)
        closure = Closure.objects.get()
        assert not [s for s in sessions if closure.starts_on <= s.session_date <= closure.ends_on]
        signed = [session for session in sessions if session.is_signed_off]
        assert len(signed) == 3
        assert {session.register_signed_off_by for session in signed} == {trainer.user}
        records = AttendanceRecord.objects.filter(session__in=signed).select_related(
            "enrolment__enrollment__user"
        )
        assert records.count() == 3 * running.enrollments.count()
        exceptions = {
            (r.enrolment.enrollment.user.email, r.status)
            for r in records
            if r.status != AttendanceStatus.PRESENT
        }
        assert exceptions == {
            ("kagiso@demo.example", AttendanceStatus.ABSENT),
            ("bongani@demo.example", AttendanceStatus.EXCUSED),
        }
        assert records.get(status=AttendanceStatus.EXCUSED).reason
        assert not Session.objects.filter(
            course_run__cohort=running,
            session_date__gt=timezone.localdate(),
            attendance__isnull=False,
        ).exists()
        [returning] = CourseEnrollment.objects.filter(course_run=runs["DA201"])
        assert returning.enrollment.user.email == "zanele@demo.example"
        assert AuditEvent.objects.filter(action="sessions.scheduled").count() == 4


def _completed_delivery_check() -> None:
    """Last year's intake: every run's registers signed off and its results moderated by the
    moderator (recorded by the trainer); two learners completed the programme and hold a
    certificate, the third, not yet competent, a statement of results; sealed PDFs stored."""
    with tenant_context(_demo()):
        completed = Cohort.objects.get(state=CohortState.COMPLETED)
        trainer = Trainer.objects.get()
        moderator = User.objects.get(email="moderator@demo.example")
        runs = list(CourseRun.objects.filter(cohort=completed))
        assert len(runs) == 3
        for run in runs:
            assert run.moderated_by == moderator
            sessions = Session.objects.filter(course_run=run)
            assert sessions.exists()
            assert not sessions.filter(register_signed_off_at__isnull=True).exists()
        assessors = set(
            Assessment.objects.filter(enrolment__course_run__in=runs).values_list(
                "assessor", flat=True
            )
        )
        assert assessors == {trainer.user_id}
        grades = {
            (e.enrollment.user.email, e.course.code): (e.status, e.grade)
            for e in CourseEnrollment.objects.filter(enrollment__cohort=completed).select_related(
                "enrollment__user", "course"
            )
        }
        assert grades[("sibusiso@demo.example", "DA101")] == (
            CourseEnrollmentStatus.COMPLETED,
            "A",
        )
        assert grades[("zanele@demo.example", "DA102")][0] == CourseEnrollmentStatus.ENROLLED
        assert grades[("precious@demo.example", "DA201")][0] == CourseEnrollmentStatus.COMPLETED
        assert len(grades) == 7
        outcomes = {
            e.user.email: (e.programme_outcome, e.completion_date)
            for e in completed.enrollments.select_related("user")
        }
        assert outcomes == {
            "sibusiso@demo.example": (ProgrammeOutcome.COMPLETED, completed.end_date),
            "precious@demo.example": (ProgrammeOutcome.COMPLETED, completed.end_date),
            "zanele@demo.example": (ProgrammeOutcome.NOT_YET_COMPETENT, completed.end_date),
        }
        kinds = {
            c.enrollment.user.email: c.kind
            for c in Certificate.objects.select_related("enrollment__user")
        }
        assert kinds == {
            "sibusiso@demo.example": CertificateKind.CERTIFICATE,
            "precious@demo.example": CertificateKind.CERTIFICATE,
            "zanele@demo.example": CertificateKind.STATEMENT_OF_RESULTS,
        }
        for certificate in Certificate.objects.all():
            assert certificate.revoked_at is None
            with certificate.pdf.open("rb") as stored:
                assert sha256_hex(stored.read()) == certificate.sha256
        precious = Certificate.objects.get(enrollment__user__email="precious@demo.example")
        assert [c["code"] for c in precious.contents["courses"]] == ["DA101", "DA102", "DA201"]
        assert precious.contents["credits_achieved"] == 120


def _placements_check() -> None:
    """Two host organisations near the campus with addresses, coordinates, a placement lead
    and places this year; their member belongs to both (the school current); the programme
    requires a police clearance, which Thandi has, and her placement at the school is proposed
    and can be confirmed."""
    with tenant_context(_demo()):
        member = User.objects.get(email="host@demo.example")
        assert member.full_name == "Nomsa Dlamini"
        hosts = list(Organisation.objects.select_related("address").order_by("name"))
        assert [host.name for host in hosts] == [
            "Braamfontein Data Works (Pty) Ltd",
            "Orlando West High School",
        ]
        campus = Point(-26.1929, 28.0305)  # Braamfontein
        assert [host.name for host in organisations_near(campus, 25)] == [
            "Braamfontein Data Works (Pty) Ltd",
            "Orlando West High School",
        ]
        for host in hosts:
            assert host.address.postcode
            assert host.contacts.count() == 1
        assert current_organisation(member).name == "Orlando West High School"
        assert set(member.organisation_memberships.values_list("organisation", flat=True)) == {
            host.pk for host in hosts
        }
        year = AcademicSession.objects.get(is_current=True).academic_year
        it = PlacementSubject.objects.get(code="IT")
        # Lerato's active placement takes one of the school's places; Thandi's proposed one not.
        assert {host.name: places_free(host, year, it) for host in hosts} == {
            "Braamfontein Data Works (Pty) Ltd": 3,
            "Orlando West High School": 1,
        }
        programme = Programme.objects.get()
        assert [t.code for t in required_vetting_types(programme)] == ["police_clearance"]
        placement = Placement.objects.select_related("learner", "cohort").get(
            status=PlacementStatus.PROPOSED
        )
        assert placement.learner.user.email == "thandi@demo.example"
        assert placement.status == PlacementStatus.PROPOSED
        assert placement.supervisor.organisation == placement.organisation
        assert vetting_missing(placement.learner, programme, on=placement.starts_on) == []
        assert OutboundEmail.objects.filter(
            template="placement_proposed", recipient="host@demo.example"
        ).exists()
        _placements_made_through_the_services(placement, hosts)


def _placements_made_through_the_services(placement: Placement, hosts: list[Organisation]) -> None:
    """The organisations, memberships, preferences and vetting were written by the services the
    pages use: entered coordinates, the trail's events, and a clearance given on evidence a
    reviewer can open."""
    assert {host.geocode_status for host in hosts} == {GeocodeStatus.ENTERED}
    home = placement.learner.location
    assert home.geocode_status == GeocodeStatus.ENTERED
    nearest = organisations_near(Point(home.latitude, home.longitude), 25).first()
    assert nearest.name == "Orlando West High School"
    record = VettingRecord.objects.select_related("reviewer").get(learner=placement.learner)
    assert record.status == VettingStatus.CLEARED
    assert record.reviewer.email == "admin@demo.example"
    assert record.expires_on > timezone.localdate()
    [evidence] = record.evidence.all()
    assert evidence_is_reviewable(evidence)
    assert evidence.original_name == "police-clearance.pdf"
    with evidence.file.open("rb") as stored:
        assert stored.read(5) == b"%PDF-"
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "organisation.created",
        "organisation.address_changed",
        "organisation.detail_changed",
        "organisation_contact.added",
        "organisation_membership.added",
        "placement_preference.set",
        "programme.vetting_requirements_set",
        "vetting.open",
        "vetting.evidence_add",
        "vetting.clear",
        "placement.propose",
    } <= actions


def _workplace_check() -> None:
    """Workplace learning: three unit standards on the first course; the assessor and the
    moderator registered for the programme for about two years, the super admin's assessor
    registration about to expire; Lerato's active placement at the school, mentored by its
    member, with a confirmed logbook week and one waiting for the mentor, the mentor's
    observation, one portfolio found competent by the assessor and given to the moderator in a
    sample, another waiting for an assessor."""
    with tenant_context(_demo()):
        today = timezone.localdate()
        anchor = timezone.localdate(_demo().created_at)
        programme = Programme.objects.get()
        outcomes = Outcome.objects.select_related("course").order_by("position")
        assert [(o.course.code, o.code, o.kind) for o in outcomes] == [
            ("DA101", "116943", OutcomeKind.UNIT_STANDARD),
            ("DA101", "117924", OutcomeKind.UNIT_STANDARD),
            ("DA101", "114049", OutcomeKind.UNIT_STANDARD),
        ]
        assert all(outcome.credits > 0 for outcome in outcomes)

        assessor = User.objects.get(email="assessor@demo.example")
        moderator = User.objects.get(email="moderator@demo.example")
        for user, role in (
            (assessor, PractitionerRole.ASSESSOR),
            (moderator, PractitionerRole.MODERATOR),
        ):
            registration = registration_valid(user, role, programme.pk)
            assert registration is not None, user.email
            assert 600 < (registration.expires_on - anchor).days < 800
        expiring = PractitionerRegistration.objects.get(user__email="admin@demo.example")
        assert expiring.role == PractitionerRole.ASSESSOR
        assert (expiring.expires_on - anchor).days == 21

        lerato = Placement.objects.select_related("organisation", "learner__user").get(
            status=PlacementStatus.ACTIVE
        )
        assert lerato.learner.user.email == "lerato@demo.example"
        assert lerato.organisation.name == "Orlando West High School"
        assert lerato.starts_on.weekday() == 0
        assert 28 <= (anchor - lerato.starts_on).days < 35
        mentorship = Mentorship.objects.get(placement=lerato, ended_at__isnull=True)
        assert mentorship.mentor.email == "host@demo.example"

        weeks = list(lerato.logbook_weeks.order_by("week_starts_on"))
        assert [week.status for week in weeks] == [
            LogbookWeekStatus.CONFIRMED,
            LogbookWeekStatus.SUBMITTED,
        ]
        assert weeks[0].reviewed_by == mentorship.mentor
        entries = LogbookEntry.objects.filter(week__placement=lerato)
        assert entries.count() == 7
        assert all(lerato.starts_on <= e.entry_date <= min(anchor, today) for e in entries)
        hours = outcome_hours(lerato.learner, placement_id=lerato.pk)
        assert sum(hours.values()) > 0  # the confirmed week's hours count

        [observation] = ObservationReport.objects.filter(placement=lerato)
        assert observation.written_by == mentorship.mentor
        assert observation.outcome.code == "116943"

        portfolios = {
            p.outcome.code: p
            for p in Portfolio.objects.select_related("outcome", "course_enrollment__course_run")
        }
        assert {code: p.status for code, p in portfolios.items()} == {
            "116943": PortfolioStatus.COMPETENT,
            "117924": PortfolioStatus.SUBMITTED,
        }
        competent = portfolios["116943"]
        [submission] = competent.submissions.all()
        assert (submission.decision, submission.assessor) == (Decision.COMPETENT, assessor)
        assert submission.assessor_registration.user == assessor
        kinds = sorted(competent.evidence.values_list("kind", flat=True))
        assert kinds == sorted([EvidenceKind.LOGBOOK_ENTRY] * 3 + [EvidenceKind.OBSERVATION])
        waiting = portfolios["117924"].submissions.get()
        assert waiting.decision == ""
        assert portfolios["117924"].evidence.count() == 2

        sample = ModerationSample.objects.get()
        assert (sample.assessor, sample.moderator) == (assessor, moderator)
        assert sample.course_run == competent.course_enrollment.course_run
        assert sample.status == SampleStatus.OPEN
        assert [item.submission for item in sample.items.filter(in_sample=True)] == [submission]

        actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert {
            "outcome.created",
            "practitioner_registration.created",
            "placement.confirm",
            "placement.start",
            "mentorship.assign",
            "logbook.entry_add",
            "logbook.week_submit",
            "logbook.week_confirm",
            "workplace.observation_add",
            "workplace.portfolio_open",
            "workplace.portfolio_submit",
            "workplace.portfolio_assess",
            "moderation_sample.draw",
        } <= actions


def test_the_demo_shows_partners_and_finance(setup_demo):
    """An agent and a broker with confirmed bank details who brought the running intake; the
    sponsor's invoices in every state, a credit note, a statement with a matched line and one
    for a person, the partners' commissions and a payout, the programme's stipend with this
    month's draft run, and the running intake's grant with its claims."""
    setup_demo()

    with tenant_context(_demo()):
        today = timezone.localdate()
        finance = User.objects.get(email="finance@demo.example")
        admin = User.objects.get(email="admin@demo.example")
        running = Cohort.objects.get(state=CohortState.ACTIVE)
        assert FinanceSettings.objects.get(pk=1).vat_number

        agent = Partner.objects.get(code="AG-001")
        broker = Partner.objects.get(code="BR-001")
        assert (agent.kind, agent.commission_basis, agent.commission_value) == (
            PartnerKind.AGENT,
            CommissionBasis.PERCENT_OF_FEE,
            Decimal("10.00"),
        )
        assert (broker.kind, broker.commission_basis, broker.commission_value) == (
            PartnerKind.BROKER,
            CommissionBasis.FIXED,
            Decimal("750.00"),
        )
        for partner in (agent, broker):
            account = BankAccount.objects.get(partner=partner)
            assert account.confirmed_by == admin
            assert bank_details_open(account.sealed).last4 == account.account_last4
            change = BankAccountChange.objects.get(partner=partner)
            assert change.status == BankChangeStatus.CONFIRMED
            assert (change.requested_by, change.decided_by) == (finance, admin)
        introductions = LearnerIntroduction.objects.filter(learner__enrollments__cohort=running)
        assert introductions.count() == running.enrollments.count() == 8
        assert set(introductions.values_list("agent", "broker")) == {(agent.pk, broker.pk)}

        invoices = {
            invoice.reference: invoice
            for invoice in Invoice.objects.filter(kind=DocumentKind.INVOICE, sponsor__isnull=False)
        }
        assert {reference: i.status for reference, i in invoices.items()} == {
            "UM-PO-24017": InvoiceStatus.PAID,
            "UM-PO-24031": InvoiceStatus.ISSUED,
            "UM-PO-24058": InvoiceStatus.PARTIALLY_PAID,
            "UM-PO-24072": InvoiceStatus.DRAFT,
        }
        overdue = invoices["UM-PO-24031"]
        assert overdue.due_on < today
        assert overdue.issued_on < running.start_date + timedelta(30)
        part_paid = invoices["UM-PO-24058"]
        assert (part_paid.amount_paid, part_paid.amount_credited) == (
            Decimal("18000.00"),
            Decimal("4500.00"),
        )
        [credit_note] = Invoice.objects.filter(kind=DocumentKind.CREDIT_NOTE)
        assert credit_note.credited_invoice == part_paid
        assert credit_note.status == InvoiceStatus.ISSUED
        assert credit_note.number

        statement = BankStatementImport.objects.get()
        assert statement.debits_skipped == 1
        lines = {line.status: line for line in statement.lines.all()}
        assert set(lines) == {StatementLineStatus.MATCHED, StatementLineStatus.UNMATCHED}
        assert (
            lines[StatementLineStatus.MATCHED].payment.allocations.get().invoice
            == (invoices["UM-PO-24017"])
        )

        started = running.enrollments.filter(
            state__in=[EnrollmentState.IN_PROGRESS, EnrollmentState.COMPLETE]
        )
        agent_commissions = Commission.objects.filter(partner=agent)
        assert agent_commissions.count() == started.count() > 0
        # 10% of each learner's fee: R4 500 in each of the two core courses.
        assert {c.amount for c in agent_commissions} == {Decimal("900.00")}
        [payout] = Payment.objects.filter(purpose=PaymentPurpose.COMMISSION)
        assert payout.partner == agent
        assert set(agent_commissions.values_list("status", "payout")) == {
            (CommissionStatus.PAID, payout.pk)
        }
        [broker_commission] = Commission.objects.filter(partner=broker)
        assert broker_commission.placement.learner.email == "lerato@demo.example"
        assert (broker_commission.amount, broker_commission.status) == (
            Decimal("750.00"),
            CommissionStatus.ACCRUED,
        )

        programme = running.programme
        assert StipendRate.objects.get(programme=programme).monthly_amount == Decimal("3500.00")
        run = StipendRun.objects.get()
        assert (run.month, run.status) == (today.replace(day=1), StipendRunStatus.DRAFT)

        agreement = GrantAgreement.objects.get(cohort=running)
        assert agreement.claims.exists()

        actions = set(AuditEvent.objects.values_list("action", flat=True))
        assert {
            "partner.created",
            "invoice.issued",
            "credit_note.issued",
            "commission.accrued",
            "commission.paid",
            "grant_agreement.created",
        } <= actions


def _counts() -> dict[str, int]:
    """Rows of every model in the demo institution's schema, and its public rows."""
    tenant_labels = {"accounts", "audit", "notifications", "signing", "cohorts", "enrolments"}
    tenant_labels |= {"verification", "integrations", "sponsors", "guardian", "auth"}
    tenant_labels |= {"academics", "delivery", "placements", "workplace", "partners", "finance"}
    tenant_labels |= {"projects"}
    with tenant_context(_demo()):
        counts = {
            model._meta.label: model.objects.count()
            for model in apps.get_models()
            if model._meta.app_label in tenant_labels
        }
    counts["institutions"] = Institution.objects.count()
    counts["directory"] = _demo().directory_entries.count()
    return counts


def test_the_demo_shows_innovation_projects(setup_demo):
    """Thandi's workplace project approved by both panel reviewers and running, with a member,
    her host school's lead as mentor, a milestone done with its link and one missed and
    delayed; a classmate's proposal half scored; Thandi's next idea still a draft."""
    setup_demo()

    with tenant_context(_demo()):
        thandi = User.objects.get(email="thandi@demo.example")
        led = InnovationProject.objects.filter(
            members__user=thandi, members__role=MemberRole.LEADER
        )
        running = led.get(status=ProjectStatus.IN_PROGRESS)
        assert running.round == 1
        decision = running.status_changes.get(to_status=ProjectStatus.APPROVED)
        assert decision.panel_scores
        assert running.review_assignments.filter(submitted_at__isnull=False).count() == 2
        assert set(
            running.members.filter(left_date__isnull=True).values_list("role", flat=True)
        ) == {MemberRole.LEADER, MemberRole.MEMBER, MemberRole.MENTOR}
        assert running.members.get(role=MemberRole.MENTOR).user.email == "host@demo.example"
        statuses = dict(running.milestones.values_list("title", "status"))
        assert statuses == {
            "Commuter survey": MilestoneStatus.COMPLETED,
            "Prototype locker built": MilestoneStatus.DELAYED,
            "Six-week pilot at Bree Street": MilestoneStatus.PENDING,
        }
        assert running.milestones.get(status=MilestoneStatus.COMPLETED).evidence_link
        assert led.get(status=ProjectStatus.DRAFT).title == "Water-wise food garden"

        in_review = InnovationProject.objects.get(status=ProjectStatus.IN_REVIEW)
        assert in_review.created_by != thandi
        assert in_review.review_assignments.filter(submitted_at__isnull=False).count() == 1
        assert in_review.review_assignments.filter(submitted_at__isnull=True).count() == 1


def test_a_second_run_adds_nothing_and_prints_the_same_credentials(setup_demo):
    first = setup_demo()
    before = _counts()

    second = setup_demo()

    assert before["cohorts.Cohort"] == 4
    assert before["delivery.Certificate"] == 3
    assert before["delivery.AttendanceRecord"] > 0
    assert before["workplace.LogbookEntry"] == 7
    assert before["workplace.PortfolioSubmission"] == 2
    assert before["workplace.ModerationItem"] == 1
    assert before["partners.Partner"] == 2
    assert before["finance.Invoice"] == 5  # four invoices and a credit note
    assert before["finance.BankStatementLine"] == 2
    assert before["finance.GrantClaim"] > 0
    assert before["projects.InnovationProject"] == 3
    assert before["projects.ProjectMilestone"] == 3
    assert _counts() == before
    assert CREDENTIAL.findall(second) == CREDENTIAL.findall(first)
