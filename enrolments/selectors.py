from dataclasses import dataclass

from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast

from accounts.models import User
from cohorts.models import Cohort, CohortState, DocumentType
from cohorts.selectors import cohort_merge_fields
from enrolments.models import (
    CohortEnrollment,
    DocumentStatus,
    EnrollmentState,
    StudentDocument,
    VerificationState,
)
from signing.documents import body_fill_for_reading
from signing.models import SignerRole, Submission, SubmissionStatus, Submitter
from signing.selectors import standard_merge_values, submission_text_html

AGREEMENT_SIGNER_ROLE = "student"

SORTABLE = {
    "name": "user__full_name",
    "email": "user__email",
    "state": "state",
    "documents": "document_verification_state",
    "invited": "invited_at",
}


def enrollment_counts(*, cohort: Cohort) -> dict[str, int]:
    """Progress of a cohort's enrolments in one query (withdrawn ones excluded)."""
    active = ~Q(state=EnrollmentState.WITHDRAWN)
    counts: dict[str, int] = CohortEnrollment.objects.filter(cohort=cohort).aggregate(
        total=Count("pk", filter=active),
        waiting=Count("pk", filter=Q(state=EnrollmentState.WAITING)),
        in_progress=Count("pk", filter=Q(state=EnrollmentState.IN_PROGRESS)),
        complete=Count("pk", filter=Q(state=EnrollmentState.COMPLETE)),
        withdrawn=Count("pk", filter=Q(state=EnrollmentState.WITHDRAWN)),
        pending=Count(
            "pk", filter=active & Q(document_verification_state=VerificationState.PENDING)
        ),
        verified=Count(
            "pk", filter=active & Q(document_verification_state=VerificationState.VERIFIED)
        ),
        rejected=Count(
            "pk", filter=active & Q(document_verification_state=VerificationState.REJECTED)
        ),
        complete_verified=Count(
            "pk",
            filter=Q(state=EnrollmentState.COMPLETE)
            & Q(document_verification_state=VerificationState.VERIFIED),
        ),
        not_accepted=Count("pk", filter=active & Q(user__password__startswith="!")),
    )
    return counts


def enrollment_list_for_cohort(
    *, cohort: Cohort, search: str = "", state: str = "", sort: str = "name"
) -> QuerySet[CohortEnrollment]:
    """The cohort dashboard's students table."""
    enrollments: QuerySet[CohortEnrollment] = CohortEnrollment.objects.filter(
        cohort=cohort
    ).select_related("user")
    if search:
        enrollments = enrollments.filter(
            Q(user__full_name__icontains=search) | Q(user__email__icontains=search)
        )
    if state:
        enrollments = enrollments.filter(state=state)
    field = SORTABLE.get(sort.removeprefix("-"), "user__full_name")
    return enrollments.order_by(f"-{field}" if sort.startswith("-") else field, "pk")


def enrollments_for_student(*, user: User) -> QuerySet[CohortEnrollment]:
    """A student's own enrolments (withdrawn ones are gone from their view)."""
    enrollments: QuerySet[CohortEnrollment] = (
        CohortEnrollment.objects.filter(user=user)
        .exclude(state=EnrollmentState.WITHDRAWN)
        .select_related("cohort")
        .order_by("-invited_at")
    )
    return enrollments


def _agreement_submissions() -> QuerySet[Submission]:
    """The agreement submissions of the enrolment in the outer query, newest first."""
    return Submission.objects.filter(
        subject_type=CohortEnrollment._meta.label_lower,
        subject_id=Cast(OuterRef("pk"), output_field=CharField()),
    ).order_by("-created_at", "-pk")


