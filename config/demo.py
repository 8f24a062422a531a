"""The demo institution's contents (`manage.py setup_demo`): a sponsor, one programme's cohorts
in every state, students at every step, a person for each role, and the programme's delivery:
its catalogue, course runs, sessions, registers, results, outcomes and certificates; and two host
organisations near the campus with a member, their places this year, and a cleared learner's
placement waiting for the school to confirm it; and workplace learning: the first course's unit
standards, a registered assessor and moderator, another learner's running placement at the
school with her logbook (a week confirmed by her mentor, one waiting for her), the mentor's
observation report, a portfolio assessed competent (in the moderator's sample) and one waiting
for the assessor.

Everything is made through the services, as the people would make it: the demo's super admin
creates, signs and runs the cohorts, invites the staff and the students; each student accepts
their invitation, fills in their details, uploads their documents and signs their agreement;
the verifier reviews; the sponsor's contact signs from the link e-mailed to them. The admin sets
up the catalogue and the cohorts' runs and schedules; the trainer takes the registers and records
the results, which the moderator signs off; the admin records last year's outcomes and issues
its certificates before completing that cohort. The placed learner logs her days and hands in
her portfolios; the school's member mentors and observes her; the assessor assesses. So the
audit trail, the state machines and the sealed agreements and certificates are what real use
leaves behind.

Each step first looks whether it was done (by names and addresses that never change), so a
second run adds nothing, and a run that stopped half-way finishes the job. Dates follow the day
the demo institution was made: its running cohort has started and not ended.

Accounts that get a password accept the invitation the services e-mailed them (the audit trail
says so), and the e-mail is taken out of the outbox before a worker sends it: nobody is e-mailed
an invitation for an account that already has a password. Only the student still at the
"invited" step keeps hers.

This module lives in config, the top layer: it calls every app."""

import datetime
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from PIL import Image, ImageDraw
from stdnum import luhn

from academics.grading import Band, grading_scale_create
from academics.models import (
    AcademicSession,
    AcademicYear,
    Closure,
    Course,
    CoursePrerequisite,
    Department,
    Faculty,
    GradingScale,
    Outcome,
    OutcomeKind,
    Programme,
    QualificationType,
)
from academics.services import (
    academic_session_create,
    academic_year_create,
    closure_create,
    course_create,
    course_prerequisite_add,
    department_create,
    faculty_create,
    outcome_create,
    programme_create,
)
from accounts.models import SystemRole, User
from accounts.roles import SYSTEM_ROLES
from accounts.services import (
    invitation_accept,
    invitation_resend,
    user_delete,
    user_invite,
    user_password_change,
)
from audit.context import RequestContext, activate, deactivate, new_correlation_id
from cohorts.models import Cohort, CohortState, CohortUserObjectPermission, DocumentType
from cohorts.services import (
    cohort_activate,
    cohort_cancel,
    cohort_complete,
    cohort_create,
    cohort_main_agreement_start,
    cohort_responsible_admins_set,
    cohort_reviewer_set,
    cohort_update,
    programme_settable,
)
from delivery.models import (
    AttendanceStatus,
    CourseEnrollment,
    CourseRun,
    CourseRunStatus,
    DeliveryMode,
    Session,
    SessionStatus,
    Trainer,
)
from delivery.services.assessments import gradebook_save
from delivery.services.attendance import Mark, register_save, register_sign_off
from delivery.services.certificates import certificate_issue, certificates_due
from delivery.services.moderation import run_moderator_assign, run_results_sign_off
from delivery.services.outcomes import cohort_outcomes_record
from delivery.services.runs import cohort_runs_create, prerequisites_missing, run_learners_enrol
from delivery.services.sessions import sessions_schedule_weekly
from delivery.services.trainers import TrainerDetails, trainer_create
from enrolments.agreements import enrollment_agreement_start, enrollment_agreements_send
from enrolments.models import (
    CohortEnrollment,
    DocumentStatus,
    EnrollmentState,
    ScanStatus,
    StudentDocument,
)
from enrolments.selectors import enrollment_document_steps, enrollment_student_signed
from enrolments.services import enrollment_details_save, enrollment_document_add, enrollment_invite
from enrolments.supporting import (
    supporting_agreement_start,
    supporting_agreements_send_for_cohort,
)
from enrolments.uploads import document_upload_check
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
    PaymentDirection,
    PaymentPurpose,
    StipendRate,
    StipendRun,
    StipendRunStatus,
)
from finance.receivers import placement_cohort_enrollment
from finance.selectors.stipends import month_first
from finance.services.commissions import commissions_accrue, commissions_pay
from finance.services.credit_notes import credit_note_draft_create
from finance.services.grants import (
    AgreementInput,
    grant_agreement_create,
    grant_claims_bring_up_to_date,
)
from finance.services.invoices import LineInput, Recipient, invoice_draft_create, invoice_issue
from finance.services.payments import PaymentInput, payment_receive
from finance.services.settings import finance_settings_update
from finance.services.statements import statement_import
from finance.services.stipends import stipend_rate_add, stipend_run_prepare
from learners.consents import consents_missing
from learners.forms import LearnerDetailsForm
from learners.models import ConsentMethod, Learner
from learners.services import consent_record
from notifications.models import OutboundEmail
from partners.bank import BankDetails, bank_details_clean, bank_details_seal
from partners.models import (
    BankAccount,
    BankAccountChange,
    BankChangeStatus,
    CommissionBasis,
    CommissionTrigger,
    LearnerIntroduction,
    Partner,
    PartnerKind,
    PaymentMethod,
)
from partners.services.introductions import learner_introduction_set
from partners.services.partners import partner_create
from placements.models import (
    OPEN_VETTING_STATUSES,
    Appetite,
    LearnerLocation,
    Organisation,
    OrganisationDetail,
    OrganisationMembership,
    Placement,
    PlacementPreference,
    PlacementStatus,
    PlacementSubject,
    VettingRecord,
    VettingType,
)
from placements.selectors.clearance import required_vetting_types
from placements.services.geocoding import learner_location_enter
from placements.services.memberships import membership_add
from placements.services.organisations import organisation_contact_add, organisation_create
from placements.services.placements import (
    Proposal,
    placement_confirm,
    placement_start,
    placements_propose,
)
from placements.services.preferences import preference_set
from placements.services.vetting import (
    clearance_expiry_default,
    evidence_document_type,
    evidence_is_reviewable,
    programme_vetting_requirements_set,
    vetting_evidence_add,
    vetting_record_clear,
    vetting_record_open,
)
from privacy.models import JobRun
from privacy.services.jobs import JOBS, job_run
from projects.models import InnovationProject, ReviewAssignment, ReviewCriterion
from projects.services.members import member_add
from projects.services.milestones import (
    milestone_add,
    milestone_complete,
    milestones_mark_delayed,
    project_start,
)
from projects.services.proposals import proposal_create, proposal_submit
from projects.services.review import project_decide, review_send, review_submit
from projects.services.review_setup import criterion_create, panel_create
from reports.evidence.services import evidence_pack_request
from reports.models import EvidencePack, ReportDefinition, ReportFormat, ReportSchedule
from reports.services import report_definition_create
from signing.models import AgreementTemplate, SigningLink, Submission, SubmissionStatus
from signing.selectors import link_for_token
from signing.services.completion import submitter_open, submitter_sign, submitter_sign_in_place
from signing.services.templates import template_create
from sponsors.models import Sponsor
from sponsors.selectors import cohort_sponsor_status, sponsor_submission
from sponsors.services import cohort_sponsor_set, sponsor_create, sponsor_invite
from tenants.models import Institution
from tenants.services import institution_profile_update
from verification.services import document_review
from workplace.models import (
    Decision,
    LogbookEntry,
    LogbookWeekStatus,
    Mentorship,
    ModerationSample,
    ObservationReport,
    PortfolioStatus,
    PractitionerRegistration,
    PractitionerRole,
)
from workplace.services.logbook import entry_add, week_confirm, week_monday, week_submit
from workplace.services.mentors import mentor_assign
from workplace.services.moderation import sample_draw
from workplace.services.observations import observation_add
from workplace.services.portfolios import (
    evidence_add_entry,
    evidence_add_observation,
    portfolio_assess,
    portfolio_open,
    portfolio_submit,
)
from workplace.services.practitioners import registration_create

DOMAIN = "demo.example"
SUPER_ADMIN_EMAIL = f"admin@{DOMAIN}"
# The user agent the signing trail records for what this module does on people's behalf.
USER_AGENT = "Cohortly demo set-up (manage.py setup_demo)"

PROFILE = {
    "registration_number": "2012/345678/07",
    "address": "12 Jan Smuts Avenue\nBraamfontein\nJohannesburg 2001",
    "contact_phone": "+27 11 555 0100",
}
PROGRAMME = "Data Analytics"  # a learnership: the cohorts' programme type says so
REQUIRED_DOCUMENTS = ("South African ID or passport", "Matric certificate")
# The supporting agreement every demo cohort asks its students to sign after the main one.
POPIA_CONSENT: dict[str, Any] = {
    "title": "POPIA consent",
    "body": "<p>I, {{ student.full_name }}, consent to {{ institution.name }} processing my "
    "personal information, including my ID number, contact details and qualifications, to run "
    "{{ cohort.name }}, to report on it to {{ sponsor.company_name }} and to register it with "
    "the SETA, as the Protection of Personal Information Act, 2013 allows.</p>"
    "<p>I may ask to see or correct it at any time.</p>",
    "signer_roles": ["student"],
}
SPONSOR = {
    "company_name": "Ubuntu Mining (Pty) Ltd",
    "contact_name": "Sipho Dlamini",
    "contact_email": f"sponsor@{DOMAIN}",
    "contact_phone": "+27 11 555 0142",
    "tax_number": "9123456789",
}
REJECTION = (
    "The certificate is cut off at the bottom: the results and the Umalusi stamp cannot be "
    "seen. Scan the whole page and upload it again."
)
CANCELLATION = "The sponsor moved its funding for this intake to the next one."


@dataclass(frozen=True)
class Staff:
    role: str
    email: str
    full_name: str


# Everyone but the super admin (made with the institution) and the students; in the order the
# credentials are printed.
STAFF = (
    Staff(SystemRole.ADMIN, f"programmes@{DOMAIN}", "Thabo Nkosi"),
    Staff(SystemRole.VERIFIER, f"verifier@{DOMAIN}", "Vusi Mahlangu"),
    Staff(SystemRole.AUDITOR, f"auditor@{DOMAIN}", "Anele Mthembu"),
    Staff(SystemRole.TRAINER, f"trainer@{DOMAIN}", "Pieter van Wyk"),
    Staff(SystemRole.MODERATOR, f"moderator@{DOMAIN}", "Nomsa Dube"),
    Staff(SystemRole.ASSESSOR, f"assessor@{DOMAIN}", "Lindiwe Mokoena"),
    Staff(SystemRole.OPS_ADMIN, f"ops@{DOMAIN}", "Kagiso Mokoena"),
    Staff(SystemRole.FINANCE, f"finance@{DOMAIN}", "Lindiwe Zulu"),
    Staff(SystemRole.SPONSOR_CONTACT, SPONSOR["contact_email"], SPONSOR["contact_name"]),
    Staff(SystemRole.ORGANISATION_MEMBER, f"host@{DOMAIN}", "Nomsa Dlamini"),
)


