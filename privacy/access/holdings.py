"""Everything the institution holds about one learner, area by area, as rows and files for the
access request's ZIP. Privacy stands above every area, so it reads their tables directly; each
area is one query (or two), whatever the number of rows."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils.text import get_valid_filename

from accounts.models import User
from audit.models import AuditEvent
from delivery.models import Assessment, AttendanceRecord, Certificate
from enrolments.models import CohortEnrollment, StudentDocument, SupportingAgreement
from finance.models import Invoice, Payment
from learners.models import Learner, LearnerConsent
from learners.services import national_id_produce
from partners.models import BankAccount
from placements.models import Placement
from projects.models import (
    InnovationProject,
    MemberRole,
    MilestoneEvidence,
    ProjectMember,
    ProjectMilestone,
    ReviewAssignment,
    ReviewScore,
)
from signing.models import Submission, SubmissionStatus

# Columns never exported as they are: ciphertext and keyed hashes mean nothing to the person,
# and the number itself is given in clear under its own heading.
_NOT_EXPORTED = {"national_id_encrypted", "national_id_hash", "sealed"}


@dataclass
class HeldFile:
    """A stored file to copy into the ZIP under `name`."""

    name: str
    file: FieldFile


@dataclass
class Area:
    """One area of what is held: its rows (flat, for JSON and CSV) and its files."""

    key: str
    title: str
    description: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    files: list[HeldFile] = field(default_factory=list)


def _rows(objects: QuerySet[Any], columns: dict[str, str]) -> list[dict[str, Any]]:
    """`objects` as rows of `columns` (heading: lookup), in one query."""
    return [
        {heading: row[lookup] for heading, lookup in columns.items()}
        for row in objects.values(*columns.values())
    ]


def _entry_name(folder: str, pk: int, text: str, suffix: str, taken: set[str]) -> str:
    """A ZIP entry name for a file named from free text (an upload's name, an agreement's
    title): made safe (no folders, no "..": django's get_valid_filename) behind the row's pk,
    and made unique among `taken`, which it joins."""
    stem = f"{pk}-{get_valid_filename(text or 'file')}"
    if suffix and stem.lower().endswith(suffix):
        stem = stem[: -len(suffix)]
    name, n = f"{folder}/{stem}{suffix}", 1
    while name in taken:
        n += 1
        name = f"{folder}/{stem}-{n}{suffix}"
    taken.add(name)
    return name


def _model_columns(model: type[Model]) -> dict[str, str]:
    return {
        str(model_field.verbose_name).capitalize(): model_field.attname
        for model_field in model._meta.concrete_fields
        if model_field.name not in _NOT_EXPORTED
    }


def _profile(learner: Learner, actor: User | None) -> Area:
    [row] = _rows(Learner.objects.filter(pk=learner.pk), _model_columns(Learner))
    # The person is entitled to their own number: given here only, and its production audited.
    row["ID or passport number"] = national_id_produce(
        learner=learner, actor=actor, purpose="access request"
    )
    if learner.user_id:
        user = User.objects.get(pk=learner.user_id)
        row["Account e-mail address"] = user.email
        row["Account name"] = user.full_name
        row["Account created"] = user.date_joined
        row["Last sign-in"] = user.last_login
    return Area("profile", "Profile", "The learner's details and account.", rows=[row])


def _enrolments(enrollment_ids: list[int]) -> Area:
    rows = _rows(
        CohortEnrollment.objects.filter(pk__in=enrollment_ids).order_by("invited_at", "pk"),
        {
            "Enrolment": "pk",
            "Cohort": "cohort__name",
            "Programme": "cohort__programme__name",
            "Progress": "state",
            "Documents": "document_verification_state",
            "Invited": "invited_at",
            "Agreement signed": "agreement_signed_at",
            "Agreement signature": "agreement_signature",
            "Completed": "completed_at",
            "Withdrawn": "withdrawn_at",
            "Reason for withdrawing": "withdrawal_reason",
            "Completion date": "completion_date",
            "Outcome": "programme_outcome",
        },
    )
    return Area("enrolments", "Enrolments", "The cohorts the learner joined.", rows=rows)


def _documents(learner: Learner) -> Area:
    documents = list(
        StudentDocument.objects.filter(learner=learner)
        .select_related("document_type")
        .order_by("uploaded_at", "pk")
    )
    area = Area("documents", "Documents", "The documents the learner uploaded, with the files.")
    taken: set[str] = set()
    for document in documents:
        name = _entry_name("documents", document.pk, document.original_name, "", taken)
        area.rows.append(
            {
                "Document": document.pk,
                "Kind": document.document_type.name,
                "File name": document.original_name,
                "Uploaded": document.uploaded_at,
                "Status": document.status,
                "Reason for rejection": document.rejection_reason,
                "Expires": document.expires_on,
                "In this export": name,
            }
        )
        area.files.append(HeldFile(name, document.file))
    return area


def _agreements(enrollment_ids: list[int]) -> Area:
    subjects = Q(
        subject_type=CohortEnrollment._meta.label_lower,
        subject_id__in=[str(pk) for pk in enrollment_ids],
    ) | Q(
        subject_type=SupportingAgreement._meta.label_lower,
        subject_id__in=[
            str(pk)
            for pk in SupportingAgreement.objects.filter(
                enrollment_id__in=enrollment_ids
            ).values_list("pk", flat=True)
        ],
    )
    area = Area("agreements", "Agreements", "The agreements sent to the learner, signed copies.")
    taken: set[str] = set()
    for submission in Submission.objects.filter(subjects).order_by("created_at", "pk"):
        name = ""
        if submission.status == SubmissionStatus.COMPLETED and submission.final_pdf:
            name = _entry_name("agreements", submission.pk, submission.title, ".pdf", taken)
            area.files.append(HeldFile(name, submission.final_pdf))
        area.rows.append(
            {
                "Agreement": submission.pk,
                "Title": submission.title,
                "Status": submission.status,
                "Sent": submission.created_at,
                "Completed": submission.completed_at,
                "Declined": submission.declined_at,
                "In this export": name,
            }
        )
    return area


def _attendance(enrollment_ids: list[int]) -> Area:
    rows = _rows(
        AttendanceRecord.objects.filter(enrolment__enrollment_id__in=enrollment_ids).order_by(
            "session__session_date", "session__start_time", "pk"
        ),
        {
            "Course": "enrolment__course__name",
            "Date": "session__session_date",
            "Starts": "session__start_time",
            "Status": "status",
            "Reason": "reason",
            "Signed off": "signed_off_at",
        },
    )
    return Area("attendance", "Attendance", "The learner's attendance at each session.", rows=rows)


def _results(enrollment_ids: list[int]) -> Area:
    rows = _rows(
        Assessment.objects.filter(enrolment__enrollment_id__in=enrollment_ids).order_by(
            "assessed_at", "pk"
        ),
        {
            "Course": "enrolment__course__name",
            "Assessment": "assessment_type",
            "Score": "score",
            "Result": "result",
            "Assessed": "assessed_at",
            "Voided because": "void_reason",
        },
    )
    certificates = Certificate.objects.filter(enrollment_id__in=enrollment_ids).order_by("pk")
    area = Area("results", "Results", "Assessments and certificates.", rows=rows)
    for certificate in certificates:
        name = f"certificates/{certificate.verification_code}.pdf"
        area.rows.append(
            {
                "Course": "",
                "Assessment": f"Certificate ({certificate.kind})",
                "Score": "",
                "Result": "revoked" if certificate.revoked_at else "issued",
                "Assessed": certificate.issued_at,
                "Voided because": "",
            }
        )
        area.files.append(HeldFile(name, certificate.pdf))
    return area


def _placements(learner: Learner) -> Area:
    rows = _rows(
        Placement.objects.filter(learner=learner).order_by("starts_on", "pk"),
        {
            "Placement": "pk",
            "Organisation": "organisation__name",
            "Starts": "starts_on",
            "Ends": "ends_on",
            "Status": "status",
            "Outcome notes": "outcome_notes",
            "Why it ended": "end_reason",
        },
    )
    return Area("placements", "Placements", "Workplace placements.", rows=rows)


def _finance(learner: Learner) -> Area:
    area = Area("finance", "Finance", "Invoices, payments and the bank account (masked) on record.")
    area.rows = [
        {"Record": "Invoice", **row}
        for row in _rows(
            Invoice.objects.filter(learner=learner).order_by("created_at", "pk"),
            {
                "Number": "number",
                "Kind": "kind",
                "Status": "status",
                "Date": "issued_on",
                "Amount": "total",
            },
        )
    ]
    area.rows += [
        {"Record": "Payment", **row}
        for row in _rows(
            Payment.objects.filter(learner=learner).order_by("pk"),
            {
                "Number": "reference",
                "Kind": "method",
                "Status": "status",
                "Date": "paid_on",
                "Amount": "amount",
            },
        )
    ]
    for account in BankAccount.objects.filter(learner=learner):
        area.rows.append(
            {
                "Record": "Bank account",
                "Number": f"•••• {account.account_last4}",
                "Kind": account.bank_name,
                "Status": "confirmed",
                "Date": account.confirmed_at,
                "Amount": "",
            }
        )
    return area


def _consents(learner: Learner) -> Area:
    rows = _rows(
        LearnerConsent.objects.filter(learner=learner).order_by("recorded_at", "pk"),
        {
            "Consent": "kind",
            "Given": "given",
            "Wording": "wording_version",
            "How": "method",
            "Recorded": "recorded_at",
        },
    )
    return Area("consents", "Consents", "Each consent given or withdrawn.", rows=rows)


def _projects(user_id: int | None) -> list[Area]:
    """Innovation projects: the proposals the person made (their words), the projects they
    were on (role and dates), the milestones of the projects they led, the evidence files they
    uploaded (with the files) and the reviews they wrote (each score and comment). One query
    each; nothing without an account."""
    proposals = Area(
        "projects", "Projects proposed", "The innovation projects the learner proposed."
    )
    memberships = Area(
        "project_members", "Project memberships", "The projects the learner was on, and when."
    )
    milestones = Area(
        "project_milestones", "Project milestones", "The milestones of projects the learner led."
    )
    evidence = Area(
        "project_evidence",
        "Milestone evidence",
        "The files the learner uploaded as evidence of project milestones, with the files.",
    )
    reviews = Area(
        "project_reviews", "Project reviews", "The reviews the learner wrote of projects."
    )
    areas = [proposals, memberships, milestones, evidence, reviews]
    if user_id is None:
        return areas
    proposals.rows = _rows(
        InnovationProject.objects.filter(created_by_id=user_id).order_by("created_at", "pk"),
        {
            "Project": "pk",
            "Title": "title",
            "Kind": "kind",
            "Status": "status",
            "Programme": "programme__name",
            "Cohort": "cohort__name",
            "Description": "description",
            "Problem": "problem_statement",
            "Objectives": "objectives",
            "Expected outcomes": "expected_outcomes",
            "Starts": "start_date",
            "Ends": "end_date",
            "Rounds": "round",
            "Submitted": "submitted_at",
            "Decided": "decided_at",
            "Created": "created_at",
        },
    )
    memberships.rows = _rows(
        ProjectMember.objects.filter(user_id=user_id).order_by("joined_date", "pk"),
        {
            "Project": "project_id",
            "Title": "project__title",
            "Role": "role",
            "Joined": "joined_date",
            "Left": "left_date",
        },
    )
    led = ProjectMember.objects.filter(user_id=user_id, role=MemberRole.LEADER).values("project_id")
    milestones.rows = _rows(
        ProjectMilestone.objects.filter(project__in=led).order_by("project_id", "due_date", "pk"),
        {
            "Project": "project_id",
            "Project title": "project__title",
            "Milestone": "title",
            "Description": "description",
            "Due": "due_date",
            "Status": "status",
            "Completed": "completed_date",
            "Evidence link": "evidence_link",
            "Evidence note": "evidence_note",
        },
    )
    taken: set[str] = set()
    for item in (
        MilestoneEvidence.objects.filter(uploaded_by_id=user_id)
        .select_related("milestone__project")
        .order_by("uploaded_at", "pk")
    ):
        name = ""
        if item.file:
            name = _entry_name("project_evidence", item.pk, item.original_name, "", taken)
            evidence.files.append(HeldFile(name, item.file))
        evidence.rows.append(
            {
                "Evidence": item.pk,
                "Project": item.milestone.project_id,
                "Project title": item.milestone.project.title,
                "Milestone": item.milestone.title,
                "File name": item.original_name,
                "Size (bytes)": item.size,
                "Uploaded": item.uploaded_at,
                "In this export": name,
            }
        )
    reviews.rows = [
        {"Record": "Review", "Criterion": "", "Score": "", **row}
        for row in _rows(
            ReviewAssignment.objects.filter(reviewer_id=user_id).order_by("requested_at", "pk"),
            {
                "Project": "project_id",
                "Project title": "project__title",
                "Round": "round",
                "Comment": "comments",
                "Submitted": "submitted_at",
            },
        )
    ]
    reviews.rows += [
        {
            "Record": "Score",
            "Criterion": row.pop("Criterion"),
            "Score": row.pop("Score"),
            **row,
        }
        for row in _rows(
            ReviewScore.objects.filter(assignment__reviewer_id=user_id).order_by(
                "assignment__requested_at", "assignment_id", "criterion__position", "pk"
            ),
            {
                "Criterion": "criterion__name",
                "Score": "score",
                "Project": "assignment__project_id",
                "Project title": "assignment__project__title",
                "Round": "assignment__round",
                "Comment": "comment",
                "Submitted": "assignment__submitted_at",
            },
        )
    ]
    return areas


def _entities(label: str, ids: Iterable[Any]) -> Q:
    return Q(entity_type=label, entity_id__in=[str(pk) for pk in ids])


def access_audit_events(learner: Learner, enrollment_ids: list[int]) -> QuerySet[AuditEvent]:
    """The audit events about the learner (their record, enrolments, documents, agreements) and
    those they acted in."""
    about = (
        _entities(Learner._meta.label_lower, [learner.pk])
        | _entities(CohortEnrollment._meta.label_lower, enrollment_ids)
        | _entities(
            StudentDocument._meta.label_lower,
            StudentDocument.objects.filter(learner=learner).values_list("pk", flat=True),
        )
        | _entities(
            Submission._meta.label_lower,
            Submission.objects.filter(
                subject_type=CohortEnrollment._meta.label_lower,
                subject_id__in=[str(pk) for pk in enrollment_ids],
            ).values_list("pk", flat=True),
        )
    )
    if learner.user_id:
        about |= (
            Q(actor_id=learner.user_id)
            | Q(subject_id=learner.user_id)
            | _entities(User._meta.label_lower, [learner.user_id])
        )
    return AuditEvent.objects.filter(about).order_by("id")


# Who acted, in the export, when it was not the learner: staff are not named, nor where from.
STAFF = "Staff"


def _audit(learner: Learner, enrollment_ids: list[int]) -> Area:
    rows = []
    for event in access_audit_events(learner, enrollment_ids).values(
        "created_at",
        "action",
        "entity_type",
        "entity_id",
        "old_values",
        "new_values",
        "actor_id",
        "subject_id",
        "actor_email",
        "ip_address",
    ):
        # Their own e-mail and IP address (signed in, or through their link); nobody else's.
        own = learner.user_id is not None and learner.user_id in (
            event["actor_id"],
            event["subject_id"],
        )
        rows.append(
            {
                "When": event["created_at"],
                "What": event["action"],
                "About": event["entity_type"],
                "Which": event["entity_id"],
                "Changed from": event["old_values"],
                "Changed to": event["new_values"],
                "By (e-mail)": event["actor_email"] if own else STAFF,
                "From (IP address)": event["ip_address"] if own else "",
            }
        )
    return Area(
        "audit",
        "Audit events",
        "What was done with the learner's data, and what they did.",
        rows=rows,
    )


def learner_holdings(*, learner: Learner, actor: User | None) -> list[Area]:
    """Everything held about `learner`, area by area. Produces their ID number in clear (an
    audited production): call it inside the transaction of the request's fulfilment."""
    enrollment_ids = list(
        CohortEnrollment.objects.filter(learner=learner).values_list("pk", flat=True)
    )
    return [
        _profile(learner, actor),
        _enrolments(enrollment_ids),
        _documents(learner),
        _agreements(enrollment_ids),
        _attendance(enrollment_ids),
        _results(enrollment_ids),
        _placements(learner),
        _finance(learner),
        _consents(learner),
        *_projects(learner.user_id),
        _audit(learner, enrollment_ids),
    ]