def with_agreement_outcome(enrollments: QuerySet[CohortEnrollment]) -> QuerySet[CohortEnrollment]:
    """Each enrolment with its latest agreement submission's status, whose signature it waits
    for, and, if a party declined it, which party and their reason (read by
    `enrollment_agreement_outcome`): in the same query."""
    signers = Submitter.objects.filter(submission_id=OuterRef("latest_agreement_id"))
    declined = signers.filter(declined_at__isnull=False)
    return enrollments.annotate(
        latest_agreement_id=Subquery(_agreement_submissions().values("pk")[:1])
    ).annotate(
        latest_agreement_status=Subquery(_agreement_submissions().values("status")[:1]),
        latest_agreement_decline_reason=Subquery(declined.values("decline_reason")[:1]),
        latest_agreement_declined_role=Subquery(declined.values("role")[:1]),
        latest_agreement_waiting_role=Subquery(
            signers.filter(signed_at__isnull=True).order_by("order").values("role")[:1]
        ),
    )


@dataclass(frozen=True)
class AgreementOutcome:
    """Where the student's latest agreement submission stands (status None: none yet)."""

    status: str | None
    decline_reason: str = ""
    declined_role: str = ""
    waiting_role: str = ""

    @property
    def is_declined(self) -> bool:
        return self.status == SubmissionStatus.DECLINED

    @property
    def waits_for_others(self) -> bool:
        """The student has signed; the sponsor or the institution has not yet."""
        return (
            self.status == SubmissionStatus.PENDING
            and bool(self.waiting_role)
            and self.waiting_role != AGREEMENT_SIGNER_ROLE
        )

    @property
    def waiting_party(self) -> str:
        """Whose signature the agreement waits for, in words ("the sponsor")."""
        return PARTY_NAMES.get(self.waiting_role, "")

    @property
    def declined_party(self) -> str:
        return PARTY_NAMES.get(self.declined_role, "")


# Each signer role as the parties' pages name it.
PARTY_NAMES: dict[str, str] = {
    SignerRole.STUDENT.value: "you",
    SignerRole.SPONSOR.value: "the sponsor",
    SignerRole.INSTITUTION_ADMIN.value: "the institution",
}


def enrollment_agreement_outcome(enrollment: CohortEnrollment) -> AgreementOutcome:
    """From the annotations of `with_agreement_outcome` when the caller loaded them (the portal
    does), else in one query."""
    if not hasattr(enrollment, "latest_agreement_status"):
        enrollment = with_agreement_outcome(CohortEnrollment.objects.filter(pk=enrollment.pk)).get()
    # Annotations, which the enrolment's type does not know of.
    return AgreementOutcome(
        status=getattr(enrollment, "latest_agreement_status", None),
        decline_reason=getattr(enrollment, "latest_agreement_decline_reason", None) or "",
        declined_role=getattr(enrollment, "latest_agreement_declined_role", None) or "",
        waiting_role=getattr(enrollment, "latest_agreement_waiting_role", None) or "",
    )


class StepStatus:
    TODO = "todo"
    PENDING = "pending"
    DONE = "done"
    REJECTED = "rejected"
    DECLINED = "declined"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class EnrollmentStep:
    """One thing a student does for an enrolment: their details, one required document, or
    the agreement, with its status and (for documents) the versions uploaded so far."""

    kind: str  # "details", "document" or "agreement"
    title: str
    status: str
    document_type: DocumentType | None = None
    document: StudentDocument | None = None
    earlier_documents: tuple[StudentDocument, ...] = ()
    decline_reason: str = ""
    declined_party: str = ""
    waiting_party: str = ""

    @property
    def is_outstanding(self) -> bool:
        """The student has to act (a step waiting for review or not ready is not theirs)."""
        return self.status in (StepStatus.TODO, StepStatus.REJECTED, StepStatus.DECLINED)