class Step(IntEnum):
    """How far a student has gone; each step includes the ones before."""

    INVITED = 0  # enrolled and e-mailed an invitation, not accepted yet
    DETAILS = 1  # accepted it and filled in their details
    UPLOADED = 2  # uploaded every required document, waiting for review
    REVIEWED = 3  # their documents decided (approved unless listed in `rejected`)
    SIGNED = 4  # signed their agreement as well


@dataclass(frozen=True)
class Student:
    email: str
    full_name: str
    birth: datetime.date
    female: bool
    step: Step
    rejected: tuple[str, ...] = ()  # document types rejected at the review
    city: str = "Soweto"
    home_language: str = "isizulu"

    @property
    def id_number(self) -> str:
        """A South African ID number that passes the checks: birth date, gender, citizen."""
        sequence = (1234 if self.female else 5678) + self.birth.day
        digits = f"{self.birth:%y%m%d}{sequence:04d}08"
        return digits + luhn.calc_check_digit(digits)


def _student(
    name: str,
    birth: str,
    step: Step,
    *,
    female: bool,
    rejected: tuple[str, ...] = (),
    city: str = "Soweto",
    home_language: str = "isizulu",
) -> Student:
    return Student(
        email=f"{name.split()[0].lower()}@{DOMAIN}",
        full_name=name,
        birth=datetime.date.fromisoformat(birth),
        female=female,
        step=step,
        rejected=rejected,
        city=city,
        home_language=home_language,
    )


# The student whose credentials are printed: her portal has work in it (a document to upload
# again, an agreement to sign).
STUDENT_EMAIL = f"thandi@{DOMAIN}"


@dataclass(frozen=True)
class CohortPlan:
    name: str
    start: datetime.date
    end: datetime.date
    state: str
    expected: int
    students: tuple[Student, ...] = ()
    sponsor_signs: bool = False
    verifier: bool = False  # the verifier reviews this cohort (else the super admin does)


def cohort_plans(anchor: datetime.date) -> list[CohortPlan]:
    """The programme's cohorts around `anchor` (the day the demo institution was made): last
    year's intake completed, this year's running, one cancelled and the next one in draft."""
    running = _running_start(anchor)

    def intake(months: int) -> dict[str, Any]:
        """An intake starting `months` after the running one's, for ten months."""
        start = _month_start(running, months)
        end = _month_start(start, 10) - datetime.timedelta(days=1)
        return {"name": f"{PROGRAMME}, {start:%B %Y} intake", "start": start, "end": end}

    return [
        CohortPlan(
            **intake(-12),
            state=CohortState.COMPLETED,
            expected=3,
            students=(
                _student("Zanele Mokoena", "2001-03-14", Step.SIGNED, female=True),
                _student("Sibusiso Nkosi", "1999-11-02", Step.SIGNED, female=False),
                _student(
                    "Precious Baloyi",
                    "2000-07-21",
                    Step.SIGNED,
                    female=True,
                    city="Polokwane",
                    home_language="xitsonga",
                ),
            ),
            sponsor_signs=True,
        ),
        CohortPlan(
            **intake(0),
            state=CohortState.ACTIVE,
            expected=8,
            students=(
                _student("Lindiwe Zulu", "2003-05-09", Step.INVITED, female=True),
                _student(
                    "Kagiso Molefe",
                    "2002-01-30",
                    Step.DETAILS,
                    female=False,
                    city="Mahikeng",
                    home_language="setswana",
                ),
                _student("Ayanda Khumalo", "2001-09-17", Step.UPLOADED, female=True),
                _student(
                    "Bongani Ndlovu",
                    "2000-12-03",
                    Step.UPLOADED,
                    female=False,
                    city="Durban",
                ),
                _student(
                    "Nomvula Sithole",
                    "2002-06-25",
                    Step.REVIEWED,
                    female=True,
                    city="Pietermaritzburg",
                ),
                _student(
                    "Thandi Mokoena",
                    "2001-10-01",
                    Step.REVIEWED,
                    female=True,
                    rejected=("Matric certificate",),
                ),
                _student(
                    "Lerato Mahlaba",
                    "1999-04-12",
                    Step.SIGNED,
                    female=True,
                    city="Bloemfontein",
                    home_language="sesotho",
                ),
                # Back after last year's intake: her details and verified documents came along.
                _student("Zanele Mokoena", "2001-03-14", Step.REVIEWED, female=True),
            ),
            verifier=True,
        ),
        CohortPlan(**intake(6), state=CohortState.CANCELLED, expected=15),
        CohortPlan(**intake(12), state=CohortState.DRAFT, expected=20),
    ]


def _running_start(anchor: datetime.date) -> datetime.date:
    """The running intake's first day: it started two months before the demo was made."""
    return _month_start(anchor, -2)