def enrollment_steps(enrollment: CohortEnrollment) -> list[EnrollmentStep]:
    """The steps in the order a student does them. Uses the prefetched
    `cohort.required_document_types` and `documents`, and the agreement's outcome
    (enrolments.selectors.with_agreement_outcome), when the caller loaded them (the portal
    does, so that its query count does not grow with the number of documents or enrolments).
    A declined agreement is a step to do again: the enrolment completes only once signed."""
    steps = [
        EnrollmentStep(
            kind="details",
            title="Your details",
            status=StepStatus.DONE if enrollment.details_completed_at else StepStatus.TODO,
        )
    ]
    versions: dict[int, list[StudentDocument]] = {}
    for document in sorted(
        enrollment.documents.all(), key=lambda doc: (doc.uploaded_at, doc.pk), reverse=True
    ):
        versions.setdefault(document.document_type_id, []).append(document)
    for document_type in enrollment.cohort.required_document_types.all():
        uploaded = versions.get(document_type.pk, [])
        current = next((doc for doc in uploaded if doc.is_current), None)
        status = {
            None: StepStatus.TODO,
            DocumentStatus.PENDING: StepStatus.PENDING,
            DocumentStatus.VERIFIED: StepStatus.DONE,
            DocumentStatus.REJECTED: StepStatus.REJECTED,
        }[DocumentStatus(current.status) if current else None]
        steps.append(
            EnrollmentStep(
                kind="document",
                title=document_type.name,
                status=status,
                document_type=document_type,
                document=current,
                earlier_documents=tuple(doc for doc in uploaded if doc is not current),
            )
        )
    decline_reason = declined_party = waiting_party = ""
    if enrollment.agreement_signed_at:
        agreement_status = StepStatus.DONE
    elif enrollment.cohort.main_template_id is None or enrollment.cohort.state == CohortState.DRAFT:
        agreement_status = StepStatus.UNAVAILABLE
    else:
        outcome = enrollment_agreement_outcome(enrollment)
        if outcome.is_declined:
            agreement_status = StepStatus.DECLINED
        elif outcome.waits_for_others:
            agreement_status = StepStatus.PENDING
        else:
            agreement_status = StepStatus.TODO
        decline_reason = outcome.decline_reason
        declined_party = outcome.declined_party
        waiting_party = outcome.waiting_party
    steps.append(
        EnrollmentStep(
            kind="agreement",
            title="Your agreement",
            status=agreement_status,
            decline_reason=decline_reason,
            declined_party=declined_party,
            waiting_party=waiting_party,
        )
    )
    return steps


def enrollment_agreement_values(enrollment: CohortEnrollment) -> dict[str, str]:
    """The values of the student's copy of the cohort's agreement. A value the student has
    not given yet (an ID number) is empty, and the agreement cannot be made until it is."""
    student = enrollment.user
    return cohort_merge_fields(
        enrollment.cohort,
        student={
            "student.full_name": student.full_name,
            "student.email": student.email,
            "student.id_number": (enrollment.student_data or {}).get("id_number", ""),
        },
    )


@dataclass(frozen=True)
class AgreementDocument:
    """The agreement as the portal shows it: `submission` is the latest one sent (None before
    any), `body_html` its frozen text, or the current template's filled in before any."""

    title: str
    body_html: str
    submission: Submission | None

    @property
    def declined_by(self) -> Submitter | None:
        """The student, with their reason and when, if they declined the latest one."""
        if self.submission is None or self.submission.status != SubmissionStatus.DECLINED:
            return None
        return next(
            (signer for signer in self.submission.submitters.all() if signer.declined_at), None
        )


def enrollment_agreement_document(enrollment: CohortEnrollment) -> AgreementDocument | None:
    """The text the student reads: once sent, exactly the frozen version and values their
    submission was made from (a later edit of the template does not change it). None while the
    cohort has no agreement."""
    submission = (
        Submission.objects.filter(
            subject_type=CohortEnrollment._meta.label_lower, subject_id=str(enrollment.pk)
        )
        .select_related("template_version")
        .prefetch_related("submitters")
        .order_by("-created_at", "-pk")
        .first()
    )
    if submission is not None:
        return AgreementDocument(
            title=submission.title,
            body_html=submission_text_html(submission),
            submission=submission,
        )
    cohort = enrollment.cohort
    if cohort.main_template is None:
        return None
    agreement = cohort.main_template_version or cohort.main_template  # as the admin signed it
    # A value not known yet (an ID number not given) shows as what it stands for.
    body_html = body_fill_for_reading(
        agreement.body, standard_merge_values() | enrollment_agreement_values(enrollment)
    )
    return AgreementDocument(title=agreement.title, body_html=body_html, submission=None)


def enrollments_lacking_agreement(
    *, cohort: Cohort, enrollment_ids: list[int] | None = None
) -> QuerySet[CohortEnrollment]:
    """The cohort's open, unsigned enrolments that were never sent an agreement (a declined or
    revoked one counts as sent: the student asks for a new one in the portal)."""
    enrollments: QuerySet[CohortEnrollment] = CohortEnrollment.objects.filter(
        cohort=cohort,
        state__in=[EnrollmentState.WAITING, EnrollmentState.IN_PROGRESS],
        agreement_signed_at__isnull=True,
    ).exclude(Exists(_agreement_submissions()))
    if enrollment_ids is not None:
        enrollments = enrollments.filter(pk__in=enrollment_ids)
    return enrollments.order_by("pk")


def agreements_awaiting_countersign(*, cohort: Cohort) -> QuerySet[CohortEnrollment]:
    """The cohort's enrolments whose latest agreement waits for the institution's signature
    (the learner and the sponsor have signed), with the student and the submission's id
    (`latest_agreement_id`), for the countersign page: one query whatever their number."""
    return (
        with_agreement_outcome(
            CohortEnrollment.objects.filter(cohort=cohort).select_related("user")
        )
        # Annotations, which the plugin's field check does not know of.
        .filter(
            **{
                "latest_agreement_status": SubmissionStatus.PENDING,
                "latest_agreement_waiting_role": SignerRole.INSTITUTION_ADMIN,
            }
        )
        .order_by("user__full_name", "pk")
    )


# Annotations of with_agreement_outcome, which the plugin's field check does not know of.
AGREEMENT_COUNT_FIELDS = [
    "agreement_signed_at",
    "latest_agreement_status",
    "latest_agreement_waiting_role",
]


def learner_agreement_counts(*, cohort: Cohort) -> dict[str, int]:
    """How the cohort's learner agreements stand, per party whose signature they wait for
    (the cohort page's summary): one query."""
    counts = {"not_sent": 0, "student": 0, "sponsor": 0, "institution_admin": 0}
    counts |= {"declined": 0, "signed": 0}
    rows = with_agreement_outcome(
        CohortEnrollment.objects.filter(cohort=cohort).exclude(state=EnrollmentState.WITHDRAWN)
    ).values_list(*AGREEMENT_COUNT_FIELDS)
    for signed_at, status, waiting_role in rows:
        if signed_at is not None:
            counts["signed"] += 1
        elif status == SubmissionStatus.DECLINED:
            counts["declined"] += 1
        elif status == SubmissionStatus.PENDING and waiting_role in counts:
            counts[waiting_role] += 1
        else:
            counts["not_sent"] += 1
    return counts


def agreements_awaiting_sponsor(*, cohort: Cohort) -> QuerySet[CohortEnrollment]:
    """The cohort's enrolments whose latest agreement waits for the sponsor's signature (the
    learner has signed), with the student and the submission's id (`latest_agreement_id`),
    for the sponsor's page: one query whatever their number."""
    return (
        with_agreement_outcome(
            CohortEnrollment.objects.filter(cohort=cohort).select_related("user")
        )
        .filter(
            **{
                "latest_agreement_status": SubmissionStatus.PENDING,
                "latest_agreement_waiting_role": SignerRole.SPONSOR,
            }
        )
        .order_by("user__full_name", "pk")
    )