def _month_start(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` after (or before) `day`'s."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


@dataclass
class Demo:
    """What the demo is made of: the command prints its credentials; what is added to the
    demo later builds on its people, sponsor, catalogue and cohorts (by state)."""

    institution: Institution
    super_admin: User
    staff: dict[str, User]
    sponsor: Sponsor
    catalogue: "Catalogue"
    cohorts: dict[str, Cohort] = field(default_factory=dict)

    def credentials(self) -> list[tuple[str, str]]:
        """(role, e-mail) of one person for each role, as they sign in."""
        people: list[tuple[str, str]] = [(SystemRole.SUPER_ADMIN, self.super_admin.email)]
        people += [(role, user.email) for role, user in self.staff.items()]
        people.append((SystemRole.STUDENT, STUDENT_EMAIL))
        return [(SYSTEM_ROLES[role].name, email) for role, email in people]


def demo_build(institution: Institution, *, password: str) -> Demo:
    """Fill `institution` (whose super admin is SUPER_ADMIN_EMAIL) with the demo, or finish
    filling it; every account with a password gets `password`."""
    with tenant_context(institution), _acting():
        admin = User.objects.get(email=SUPER_ADMIN_EMAIL)
        # Every demo account has the same password: when the super admin's is no longer it
        # (a new credentials file), each one's is set again. One check, not one per person:
        # each costs a deliberately slow hash.
        passwords = Passwords(
            password, renew=admin.has_usable_password() and not admin.check_password(password)
        )
        account_ready(admin, passwords)
        _profile_filled(institution, admin)
        staff = {person.role: _staff_member(person, admin, passwords) for person in STAFF}
        sponsor = _sponsor(admin, staff[SystemRole.SPONSOR_CONTACT])
        anchor = timezone.localdate(institution.created_at)
        catalogue = _catalogue(admin, head=staff[SystemRole.ADMIN], anchor=anchor)
        demo = Demo(institution, admin, staff, sponsor, catalogue)
        delivery = Delivery(
            catalogue=catalogue,
            admin=admin,
            trainer=_trainer(admin, staff[SystemRole.TRAINER], anchor=anchor),
            moderator=staff[SystemRole.MODERATOR],
        )
        for plan in cohort_plans(anchor):
            demo.cohorts[plan.state] = _cohort_run(
                plan,
                admin=admin,
                verifier=staff[SystemRole.VERIFIER],
                sponsor=sponsor,
                passwords=passwords,
                delivery=delivery,
            )
        # The programme's admin looks after the running intake with the super admin: it comes
        # first on their start page, and they hear of its declines.
        cohort_responsible_admins_set(
            cohort=demo.cohorts[CohortState.ACTIVE],
            actor=admin,
            admins=[admin, staff[SystemRole.ADMIN]],
        )
        placements_hosted(demo, member=staff[SystemRole.ORGANISATION_MEMBER], anchor=anchor)
        workplace_learning(demo, anchor=anchor)
        partners_and_finance(demo, anchor=anchor)
        reports_and_data_protection(demo, passwords)
        innovation_projects(demo, anchor=anchor)
    return demo


@contextmanager
def _acting() -> Iterator[None]:
    """What the audit trail and the signing certificates record as where the actions came
    from: this command, not a browser."""
    token = activate(RequestContext(correlation_id=new_correlation_id(), user_agent=USER_AGENT))
    try:
        yield
    finally:
        deactivate(token)


# --- People ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Passwords:
    """The demo accounts' password, and whether accounts that have one get it again."""

    password: str
    renew: bool = False


def account_ready(user: User, passwords: Passwords) -> None:
    """The person accepts their invitation with the demo password (or, signed up already, has
    it set again if `passwords.renew`); the invitation e-mail still waiting in the outbox is
    withdrawn: they have signed up, so it would only confuse them."""
    user.refresh_from_db()
    if user.has_usable_password():
        if passwords.renew and not user.check_password(passwords.password):
            user_password_change(user=user, new_password=passwords.password, reset=True)
        return
    invitation = user.invitations.filter(
        used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).first()
    if invitation is None:  # expired since an earlier run: ask for a fresh one, as they would
        invitation = invitation_resend(invitation=user.invitations.all()[0])
    invitation_accept(invitation=invitation, full_name=user.full_name, password=passwords.password)
    OutboundEmail.objects.filter(
        recipient=user.email, template="invitation", status=OutboundEmail.Status.QUEUED
    ).delete()


def _staff_member(person: Staff, admin: User, passwords: Passwords) -> User:
    user = User.objects.filter(email=person.email).first()
    if user is None:
        user = user_invite(
            email=person.email, full_name=person.full_name, roles=[person.role], actor=admin
        )
    account_ready(user, passwords)
    return user


def _profile_filled(institution: Institution, admin: User) -> None:
    """The institution's registration number and address, which agreements name; a value
    already there (set by hand) is kept."""
    changes = {name: value for name, value in PROFILE.items() if not getattr(institution, name)}
    if changes:
        institution_profile_update(institution=institution, actor=admin, changes=changes)


def _sponsor(admin: User, contact: User) -> Sponsor:
    sponsor = Sponsor.objects.filter(company_name=SPONSOR["company_name"]).first()
    return sponsor or sponsor_create(actor=admin, user=contact, **SPONSOR)


# --- Cohorts --------------------------------------------------------------------------------

CLOSED = (CohortState.COMPLETED, CohortState.CANCELLED)


def _cohort_run(
    plan: CohortPlan,
    *,
    admin: User,
    verifier: User,
    sponsor: Sponsor,
    passwords: Passwords,
    delivery: "Delivery",
) -> Cohort:
    """Take the cohort of `plan` as far as the plan says, from wherever it is."""
    programme = delivery.catalogue.programme
    cohort = Cohort.objects.filter(name=plan.name).first() or _cohort_create(plan, admin, programme)
    if cohort.state in CLOSED:
        return cohort
    if cohort.programme_id is None and programme_settable(cohort):  # made before programmes
        cohort = cohort_update(cohort=cohort, actor=admin, changes={"programme": programme})
    if cohort.sponsor_id != sponsor.pk:
        cohort = cohort_sponsor_set(cohort=cohort, sponsor=sponsor, actor=admin)
    if plan.state == CohortState.CANCELLED:
        return cohort_cancel(cohort=cohort, actor=admin, reason=CANCELLATION)
    if plan.state == CohortState.DRAFT:
        return cohort
    if cohort.state == CohortState.DRAFT:
        if cohort.admin_signed_at is None:
            institution_signs(cohort, admin)
        cohort = cohort_activate(cohort=cohort, actor=admin)
    reviewer = admin
    if plan.verifier:
        _reviewer_granted(cohort, verifier, admin)
        reviewer = verifier
    if sponsor_submission(cohort) is None:
        sponsor_invite(cohort=cohort, actor=admin)
    enrolled = [(_enrolled(cohort, student, admin), student) for student in plan.students]
    # What the task queued by each enrolment does: the agreements wait in the portal.
    enrollment_agreements_send(cohort=cohort)
    supporting_agreements_send_for_cohort(cohort=cohort)
    for enrollment, student in enrolled:
        _student_progress(enrollment, student, reviewer=reviewer, passwords=passwords)
    if plan.sponsor_signs:
        sponsor_signs(cohort, admin)
        learner_agreements_signed_by_sponsor_and_institution(cohort, admin)
    if plan.state == CohortState.ACTIVE:
        running_delivery(cohort, delivery)
    if plan.state == CohortState.COMPLETED:
        completed_delivery(cohort, plan, delivery)
        cohort = cohort_complete(cohort=cohort, actor=admin)
    return cohort


def _cohort_create(plan: CohortPlan, admin: User, programme: Programme) -> Cohort:
    return cohort_create(
        actor=admin,
        name=plan.name,
        programme=programme,
        program_type="learnership",
        student_count=plan.expected,
        start_date=plan.start,
        end_date=plan.end,
        main_template=AgreementTemplate.objects.filter(is_archived=False).order_by("pk").first(),
        supporting_templates=[_popia_consent(admin)],
        required_document_types=list(DocumentType.objects.filter(name__in=REQUIRED_DOCUMENTS)),
    )


def _popia_consent(admin: User) -> AgreementTemplate:
    template = AgreementTemplate.objects.filter(title=POPIA_CONSENT["title"]).first()
    return template or template_create(
        actor=admin,
        title=POPIA_CONSENT["title"],
        body=POPIA_CONSENT["body"],
        signer_roles=POPIA_CONSENT["signer_roles"],
    )


def _reviewer_granted(cohort: Cohort, verifier: User, admin: User) -> None:
    if not CohortUserObjectPermission.objects.filter(user=verifier, content_object=cohort).exists():
        cohort_reviewer_set(cohort=cohort, actor=admin, reviewer=verifier, allowed=True)


# --- The programme: what it teaches ---------------------------------------------------------

FACULTY = {
    "name": "Faculty of Information Technology",
    "code": "IT",
    "description": "Occupational programmes in software, data and IT support.",
}
DEPARTMENT = {
    "name": "Data and Analytics",
    "code": "DATA",
    "description": "Learnerships and skills programmes in data analysis.",
}
SCALE = "Learnership scale"
SCALE_BANDS = [
    Band(Decimal("75"), "A", Decimal("4.00")),
    Band(Decimal("65"), "B", Decimal("3.00")),
    Band(Decimal("50"), "C", Decimal("2.00")),
    Band(Decimal("0"), "NYC", Decimal("0.00")),
]
PROGRAMME_FIELDS: dict[str, Any] = {
    "code": "DA-LP5",
    "name": PROGRAMME,
    "description": "A twelve-month learnership: spreadsheets, databases and SQL, and "
    "dashboards, with workplace practice at the sponsor.",
    "duration_years": Decimal("1.0"),
    "total_credits": 120,
    "degree_type": QualificationType.LEARNERSHIP,
    "nqf_level": 5,
    "saqa_qualification_id": "118708",
    # Each course run's place; the sponsor pays it all through its SETA grant.
    "fee_amount": Decimal("4500.00"),
    "fee_currency": "ZAR",
    "subsidy_info": "MICT SETA discretionary grant through the sponsor, 100%",
}


@dataclass(frozen=True)
class CoursePlan:
    code: str
    name: str
    credits: int
    hours_per_week: int
    core: bool
    requires: str = ""  # the code of the course that must be completed first


COURSES = (
    CoursePlan("DA101", "Data foundations and spreadsheets", 50, 6, core=True),
    CoursePlan("DA102", "Databases and SQL", 50, 6, core=True),
    CoursePlan("DA201", "Dashboards and data storytelling", 20, 3, core=False, requires="DA101"),
)
CLOSURE = "Staff development week"


@dataclass(frozen=True)
class Catalogue:
    """The programme the demo cohorts study, its courses by code, and the academic sessions of
    the running intake's year (current) and of last year's."""

    programme: Programme
    courses: dict[str, Course]
    current_session: AcademicSession
    last_session: AcademicSession


def _catalogue(admin: User, *, head: User, anchor: datetime.date) -> Catalogue:
    """The faculty and department (headed by the programmes' admin), the grading scale, the
    programme and its courses, the academic years with their sessions, and a closure."""
    faculty = Faculty.objects.filter(code=FACULTY["code"]).first() or faculty_create(
        actor=admin, fields=FACULTY
    )
    department = Department.objects.filter(
        faculty=faculty, code=DEPARTMENT["code"]
    ).first() or department_create(
        actor=admin, fields={**DEPARTMENT, "faculty": faculty, "head_of_department": head}
    )
    scale = GradingScale.objects.filter(name=SCALE).first() or grading_scale_create(
        actor=admin, name=SCALE, pass_mark=Decimal("50"), bands=SCALE_BANDS
    )
    programme = Programme.objects.filter(code=PROGRAMME_FIELDS["code"]).first() or (
        programme_create(
            actor=admin,
            fields={**PROGRAMME_FIELDS, "department": department, "grading_scale": scale},
        )
    )
    courses = {}
    for plan in COURSES:
        courses[plan.code] = Course.objects.filter(
            programme=programme, code=plan.code
        ).first() or course_create(
            actor=admin,
            fields={
                "programme": programme,
                "code": plan.code,
                "name": plan.name,
                "credits": plan.credits,
                "hours_per_week": plan.hours_per_week,
                "is_core": plan.core,
            },
        )
        if plan.requires:
            required = courses[plan.requires]
            if not CoursePrerequisite.objects.filter(
                course=courses[plan.code], prerequisite_course=required
            ).exists():
                course_prerequisite_add(
                    course=courses[plan.code], prerequisite=required, actor=admin
                )
    running = _running_start(anchor)
    current = _academic_session(admin, starts_on=running, current=True)
    last = _academic_session(admin, starts_on=_month_start(running, -12), current=False)
    if not Closure.objects.filter(name=CLOSURE).exists():
        # A week the running intake's schedule skips, three months in.
        starts_on = _month_start(running, 3)
        starts_on += datetime.timedelta(days=-starts_on.weekday() % 7)  # its first Monday
        closure_create(
            actor=admin,
            fields={
                "name": CLOSURE,
                "starts_on": starts_on,
                "ends_on": starts_on + datetime.timedelta(days=4),
            },
        )
    return Catalogue(programme, courses, current_session=current, last_session=last)


def _academic_session(admin: User, *, starts_on: datetime.date, current: bool) -> AcademicSession:
    """The academic year of an intake (twelve months from its start) and its one session."""
    ends_on = _month_start(starts_on, 12) - datetime.timedelta(days=1)
    name = f"{starts_on:%Y}" if starts_on.year == ends_on.year else f"{starts_on:%Y}–{ends_on:%y}"
    year = AcademicYear.objects.filter(name=name).first() or academic_year_create(
        actor=admin, fields={"name": name, "starts_on": starts_on, "ends_on": ends_on}
    )
    code = f"INT-{starts_on:%Y-%m}"
    return AcademicSession.objects.filter(code=code).first() or academic_session_create(
        actor=admin,
        fields={
            "academic_year": year,
            "name": f"{starts_on:%B %Y} intake",
            "code": code,
            "start_date": starts_on,
            "end_date": ends_on,
            "is_current": current,
        },
    )


# --- The programme: how it is delivered ----------------------------------------------------

VENUE = "Training room 1, Braamfontein campus"
MORNING = (datetime.time(9), datetime.time(12))
TUESDAY, WEDNESDAY, THURSDAY = 1, 2, 3
FORMATIVE, SUMMATIVE = "Formative assessment", "Summative assessment"
# The running intake's first registers: everyone present but for these (e-mail: mark).
REGISTERS: tuple[dict[str, Mark], ...] = (
    {},
    {f"kagiso@{DOMAIN}": Mark(AttendanceStatus.ABSENT)},
    {
        f"bongani@{DOMAIN}": Mark(
            AttendanceStatus.EXCUSED, "Clinic appointment; the clinic's letter was handed in."
        )
    },
)
# Last year's results (formative, summative) by course and learner. Zanele did not pass the
# databases course (she is back in this year's intake); Precious took the elective as well.
RESULTS: dict[str, dict[str, tuple[str, str]]] = {
    "DA101": {
        f"zanele@{DOMAIN}": ("72", "68"),
        f"sibusiso@{DOMAIN}": ("81", "77"),
        f"precious@{DOMAIN}": ("64", "70"),
    },
    "DA102": {
        f"zanele@{DOMAIN}": ("55", "41"),
        f"sibusiso@{DOMAIN}": ("74", "79"),
        f"precious@{DOMAIN}": ("66", "71"),
    },
    "DA201": {f"precious@{DOMAIN}": ("78", "83")},
}
# When last year's runs met: weekday, and the month of the intake their four weeks began.
LAST_YEAR_SCHEDULE = {"DA101": (TUESDAY, 0), "DA102": (WEDNESDAY, 0), "DA201": (THURSDAY, 6)}


@dataclass(frozen=True)
class Delivery:
    """Who delivers the programme: the admin who sets it up, the trainer and the moderator."""

    catalogue: Catalogue
    admin: User
    trainer: Trainer
    moderator: User


def _trainer(admin: User, user: User, *, anchor: datetime.date) -> Trainer:
    """The trainer's record (accreditation and all) for the demo trainer's account."""
    trainer = Trainer.objects.filter(user=user).first()
    return trainer or trainer_create(
        actor=admin,
        email=user.email,
        details=TrainerDetails(
            name=user.full_name,
            phone_number="+27 82 555 0177",
            credentials="ETDP SETA registered facilitator and assessor; BCom Informatics.",
            accreditation_number="ETDP-ASR-0412-2019",
            accreditation_expires_on=_month_start(anchor, 26) - datetime.timedelta(days=1),
        ),
    )


def running_delivery(cohort: Cohort, delivery: Delivery) -> None:
    """The running intake's runs (the trainer's, the first one given to the moderator), its
    first course's weekly schedule with its first three registers taken and signed off, and
    the returning learner in the elective her last year's course opened."""
    runs = _runs(cohort, delivery, delivery.catalogue.current_session)
    first = runs["DA101"]
    sessions = _scheduled(first, delivery, [TUESDAY, THURSDAY], first.start_date, first.end_date)
    past = [session for session in sessions if session.session_date < timezone.localdate()]
    for session, exceptions in zip(past, REGISTERS, strict=False):
        _register_taken(session, delivery, exceptions)
    if first.moderator_id is None:
        run_moderator_assign(run=first, actor=delivery.admin, moderator=delivery.moderator)
    elective = runs["DA201"]
    returning = CohortEnrollment.objects.filter(
        cohort=cohort, user__email=f"zanele@{DOMAIN}"
    ).first()
    if (
        returning is not None
        and not CourseEnrollment.objects.filter(enrollment=returning, course_run=elective).exists()
        and not prerequisites_missing(course=elective.course, learners=[returning])
    ):
        run_learners_enrol(actor=delivery.admin, run=elective, learners=[returning])


def completed_delivery(cohort: Cohort, plan: CohortPlan, delivery: Delivery) -> None:
    """Last year's intake, delivered: each run's four weeks of sessions with their registers,
    results recorded by the trainer and moderated; the elective taken by one learner once its
    prerequisite was completed; every learner's outcome recorded and their certificate (or
    statement of results) issued."""
    runs = _runs(cohort, delivery, delivery.catalogue.last_session)
    for code in ("DA101", "DA102"):
        _run_finished(runs[code], plan, delivery)
    elective = runs["DA201"]
    taking = list(
        CohortEnrollment.objects.filter(cohort=cohort, user__email__in=RESULTS["DA201"]).exclude(
            course_enrollments__course_run=elective
        )
    )
    if taking:
        run_learners_enrol(actor=delivery.admin, run=elective, learners=taking)
    _run_finished(elective, plan, delivery)
    cohort_outcomes_record(cohort=cohort, actor=delivery.admin, completion_date=plan.end)
    for enrollment in certificates_due(cohort):
        certificate_issue(enrollment=enrollment, actor=delivery.admin)


def _runs(cohort: Cohort, delivery: Delivery, session: AcademicSession) -> dict[str, CourseRun]:
    """The cohort's runs by course code, created (with the learners' course enrolments) by the
    admin unless they were."""
    runs = CourseRun.objects.filter(cohort=cohort).exclude(status=CourseRunStatus.CANCELLED)
    if not runs.exists():
        cohort_runs_create(
            actor=delivery.admin,
            cohort=cohort,
            trainer=delivery.trainer,
            academic_session=session,
            delivery_mode=DeliveryMode.CLASSROOM,
            venue=VENUE,
        )
    return {run.course.code: run for run in runs.select_related("course", "cohort")}


def _scheduled(
    run: CourseRun,
    delivery: Delivery,
    weekdays: list[int],
    first: datetime.date,
    last: datetime.date,
) -> list[Session]:
    """The run's sessions, the admin's weekly schedule (mornings, skipping holidays and
    closures) unless it has some."""
    if not run.sessions.exists():
        sessions_schedule_weekly(
            actor=delivery.admin,
            run=run,
            weekdays=weekdays,
            first=first,
            last=last,
            start_time=MORNING[0],
            end_time=MORNING[1],
        )
    return list(run.sessions.filter(status=SessionStatus.SCHEDULED).order_by("session_date"))


def _register_taken(session: Session, delivery: Delivery, exceptions: dict[str, Mark]) -> None:
    """The trainer marks the exceptions, everyone else present in one tap, and signs off."""
    if session.is_signed_off:
        return
    trainer = delivery.trainer.user
    enrolments = dict(
        CourseEnrollment.objects.filter(
            course_run=session.course_run, enrollment__user__email__in=exceptions
        ).values_list("enrollment__user__email", "pk")
    )
    marks = {enrolments[email]: mark for email, mark in exceptions.items() if email in enrolments}
    register_save(session=session, actor=trainer, marks=marks, rest_present=True)
    register_sign_off(session=session, actor=trainer)


def _run_finished(run: CourseRun, plan: CohortPlan, delivery: Delivery) -> None:
    """A run of last year: four weeks of sessions, every register taken, the trainer's results
    in the gradebook, signed off by the moderator."""
    weekday, month = LAST_YEAR_SCHEDULE[run.course.code]
    first = _month_start(plan.start, month)
    for session in _scheduled(run, delivery, [weekday], first, first + datetime.timedelta(27)):
        _register_taken(session, delivery, {})
    if run.moderated_at is not None:
        return
    enrolments = dict(
        CourseEnrollment.objects.filter(course_run=run).values_list("enrollment__user__email", "pk")
    )
    cells = {}
    for email, (formative, summative) in RESULTS[run.course.code].items():
        cells[enrolments[email], FORMATIVE] = formative
        cells[enrolments[email], SUMMATIVE] = summative
    gradebook_save(run=run, actor=delivery.trainer.user, cells=cells)
    if run.moderator_id is None:
        run = run_moderator_assign(run=run, actor=delivery.admin, moderator=delivery.moderator)
    run_results_sign_off(run=run, actor=delivery.moderator)


# --- Placements -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HostPlan:
    """A host organisation near the campus, its placement lead and what it offers this year."""

    name: str
    school: bool
    employer: bool
    address: dict[str, str]
    latitude: float
    longitude: float
    detail: dict[str, Any]
    contact: dict[str, str]
    places: int


HOSTS = (
    HostPlan(
        name="Orlando West High School",
        school=True,
        employer=False,
        address={
            "address_1": "8115 Vilakazi Street",
            "town": "Orlando West",
            "city": "Soweto",
            "county": "Gauteng",
            "postcode": "1804",
        },
        latitude=-26.2385,
        longitude=27.9084,
        detail={"phase": OrganisationDetail.Phase.SECONDARY, "pupil_count": 1240},
        contact={
            "first_name": "Thabo",
            "last_name": "Mabena",
            "email_address": f"placements@orlandowest.{DOMAIN}",
            "phone": "+27 11 555 0231",
            "role": "Placement lead",
        },
        places=2,
    ),
    HostPlan(
        name="Braamfontein Data Works (Pty) Ltd",
        school=False,
        employer=True,
        address={
            "address_1": "31 Juta Street",
            "town": "Braamfontein",
            "city": "Johannesburg",
            "county": "Gauteng",
            "postcode": "2001",
        },
        latitude=-26.1935,
        longitude=28.0344,
        detail={
            "phase": OrganisationDetail.Phase.NOT_APPLICABLE,
            "employee_count": 85,
            "sector": "Information technology",
        },
        contact={
            "first_name": "Refilwe",
            "last_name": "Mokoena",
            "email_address": f"mentors@datawork.{DOMAIN}",
            "phone": "+27 11 555 0388",
            "role": "Workplace mentor",
        },
        places=3,
    ),
)
PLACEMENT_SUBJECT = "IT"
# The learner cleared for placement, with a placement proposed to the school, and her home in
# Soweto (entered coordinates: the distance search finds the hosts near her).
PLACED_EMAIL = STUDENT_EMAIL
PLACED_HOME = (-26.2485, 27.8540)


def placements_hosted(demo: Demo, *, member: User, anchor: datetime.date) -> None:
    """Two host organisations near the campus, with their placement leads and places for this
    year; their member (Nomsa Dlamini, of both, the school current); Thandi's home in Soweto;
    the police clearance the programme requires, cleared for her on her certificate; and her
    placement at the school, proposed by the admin for two months from now, waiting for the
    school to confirm it.

    The super admin does each of these through the services the organisation, member,
    vetting and placement pages use."""
    admin = demo.super_admin
    year = demo.catalogue.current_session.academic_year
    subject = PlacementSubject.objects.get(code=PLACEMENT_SUBJECT)
    hosts = [_host(plan, admin, year, subject) for plan in HOSTS]
    # The school first: a person's first membership is their current one.
    for host in hosts:
        if not OrganisationMembership.objects.filter(user=member, organisation=host).exists():
            membership_add(actor=admin, organisation=host, email=member.email)
    programme = demo.catalogue.programme
    police = VettingType.objects.get(code="police_clearance")
    required = list(required_vetting_types(programme))
    if police not in required:
        programme_vetting_requirements_set(
            actor=admin, programme=programme, vetting_types=[*required, police]
        )
    enrollment = CohortEnrollment.objects.select_related("learner").get(
        cohort=demo.cohorts[CohortState.ACTIVE], user__email=PLACED_EMAIL
    )
    learner = enrollment.learner
    if not LearnerLocation.objects.filter(learner=learner, latitude__isnull=False).exists():
        learner_location_enter(
            actor=admin, learner=learner, latitude=PLACED_HOME[0], longitude=PLACED_HOME[1]
        )
    _cleared(learner, police, admin, reference="SAPS-PCC-2026-118204")
    if not Placement.objects.filter(learner=learner).exists():
        starts_on = _month_start(anchor, 2)
        placements_propose(
            actor=admin,
            proposals=[
                Proposal(
                    learner=learner,
                    organisation=hosts[0],
                    cohort=enrollment.cohort,
                    academic_year=year,
                    subject=subject,
                    starts_on=starts_on,
                    ends_on=min(
                        _month_start(starts_on, 2) - datetime.timedelta(days=1), year.ends_on
                    ),
                    supervisor=hosts[0].contacts.first(),
                )
            ],
        )


def _host(
    plan: HostPlan, admin: User, year: AcademicYear, subject: PlacementSubject
) -> Organisation:
    """The organisation with its address, details and entered coordinates, its placement lead,
    and its preference for the year."""
    host = Organisation.objects.filter(name=plan.name).first()
    if host is None:
        host = organisation_create(
            actor=admin,
            fields={
                "name": plan.name,
                "school": plan.school,
                "employer": plan.employer,
                "email_address": plan.contact["email_address"],
                "phone": plan.contact["phone"],
            },
            address=plan.address,
            detail=plan.detail,
            latitude=plan.latitude,
            longitude=plan.longitude,
        )
    if not host.contacts.exists():
        organisation_contact_add(actor=admin, organisation=host, fields=plan.contact)
    if not PlacementPreference.objects.filter(organisation=host, academic_year=year).exists():
        preference_set(
            actor=admin,
            organisation=host,
            academic_year=year,
            appetite=Appetite.INTERESTED,
            details={
                "places": [
                    {"subject": subject.code, "phase": subject.phase, "places": plan.places}
                ],
                "notes": "Learners work alongside the placement lead, mornings and afternoons.",
            },
        )
    return host


def _cleared(
    learner: Learner, vetting_type: VettingType, admin: User, *, reference: str
) -> VettingRecord:
    """The learner's check of that type, opened, given its certificate as evidence and cleared
    (with the type's usual validity from today) unless it was done before."""
    record = (
        VettingRecord.objects.filter(learner=learner, vetting_type=vetting_type)
        .order_by("-pk")
        .first()
    )
    if record is None:
        record = vetting_record_open(
            actor=admin,
            learner=learner,
            vetting_type=vetting_type,
            reference=reference,
        )
    if record.status not in OPEN_VETTING_STATUSES:
        return record
    if not any(evidence_is_reviewable(evidence) for evidence in record.evidence.all()):
        upload = SimpleUploadedFile(
            "police-clearance.pdf",
            demo_pdf(
                [
                    "Police clearance certificate (demo copy)",
                    f"Issued to {learner.full_name}",
                    "Not a real certificate: made by Cohortly's demo set-up.",
                ]
            ),
            "application/pdf",
        )
        checked = document_upload_check(
            upload=upload, document_type=evidence_document_type(vetting_type)
        )
        try:
            vetting_evidence_add(
                actor=admin, record=record, checked=checked, scan_status=ScanStatus.NOT_SCANNED
            )
        finally:
            checked.file.close()
    return vetting_record_clear(
        actor=admin,
        record=record,
        expires_on=clearance_expiry_default(vetting_type, timezone.localdate()),
    )


# --- Workplace learning ---------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomePlan:
    code: str  # in the style of a SAQA unit standard id
    title: str
    credits: int
    nqf_level: int


# What the running intake's first course asks its learners to show at work.
OUTCOMES_COURSE = "DA101"
OUTCOMES = (
    OutcomePlan("116943", "Use a spreadsheet application to solve a given problem", 6, 4),
    OutcomePlan("117924", "Clean, sort and summarise data for a report", 8, 4),
    OutcomePlan("114049", "Present data in charts and tables to answer a business question", 5, 4),
)


@dataclass(frozen=True)
class RegistrationPlan:
    email: str
    role: str
    number: str
    registered_with: str
    months: int  # it expires at the end of the month this many months after the anchor's


# The assessor and the moderator, each registered for the programme for about two more years.
REGISTRATIONS = (
    RegistrationPlan(
        f"assessor@{DOMAIN}", PractitionerRole.ASSESSOR, "MICT-ASR-0815", "MICT SETA", 24
    ),
    RegistrationPlan(
        f"moderator@{DOMAIN}", PractitionerRole.MODERATOR, "MICT-MOD-0412", "MICT SETA", 22
    ),
)
# The super admin also assesses, on a registration that runs out three weeks after the anchor:
# the practitioners' list shows it under "expiring".
EXPIRING = RegistrationPlan(
    SUPER_ADMIN_EMAIL, PractitionerRole.ASSESSOR, "MICT-ASR-0098", "MICT SETA", 0
)
EXPIRING_DAYS = 21

# The learner on placement at the school (started four weeks before the anchor), and her week's
# work: (days after the placement's first Monday, hours, what she did, outcome codes).
WORKING_EMAIL = f"lerato@{DOMAIN}"
PLACEMENT_WEEKS = 12
LOGBOOK: tuple[tuple[int, str, str, tuple[str, ...]], ...] = (
    (
        0,
        "7.5",
        "Met the school's IT coordinator; set up the Grade 10 marks spreadsheet from the class "
        "lists.",
        ("116943",),
    ),
    (
        1,
        "8",
        "Wrote the formulas for term averages and a lookup of each learner's class teacher; "
        "checked them against last term's report.",
        ("116943",),
    ),
    (
        2,
        "6.5",
        "Cleaned the attendance export: removed duplicate rows, fixed the dates and sorted it "
        "by grade and class.",
        ("117924",),
    ),
    (
        3,
        "7",
        "Summarised absence by grade in a pivot table for the deputy principal.",
        ("117924", "116943"),
    ),
    (
        7,
        "7.5",
        "Charted each subject's term average for the Grade 10 parents' evening.",
        ("114049",),
    ),
    (
        8,
        "7.5",
        "Added the second test's marks and protected the spreadsheet's formula cells.",
        ("116943",),
    ),
    (
        9,
        "5",
        "Wrote a one-page summary of attendance trends, with two charts, for the staff meeting.",
        ("114049", "117924"),
    ),
)
CONFIRMATION = "A good first week: the marks spreadsheet is already in use by the Grade 10 team."
OBSERVATION = (
    1,
    "116943",
    "Lerato built the term-average formulas on her own, tested them on three classes against "
    "last term's printed report and explained to the Grade 10 head how the lookup finds each "
    "learner's class teacher. She asked before changing the shared sheet and kept a copy.",
)
# The portfolios: the outcome, and whether the assessor has found it competent (else it waits).
PORTFOLIOS = (("116943", True), ("117924", False))
COMPETENT_FEEDBACK = (
    "The marks spreadsheet from your logbook and your mentor's observation show you use a "
    "spreadsheet to solve the school's problem, on your own. Competent."
)


def workplace_learning(demo: Demo, *, anchor: datetime.date) -> None:
    """The running intake's first course's outcomes (three unit standards); the assessor's and
    the moderator's registrations covering the programme, and the super admin's, about to
    expire; Lerato's placement at the school, started four weeks before the anchor and mentored
    by the school's member; her logbook's first week confirmed by her mentor and her second
    handed in, waiting for the mentor; the mentor's observation report of her work; her
    portfolio for one outcome assessed competent by the assessor (given to the moderator in a
    sample) and another handed in, waiting for an assessor.

    The admin, the learner, the mentor and the assessor each act through the services their
    pages use; the logbook is dated from the placement's start, never after the anchor. The
    super admin's expiring registration is made only while its expiry date is still ahead (a
    demo institution made weeks ago goes without it)."""
    admin = demo.super_admin
    programme = demo.catalogue.programme
    course = demo.catalogue.courses[OUTCOMES_COURSE]
    outcomes = _outcomes(course, admin)
    for plan in REGISTRATIONS:
        _registered(plan, admin, programme, anchor)
    if anchor + datetime.timedelta(days=EXPIRING_DAYS) > timezone.localdate():  # else: expired
        _registered(EXPIRING, admin, programme, anchor)
    running = demo.cohorts[CohortState.ACTIVE]
    enrollment = CohortEnrollment.objects.select_related("learner", "user").get(
        cohort=running, user__email=WORKING_EMAIL
    )
    placement = _placement_running(demo, enrollment, anchor)
    mentor = demo.staff[SystemRole.ORGANISATION_MEMBER]
    if not Mentorship.objects.filter(placement=placement, ended_at__isnull=True).exists():
        mentor_assign(actor=admin, placement=placement, mentor=mentor)
    learner = enrollment.user
    entries = _logbook_written(placement, learner, mentor, outcomes)
    day, code, report = OBSERVATION
    observed_on = placement.starts_on + datetime.timedelta(days=day)
    observation = ObservationReport.objects.filter(
        placement=placement, outcome=outcomes[code], observed_on=observed_on
    ).first() or observation_add(
        actor=mentor,
        placement=placement,
        outcome=outcomes[code],
        observed_on=observed_on,
        report=report,
    )
    course_enrollment = CourseEnrollment.objects.select_related("course_run").get(
        enrollment=enrollment, course_run__course=course, course_run__cohort=running
    )
    assessor = demo.staff[SystemRole.ASSESSOR]
    for code, competent in PORTFOLIOS:
        _portfolio_handed_in(
            course_enrollment,
            outcomes[code],
            learner=learner,
            entries=entries,
            observation=observation,
            assessor=assessor if competent else None,
        )
    run = course_enrollment.course_run
    if not ModerationSample.objects.filter(course_run=run, assessor=assessor).exists():
        sample_draw(
            actor=admin,
            course_run=run,
            assessor=assessor,
            moderator=demo.staff[SystemRole.MODERATOR],
        )


def _outcomes(course: Course, admin: User) -> dict[str, Outcome]:
    """The course's outcomes of OUTCOMES by code, added by the admin unless they were."""
    outcomes = {}
    for plan in OUTCOMES:
        outcomes[plan.code] = Outcome.objects.filter(
            course=course, code=plan.code
        ).first() or outcome_create(
            course=course,
            actor=admin,
            fields={
                "kind": OutcomeKind.UNIT_STANDARD,
                "code": plan.code,
                "title": plan.title,
                "credits": plan.credits,
                "nqf_level": plan.nqf_level,
            },
        )
    return outcomes


def _registered(
    plan: RegistrationPlan, admin: User, programme: Programme, anchor: datetime.date
) -> None:
    """The person's registration in the role, covering the programme, unless they have one."""
    user = User.objects.get(email=plan.email)
    if PractitionerRegistration.objects.filter(user=user, role=plan.role).exists():
        return
    if plan.months:
        expires_on = _month_start(anchor, plan.months + 1) - datetime.timedelta(days=1)
    else:
        expires_on = anchor + datetime.timedelta(days=EXPIRING_DAYS)
    registration_create(
        actor=admin,
        user=user,
        role=plan.role,
        registration_number=plan.number,
        registered_with=plan.registered_with,
        registered_on=_month_start(anchor, plan.months - 36),
        expires_on=expires_on,
        scope=[programme],
    )


def _placement_running(
    demo: Demo, enrollment: CohortEnrollment, anchor: datetime.date
) -> Placement:
    """The learner's placement at the school, from the Monday four weeks before the anchor's
    week: cleared for it, proposed, confirmed and started by the admin, from wherever it is."""
    admin = demo.super_admin
    learner = enrollment.learner
    police = VettingType.objects.get(code="police_clearance")
    _cleared(learner, police, admin, reference="SAPS-PCC-2026-120377")
    school = Organisation.objects.get(name=HOSTS[0].name)
    placement = Placement.objects.filter(learner=learner, organisation=school).first()
    if placement is None:
        year = demo.catalogue.current_session.academic_year
        starts_on = week_monday(anchor) - datetime.timedelta(weeks=4)
        [placement] = placements_propose(
            actor=admin,
            proposals=[
                Proposal(
                    learner=learner,
                    organisation=school,
                    cohort=enrollment.cohort,
                    academic_year=year,
                    subject=PlacementSubject.objects.get(code=PLACEMENT_SUBJECT),
                    starts_on=starts_on,
                    ends_on=min(
                        starts_on + datetime.timedelta(weeks=PLACEMENT_WEEKS, days=-3),
                        year.ends_on,
                    ),
                    supervisor=school.contacts.first(),
                )
            ],
        )
    if placement.status == PlacementStatus.PROPOSED:
        placement = placement_confirm(placement=placement, actor=admin)
    if placement.status == PlacementStatus.CONFIRMED:
        placement = placement_start(placement=placement, actor=admin)
    return placement


def _logbook_written(
    placement: Placement, learner: User, mentor: User, outcomes: dict[str, Outcome]
) -> dict[datetime.date, LogbookEntry]:
    """The learner's entries of LOGBOOK (by day), the first week handed in and confirmed by the
    mentor, the second handed in."""
    for day, hours, tasks, codes in LOGBOOK:
        entry_date = placement.starts_on + datetime.timedelta(days=day)
        if not LogbookEntry.objects.filter(
            week__placement=placement, entry_date=entry_date
        ).exists():
            entry_add(
                actor=learner,
                placement=placement,
                entry_date=entry_date,
                hours=Decimal(hours),
                tasks=tasks,
                outcomes=[outcomes[code] for code in codes],
            )
    first, second = placement.logbook_weeks.order_by("week_starts_on")
    for week in (first, second):
        if week.is_editable:
            week_submit(actor=learner, week=week)
    first.refresh_from_db()
    if first.status == LogbookWeekStatus.SUBMITTED:
        week_confirm(actor=mentor, week=first, comment=CONFIRMATION)
    return {
        entry.entry_date: entry
        for entry in LogbookEntry.objects.filter(week__placement=placement)
        .select_related("week")
        .prefetch_related("outcomes")
    }


def _portfolio_handed_in(
    course_enrollment: CourseEnrollment,
    outcome: Outcome,
    *,
    learner: User,
    entries: dict[datetime.date, LogbookEntry],
    observation: ObservationReport,
    assessor: User | None,
) -> None:
    """The learner's portfolio for `outcome`: her confirmed entries that practised it and the
    observation about it as evidence, handed in; found competent by `assessor` if given."""
    portfolio = portfolio_open(actor=learner, course_enrollment=course_enrollment, outcome=outcome)
    if portfolio.status == PortfolioStatus.DRAFT:
        for entry in entries.values():
            if (
                entry.week.status == LogbookWeekStatus.CONFIRMED
                and outcome in entry.outcomes.all()
                and not portfolio.evidence.filter(logbook_entry=entry).exists()
            ):
                evidence_add_entry(actor=learner, portfolio=portfolio, entry=entry)
        if (
            observation.outcome_id == outcome.pk
            and not portfolio.evidence.filter(observation=observation).exists()
        ):
            evidence_add_observation(actor=learner, portfolio=portfolio, observation=observation)
        portfolio_submit(actor=learner, portfolio=portfolio)
        portfolio.refresh_from_db()
    if assessor is not None and portfolio.status == PortfolioStatus.SUBMITTED:
        portfolio_assess(
            actor=assessor,
            portfolio=portfolio,
            decision=Decision.COMPETENT,
            feedback=COMPETENT_FEEDBACK,
        )


# --- Students -------------------------------------------------------------------------------


def _enrolled(cohort: Cohort, student: Student, admin: User) -> CohortEnrollment:
    enrollment = CohortEnrollment.objects.filter(cohort=cohort, user__email=student.email).first()
    return enrollment or enrollment_invite(
        cohort=cohort, actor=admin, email=student.email, full_name=student.full_name
    )


def _student_progress(
    enrollment: CohortEnrollment, student: Student, *, reviewer: User, passwords: Passwords
) -> None:
    """The student's steps as far as `student.step`, and the reviewer's decisions."""
    if student.step >= Step.DETAILS:
        account_ready(enrollment.user, passwords)
        _consents_given(enrollment)
        _details_given(enrollment, student)
    if student.step >= Step.UPLOADED:
        for document_type in enrollment.cohort.required_document_types.order_by("name"):
            document = _document_uploaded(enrollment, document_type, student)
            if student.step >= Step.REVIEWED and document.status == DocumentStatus.PENDING:
                approve = document_type.name not in student.rejected
                document_review(
                    document=document,
                    reviewer=reviewer,
                    approve=approve,
                    reason="" if approve else REJECTION,
                )
    if student.step >= Step.SIGNED:
        student_signs(enrollment)


def _consents_given(enrollment: CohortEnrollment) -> None:
    """The consents the institution asks for, given in the portal by the student."""
    for wording in consents_missing(enrollment.learner):
        consent_record(
            learner=enrollment.learner,
            kind=wording.kind,
            given=True,
            method=ConsentMethod.PORTAL,
            actor=enrollment.user,
        )


def _details_given(enrollment: CohortEnrollment, student: Student) -> None:
    enrollment.refresh_from_db()
    if enrollment.learner.details_completed_at is not None:
        return
    form = LearnerDetailsForm(
        {
            "id_number": student.id_number,
            "date_of_birth": "",
            "gender": "",
            "race": "african",
            "disability": "none",
            "city": student.city,
            "home_language": student.home_language,
            "highest_qualification": "matric",
        },
        learner=enrollment.learner,
    )
    if not form.is_valid():
        raise ValueError(f"The demo details of {student.full_name} are refused: {form.errors}")
    enrollment_details_save(enrollment=enrollment, actor=enrollment.user, details=form.details())


def _document_uploaded(
    enrollment: CohortEnrollment, document_type: DocumentType, student: Student
) -> StudentDocument:
    """The student's document of that type that counts for the enrolment (one verified in an
    earlier cohort included), uploaded now if there is none, checked as the upload page checks
    it (with no virus scanner configured)."""
    step = next(
        step
        for step in enrollment_document_steps(enrollment)
        if step.document_type == document_type
    )
    if step.document is not None and not step.expired:
        return step.document
    if document_type.name == "Matric certificate":
        upload = SimpleUploadedFile(
            "matric-certificate.pdf",
            demo_pdf(
                [
                    "National Senior Certificate (demo copy)",
                    f"Issued to {student.full_name}",
                    "Not a real certificate: made by Cohortly's demo set-up.",
                ]
            ),
            "application/pdf",
        )
    else:
        upload = SimpleUploadedFile("id-card.png", id_card_png(student.full_name), "image/png")
    checked = document_upload_check(upload=upload, document_type=document_type)
    return enrollment_document_add(
        enrollment=enrollment,
        actor=enrollment.user,
        document=checked.document(document_type=document_type),
    )


def demo_pdf(lines: list[str]) -> bytes:
    """A one-page PDF, written by hand (with its cross-reference table), whose `lines` (the
    first a title) say what it stands for."""
    escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
    text = " ".join(
        f"BT /F1 {14 if number == 0 else 11} Tf 36 {240 - 28 * number} Td ({line}) Tj ET"
        for number, line in enumerate(escaped)
    ).encode("latin-1")
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 420 297]"
        b"/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>>",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
        b"<</Length %d>>stream\n%s\nendstream" % (len(text) + 1, text),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def id_card_png(full_name: str) -> bytes:
    """A small picture of an ID card that says it is a demo."""
    image = Image.new("RGB", (340, 214), (234, 242, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, 335, 209), outline=(31, 95, 139), width=3)
    draw.rectangle((20, 60, 100, 160), fill=(190, 205, 196))
    draw.text((20, 20), "IDENTITY CARD (DEMO)", fill=(31, 95, 139))
    draw.text((120, 70), full_name, fill=(20, 20, 20))
    draw.text((120, 100), "Not a real document", fill=(90, 90, 90))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


# --- Signatures -----------------------------------------------------------------------------
# One function per party, each signing where that party is reached: the institution's admin on
# the cohort page, the student in the portal, the sponsor from the link e-mailed to them.


def institution_signs(cohort: Cohort, admin: User) -> None:
    """The admin signs the cohort's main agreement for the institution (the cohort page's
    "Sign" button), which activation waits for."""
    _sign(cohort_main_agreement_start(cohort=cohort, actor=admin), admin.full_name or admin.email)


def student_signs(enrollment: CohortEnrollment) -> None:
    """The student signs their agreement from the portal, then each supporting agreement,
    unless they have."""
    enrollment.refresh_from_db()
    student = enrollment.user
    if not enrollment_student_signed(enrollment):
        _sign(enrollment_agreement_start(enrollment=enrollment, actor=student), student.full_name)
    signed = enrollment.supporting_agreements.filter(signed_at__isnull=False)
    for template in enrollment.cohort.supporting_templates.exclude(
        pk__in=signed.values("template_id")
    ):
        url = supporting_agreement_start(enrollment=enrollment, template=template, actor=student)
        _sign(url, student.full_name)


def learner_agreements_signed_by_sponsor_and_institution(cohort: Cohort, admin: User) -> None:
    """The sponsor signs the learners' agreements waiting for it (on the page its link opens),
    then the admin countersigns them for the institution (as the countersign page's task
    does), so that they are sealed."""
    for role, user in (("sponsor", None), ("institution_admin", admin)):
        waiting = Submission.objects.filter(
            subject_type=CohortEnrollment._meta.label_lower,
            subject_id__in=[str(pk) for pk in cohort.enrollments.values_list("pk", flat=True)],
            status=SubmissionStatus.PENDING,
        ).order_by("pk")
        for submission in waiting:
            turn = submission.submitters.filter(signed_at__isnull=True).order_by("order").first()
            if turn is None or turn.role != role:
                continue
            name = user.full_name if user is not None else turn.name
            submitter_sign_in_place(
                submission=submission,
                role=role,
                signed_name=name,
                signature_text=name,
                consent=True,
                user=user,
            )


def sponsor_signs(cohort: Cohort, admin: User) -> None:
    """The sponsor's contact signs the cohort's agreement from the link e-mailed to them (the
    admin invites them first if nobody has), unless they have."""
    if cohort_sponsor_status(cohort).state == "signed":
        return
    submission = sponsor_submission(cohort)
    if submission is None or submission.status != SubmissionStatus.PENDING:
        submission = sponsor_invite(cohort=cohort, actor=admin)
    sponsor = Sponsor.objects.get(cohorts=cohort)
    link = _emailed_link(sponsor.contact_email, submission.pk)
    if link is None:  # it expired since an earlier run: the admin sends a fresh one
        sponsor_invite(cohort=cohort, actor=admin)
        link = _emailed_link(sponsor.contact_email, submission.pk)
    if link is None:
        raise RuntimeError(f"No signing link for the sponsor of {cohort} was e-mailed.")
    _sign(link, sponsor.contact_name)


def _emailed_link(email: str, submission_id: int) -> str | None:
    """The newest usable signing link for `submission_id` e-mailed to `email`, as clicked."""
    requests = OutboundEmail.objects.filter(recipient=email, template="signing_request")
    for message in requests.order_by("-pk"):
        url = message.context["sign_url"]
        link = link_for_token(_token(url))
        if (
            link is not None
            and link.submitter.submission_id == submission_id
            and link.state == "usable"
        ):
            return url
    return None


def _token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def _sign(url: str, name: str) -> None:
    """Open the signing link and sign with a typed signature, after consenting."""
    link: SigningLink | None = link_for_token(_token(url))
    if link is None:
        raise RuntimeError("The signing link does not open any agreement.")
    submitter_open(link=link)
    submitter_sign(link=link, signed_name=name, consent=True, signature_text=name)


# --- Partners and finance -------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerPlan:
    kind: str
    details: dict[str, Any]
    bank: BankDetails


PARTNERS = (
    PartnerPlan(
        PartnerKind.AGENT,
        {
            "name": "Ikhaya Recruitment",
            "code": "AG-001",
            "contact_name": "Mpho Sithole",
            "email": f"accounts@ikhaya.{DOMAIN}",
            "phone": "+27 11 555 0461",
            "address": "45 Commissioner Street\nMarshalltown\nJohannesburg 2001",
            "tax_number": "9012345671",
            "payment_terms_days": 30,
            "commission_trigger": CommissionTrigger.ENROLMENT,
            "commission_basis": CommissionBasis.PERCENT_OF_FEE,
            "commission_value": Decimal("10.00"),
        },
        BankDetails(
            holder="Ikhaya Recruitment CC",
            bank_name="Standard Bank",
            branch_code="051001",
            account_number="0012345678",
        ),
    ),
    PartnerPlan(
        PartnerKind.BROKER,
        {
            "name": "Bridge Placements",
            "code": "BR-001",
            "contact_name": "Johan Botha",
            "email": f"finance@bridge.{DOMAIN}",
            "phone": "+27 11 555 0519",
            "address": "7 Biccard Street\nBraamfontein\nJohannesburg 2001",
            "vat_number": "4567890123",
            "payment_terms_days": 14,
            "commission_trigger": CommissionTrigger.PLACEMENT,
            "commission_basis": CommissionBasis.FIXED,
            "commission_value": Decimal("750.00"),
        },
        BankDetails(
            holder="Bridge Placements (Pty) Ltd",
            bank_name="First National Bank",
            branch_code="250655",
            account_number="62812345670",
        ),
    ),
)
FINANCE_SETTINGS: dict[str, Any] = {
    "vat_rate": Decimal("15.00"),
    "vat_number": "4870123456",
    "financial_year_start_month": 3,
    "invoice_due_days": 30,
    "currency": "ZAR",
    "payment_details": "First National Bank, Braamfontein (branch 250805), account "
    "62800011122, in the name of the institution. Quote the invoice number as your reference.",
    "stipend_deduction_per_absence": Decimal("150.00"),
}
LEARNERS = 8  # the running intake's places, each invoiced to the sponsor
TUITION = Decimal("4500.00")


@dataclass(frozen=True)
class InvoicePlan:
    """An invoice to the sponsor for the running intake, found again by its order number; issued
    `issued` days after the intake's first day (None: a draft)."""

    reference: str
    description: str
    unit_price: Decimal
    vat_applies: bool
    issued: int | None


# Tuition is exempt from VAT; the laptops the learners rent are not.
PAID_INVOICE = InvoicePlan(
    "UM-PO-24017", "Tuition, first term: Data foundations and spreadsheets", TUITION, False, 0
)
OVERDUE_INVOICE = InvoicePlan(
    "UM-PO-24031", "Laptop rental for the learnership, first term", Decimal("1200.00"), True, 7
)
PART_PAID_INVOICE = InvoicePlan(
    "UM-PO-24058", "Tuition, second term: Databases and SQL", TUITION, False, 45
)
DRAFT_INVOICE = InvoicePlan(
    "UM-PO-24072", "Tuition, third term: Dashboards and data storytelling", TUITION, False, None
)
# The part-paid invoice: what the sponsor paid of it (days after the intake's first day), and
# the place credited because its learner has not started.
PART_PAYMENT = (Decimal("18000.00"), 52, "UM-EFT-24058-1")
CREDITED_EMAIL = f"lindiwe@{DOMAIN}"
STATEMENT_FILE = "fnb-statement-{day:%Y-%m-%d}.csv"
STIPEND = Decimal("3500.00")  # each learner's month, paid by the institution
# The SETA's grant for the running intake: what it pays per learner at each milestone.
GRANT_SETA = "MICT SETA"
GRANT_AMOUNTS = (Decimal("6000.00"), Decimal("9000.00"), Decimal("15000.00"))


def partners_and_finance(demo: Demo, *, anchor: datetime.date) -> None:
    """An agent (10% of each learner's fee, on enrolment) and a broker (R750 per placement) with
    confirmed bank details, who brought the running intake's learners; the finance settings;
    invoices to the sponsor (one paid in full from the bank statement, one overdue, one part
    paid with a credit note for a place not taken up, one draft); the statement, with one line
    matched to its invoice and one waiting for a person; the partners' commissions, the agent's
    paid out; the programme's stipend and this month's draft stipend run; and the SETA grant
    for the running intake with its claims brought up to date.

    The finance user acts through the services the finance pages use; invoices are dated from
    the running intake's first day, so the overdue one is overdue whenever the demo is shown."""
    finance = demo.staff[SystemRole.FINANCE]
    running = demo.cohorts[CohortState.ACTIVE]
    if not FinanceSettings.objects.filter(pk=1).exists():
        finance_settings_update(actor=finance, **FINANCE_SETTINGS)
    agent, broker = (_partner(plan, finance, demo.super_admin) for plan in PARTNERS)
    enrollments = list(
        CohortEnrollment.objects.filter(cohort=running).select_related("learner", "user")
    )
    for enrollment in enrollments:
        if not LearnerIntroduction.objects.filter(learner=enrollment.learner).exists():
            learner_introduction_set(
                actor=finance, learner=enrollment.learner, agent=agent, broker=broker
            )
    _commissions_accrued(running, enrollments, finance)
    invoices = _sponsor_invoiced(demo, running, finance)
    _statement_imported(invoices, finance, anchor)
    if not Payment.objects.filter(partner=agent, purpose=PaymentPurpose.COMMISSION).exists():
        owed = Commission.objects.filter(partner=agent, status=CommissionStatus.ACCRUED)
        if owed.exists():
            commissions_pay(
                actor=finance,
                partner=agent,
                commission_ids=list(owed.values_list("pk", flat=True)),
                method=PaymentMethod.EFT,
                paid_on=timezone.localdate(),
                reference=f"COMM-{agent.code}-{timezone.localdate():%Y%m}",
            )
    programme = demo.catalogue.programme
    if not StipendRate.objects.filter(programme=programme).exists():
        stipend_rate_add(
            actor=finance,
            monthly_amount=STIPEND,
            starts_on=running.start_date,
            programme=programme,
        )
    month = month_first(timezone.localdate())
    if not StipendRun.objects.filter(month=month).exclude(status=StipendRunStatus.CANCELLED):
        stipend_run_prepare(actor=finance, month=month)
    agreement = GrantAgreement.objects.filter(cohort=running).first() or grant_agreement_create(
        actor=finance,
        data=AgreementInput(
            cohort=running,
            seta=GRANT_SETA,
            reference=f"MICT-DG-{running.start_date:%Y}-0147",
            registration_amount=GRANT_AMOUNTS[0],
            midpoint_amount=GRANT_AMOUNTS[1],
            completion_amount=GRANT_AMOUNTS[2],
        ),
    )
    grant_claims_bring_up_to_date(agreement=agreement, today=timezone.localdate(), actor=finance)


def _partner(plan: PartnerPlan, finance: User, confirmer: User) -> Partner:
    """The partner, added by the finance user, with its bank account in force.

    Demo data sets the account up directly, as if the finance user had asked for the details
    and `confirmer` had confirmed them: the change request and its confirmation stay the
    partner pages' to exercise."""
    partner = Partner.objects.filter(code=plan.details["code"]).first() or partner_create(
        actor=finance, kind=plan.kind, **plan.details
    )
    if not BankAccount.objects.filter(partner=partner).exists():
        details = bank_details_clean(plan.bank)
        sealed = bank_details_seal(details)
        now = timezone.now()
        BankAccountChange.objects.create(
            partner=partner,
            bank_name=details.bank_name,
            account_last4=details.last4,
            sealed=sealed,
            status=BankChangeStatus.CONFIRMED,
            requested_by=finance,
            decided_by=confirmer,
            decided_at=now,
        )
        BankAccount.objects.create(
            partner=partner,
            bank_name=details.bank_name,
            account_last4=details.last4,
            sealed=sealed,
            confirmed_by=confirmer,
            confirmed_at=now,
        )
    return partner


def _commissions_accrued(
    running: Cohort, enrollments: list[CohortEnrollment], finance: User
) -> None:
    """What the partners earned before they were recorded as the learners' introducers: the
    agent's on each enrolment started, the broker's on each placement confirmed, accrued as
    the receivers do (with the row locked; a commission already accrued is not again)."""
    for enrollment in enrollments:
        if enrollment.state in (EnrollmentState.IN_PROGRESS, EnrollmentState.COMPLETE):
            with transaction.atomic(durable=True):
                locked = CohortEnrollment.objects.select_for_update().get(pk=enrollment.pk)
                commissions_accrue(
                    learner=enrollment.learner,
                    trigger=CommissionTrigger.ENROLMENT,
                    actor=finance,
                    cohort_enrollment=locked,
                    enrollment=locked,
                )
    confirmed = Placement.objects.filter(
        cohort=running, status__in=(PlacementStatus.CONFIRMED, PlacementStatus.ACTIVE)
    )
    for placement in confirmed.select_related("learner"):
        with transaction.atomic(durable=True):
            locked_placement = Placement.objects.select_for_update().get(pk=placement.pk)
            commissions_accrue(
                learner=placement.learner,
                trigger=CommissionTrigger.PLACEMENT,
                actor=finance,
                cohort_enrollment=placement_cohort_enrollment(locked_placement),
                placement=locked_placement,
            )


def _sponsor_invoiced(demo: Demo, running: Cohort, finance: User) -> dict[InvoicePlan, Invoice]:
    """The invoices of the plans above, each drafted and (unless a draft) issued on its day;
    the part payment received and allocated; the credit note for the place not taken up."""
    invoices = {}
    for plan in (PAID_INVOICE, OVERDUE_INVOICE, PART_PAID_INVOICE, DRAFT_INVOICE):
        invoice = Invoice.objects.filter(
            kind=DocumentKind.INVOICE, sponsor=demo.sponsor, reference=plan.reference
        ).first() or invoice_draft_create(
            actor=finance,
            recipient=Recipient(sponsor=demo.sponsor),
            reference=plan.reference,
            lines=[
                LineInput(
                    description=f"{plan.description} ({running.name})",
                    unit_price=plan.unit_price,
                    quantity=Decimal(LEARNERS),
                    vat_applies=plan.vat_applies,
                )
            ],
        )
        if plan.issued is not None and invoice.status == InvoiceStatus.DRAFT:
            invoice = invoice_issue(
                actor=finance,
                invoice=invoice,
                issued_on=running.start_date + datetime.timedelta(days=plan.issued),
            )
        invoices[plan] = invoice
    part_paid = invoices[PART_PAID_INVOICE]
    amount, day, reference = PART_PAYMENT
    if not Payment.objects.filter(sponsor=demo.sponsor, reference=reference).exists():
        payment_receive(
            actor=finance,
            payment=PaymentInput(
                direction=PaymentDirection.RECEIVED,
                purpose=PaymentPurpose.INVOICE,
                amount=amount,
                paid_on=running.start_date + datetime.timedelta(days=day),
                reference=reference,
                sponsor=demo.sponsor,
            ),
            allocations=[(part_paid, amount)],
        )
    credit_note = Invoice.objects.filter(
        kind=DocumentKind.CREDIT_NOTE, credited_invoice=part_paid
    ).first()
    if credit_note is None:
        learner = User.objects.get(email=CREDITED_EMAIL)
        credit_note = credit_note_draft_create(
            actor=finance,
            invoice=part_paid,
            lines=[
                LineInput(
                    description=f"{PART_PAID_INVOICE.description}: {learner.full_name} has not "
                    "started",
                    unit_price=TUITION,
                    vat_applies=False,
                )
            ],
            notes="One place credited: the learner has not taken up her place yet.",
        )
    if credit_note.status == InvoiceStatus.DRAFT:
        invoice_issue(
            actor=finance,
            invoice=credit_note,
            issued_on=running.start_date + datetime.timedelta(days=PART_PAYMENT[1]),
        )
    return invoices


def _statement_imported(
    invoices: dict[InvoicePlan, Invoice], finance: User, anchor: datetime.date
) -> None:
    """The bank statement exported on the anchor: the sponsor's payment quoting the paid
    invoice's number (matched to it), a part payment for the laptops quoting no invoice number
    (waiting for a person to match it) and the bank's fee (money out, counted)."""
    file_name = STATEMENT_FILE.format(day=anchor)
    if BankStatementImport.objects.filter(file_name=file_name).exists():
        return
    paid = invoices[PAID_INVOICE]
    assert paid.issued_on is not None  # issued above
    rows = [
        ("Date", "Description", "Reference", "Amount"),
        (
            paid.issued_on + datetime.timedelta(days=24),
            "UBUNTU MINING PTY LTD",
            paid.number,
            f"{paid.total:.2f}",
        ),
        (anchor - datetime.timedelta(days=3), "UBUNTU MINING", "LEARNERSHIP LAPTOPS", "6000.00"),
        (anchor - datetime.timedelta(days=2), "MONTHLY ACCOUNT FEE", "", "-85.00"),
    ]
    content = "".join(",".join(str(cell) for cell in row) + "\r\n" for row in rows).encode()
    statement_import(actor=finance, content=content, file_name=file_name)


FORMER_TRAINER = Staff(SystemRole.TRAINER, f"former.trainer@{DOMAIN}", "Sipho Ndlovu")


def reports_and_data_protection(demo: Demo, passwords: Passwords) -> None:
    """Two saved reports (the equity breakdown per programme, e-mailed monthly to both admins,
    and the running intake's progress), the completed intake's evidence pack, a dry run of each
    data protection job, and a former trainer's account deleted (restorable until it is
    purged)."""
    admin = demo.super_admin
    running = demo.cohorts[CohortState.ACTIVE]
    if not ReportDefinition.objects.exists():
        report_definition_create(
            actor=admin,
            report_key="equity",
            name="Equity per programme (monthly)",
            description="For the SETA's quarterly return and the employment-equity report.",
            parameters={"group_by": "programme"},
            format=ReportFormat.XLSX,
            schedule=ReportSchedule.MONTHLY,
            recipients=[admin, demo.staff[SystemRole.ADMIN]],
        )
        report_definition_create(
            actor=admin,
            report_key="cohort_progress",
            name=f"{running.name}: progress",
            parameters={"cohort": str(running.pk)},
        )
    completed = demo.cohorts.get(CohortState.COMPLETED)
    if completed is not None and not EvidencePack.objects.filter(cohort=completed).exists():
        evidence_pack_request(cohort=completed, actor=admin)
    if not JobRun.objects.exists():
        for kind in JOBS:
            job_run(actor=admin, kind=kind, dry_run=True)
    if not User.objects.filter(email=FORMER_TRAINER.email).exists():
        former = _staff_member(FORMER_TRAINER, admin, passwords)
        user_delete(user=former, actor=admin)


@dataclass(frozen=True)
class ProjectPlan:
    title: str
    kind: str
    description: str
    problem_statement: str
    objectives: str
    expected_outcomes: str


PROJECT_CRITERIA = (
    ("Problem and need", "Is the problem real, and do the people who have it want it solved?", 5),
    ("Feasibility", "Can this team do it in the time, with what the programme gives them?", 5),
    ("Impact", "What changes for the people it serves, and how will we know?", 10),
)
PROJECT_PLANS = (
    ProjectPlan(
        "Kasi Solar: phone charging at taxi ranks",
        "workplace",
        "Solar-powered charging lockers at taxi ranks, run by learners as a small business.",
        "Commuters wait at ranks for up to an hour with flat phones and nowhere to charge them.",
        "Survey commuters at two ranks, build one prototype locker, run a six-week pilot.",
        "Fifty charges a day at the pilot rank, and a costed plan for three more ranks.",
    ),
    ProjectPlan(
        "Spaza stock app",
        "venture",
        "A WhatsApp-based stock list for spaza shops that orders from the nearest wholesaler.",
        "Spaza owners close the shop to buy stock and run out of fast sellers between trips.",
        "Interview ten owners, build the ordering flow, trial it with three shops.",
        "Fewer trips to the wholesaler and fewer empty shelves for the trial shops.",
    ),
    ProjectPlan(
        "Water-wise food garden",
        "research",
        "A grey-water food garden at the campus, to test what grows with little water.",
        "",
        "",
        "",
    ),
)
# (title, description, days from the demo's anchor)
PROJECT_MILESTONES = (
    ("Commuter survey", "Ask commuters at Bree Street and Noord Street ranks.", -14),
    ("Prototype locker built", "One four-phone locker with its panel and battery.", -3),
    ("Six-week pilot at Bree Street", "Run the locker and count charges each day.", 45),
)


def _proposed(
    user: User, plan: ProjectPlan, programme: Programme, cohort: Cohort, anchor: datetime.date
) -> InnovationProject:
    project = proposal_create(
        actor=user,
        title=plan.title,
        kind=plan.kind,
        description=plan.description,
        problem_statement=plan.problem_statement,
        objectives=plan.objectives,
        expected_outcomes=plan.expected_outcomes,
        programme=programme,
        cohort=cohort,
        start_date=anchor - datetime.timedelta(days=30),
        end_date=anchor + datetime.timedelta(days=150),
    )
    return proposal_submit(actor=user, project=project)


def _scored(project: InnovationProject, reviewer: User, marks: tuple[int, ...]) -> None:
    assignment = ReviewAssignment.objects.get(
        project=project, round=project.round, reviewer=reviewer
    )
    criteria = ReviewCriterion.objects.filter(is_active=True).order_by("position", "name")
    review_submit(
        actor=reviewer,
        assignment=assignment,
        scores={criterion.pk: (mark, "") for criterion, mark in zip(criteria, marks, strict=True)},
        comments="A clear need and a plan the team can carry out.",
    )


def innovation_projects(demo: Demo, *, anchor: datetime.date) -> None:
    """Three review criteria and the running programme's review panel (the trainer and the
    moderator); Thandi's workplace project, proposed, scored by the panel, approved and
    running with her classmate as a member and her host school's lead as mentor, one milestone
    done (with a link), one missed and marked delayed and one to come; a classmate's proposal
    in review with one of two scores in; and Thandi's next idea, still a draft.

    Each step goes through the services the proposal, review and team pages use, acting as
    whoever does it there."""
    if InnovationProject.objects.exists():
        return
    admin = demo.super_admin
    running = demo.cohorts[CohortState.ACTIVE]
    programme = demo.catalogue.programme
    for position, (name, description, max_score) in enumerate(PROJECT_CRITERIA, start=1):
        criterion_create(
            actor=admin,
            name=name,
            description=description,
            max_score=max_score,
            position=position,
        )
    reviewers = [demo.staff[SystemRole.TRAINER], demo.staff[SystemRole.MODERATOR]]
    panel_create(actor=admin, programme=programme, role=None, reviewers=reviewers)
    students = list(
        User.objects.filter(enrollments__cohort=running)
        .exclude(email=STUDENT_EMAIL)
        .order_by("pk")[:2]
    )
    thandi = User.objects.get(email=STUDENT_EMAIL)
    workplace = _proposed(thandi, PROJECT_PLANS[0], programme, running, anchor)
    review_send(actor=admin, project=workplace)
    for reviewer, marks in zip(reviewers, ((4, 4, 8), (5, 3, 7)), strict=True):
        _scored(workplace, reviewer, marks)
    project_decide(actor=admin, project=workplace, decision="approve", reason="")
    member_add(actor=thandi, project=workplace, user=students[0], role="member")
    member_add(
        actor=thandi,
        project=workplace,
        user=demo.staff[SystemRole.ORGANISATION_MEMBER],
        role="mentor",
    )
    project_start(actor=thandi, project=workplace)
    done, missed, _ = (
        milestone_add(
            actor=thandi,
            project=workplace,
            title=title,
            description=description,
            due_date=anchor + datetime.timedelta(days=days),
        )
        for title, description, days in PROJECT_MILESTONES
    )
    milestone_complete(
        actor=thandi,
        milestone=done,
        evidence_link="https://example.org/kasi-solar/survey-results",
        evidence_note="Forty-two commuters asked at Bree Street rank.",
    )
    milestones_mark_delayed(today=timezone.localdate())
    venture = _proposed(students[1], PROJECT_PLANS[1], programme, running, anchor)
    review_send(actor=admin, project=venture)
    _scored(venture, reviewers[0], (3, 4, 6))
    draft = PROJECT_PLANS[2]
    proposal_create(
        actor=thandi,
        title=draft.title,
        kind=draft.kind,
        description=draft.description,
        programme=programme,
        cohort=running,
    )
