from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from accounts.charts import Chart
from accounts.models import User
from cohorts.models import CLOSED_STATES, Cohort, CohortState, DocumentType
from cohorts.selectors import cohort_merge_fields
from enrolments.models import (
    AgreementStatus,
    CohortEnrollment,
    DocumentsStatus,
    DocumentStatus,
    EnrollmentState,
    ProgrammeOutcome,
    StudentDocument,
    SupportingAgreement,
    VerificationState,
)
from integrations.selectors import sync_reporting
from learners.consents import ConsentWording, consent_given, consents_missing
from learners.models import ConsentKind
from signing.documents import body_fill_for_reading, merge_fields_used
from signing.models import (
    SIGNER_PARTIES,
    AgreementTemplate,
    SignerRole,
    Submission,
    SubmissionStatus,
    Submitter,
)
from signing.selectors import (
    standard_merge_values,
    submission_text_html,
    submissions_for_subject,
)

AGREEMENT_SIGNER_ROLE = "student"

SORTABLE = {
    "name": "user__full_name",
    "email": "user__email",
    "state": "state",
    "documents": "documents_status",
    "agreement": "agreement_status",
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
    *,
    cohort: Cohort,
    search: str = "",
    state: str = "",
    agreement: str = "",
    documents: str = "",
    sort: str = "name",
) -> QuerySet[CohortEnrollment]:
    """The cohort dashboard's students table (and its export), each row with its agreement's
    and documents' status (`with_table_statuses`), filtered by them if asked."""
    enrollments: QuerySet[CohortEnrollment] = with_table_statuses(
        CohortEnrollment.objects.filter(cohort=cohort).select_related("user")
    )
    if search:
        enrollments = enrollments.filter(
            Q(user__full_name__icontains=search) | Q(user__email__icontains=search)
        )
    if state:
        enrollments = enrollments.filter(state=state)
    if agreement:
        enrollments = enrollments.filter(Q(agreement_status=agreement))  # an annotation
    if documents:
        enrollments = enrollments.filter(Q(documents_status=documents))
    field = SORTABLE.get(sort.removeprefix("-"), "user__full_name")
    return enrollments.order_by(f"-{field}" if sort.startswith("-") else field, "pk")


def _count(queryset: QuerySet[Any], group: str) -> Coalesce:
    """How many rows of `queryset` (correlated to the outer query), as a subquery: a count per
    row without a join that would multiply the rows."""
    return Coalesce(
        Subquery(queryset.order_by().values(group).annotate(n=Count("pk")).values("n")),
        0,
        output_field=IntegerField(),
    )


def _usable_documents(ref: Callable[[str], Any]) -> QuerySet[StudentDocument]:
    """The learner's documents that may count for an enrolment (correlated to it through `ref`,
    which reaches its fields from where the query is nested): of a type its cohort requires,
    uploaded for it or, unless the cohort asks for a fresh copy of that type, for another."""
    fresh = Cohort.fresh_document_types.through.objects.filter(
        cohort_id=OuterRef(ref("cohort_id")), documenttype_id=OuterRef("document_type_id")
    )
    return StudentDocument.objects.filter(
        learner_id=ref("learner_id"), document_type__cohorts=ref("cohort_id")
    ).filter(Q(enrollment_id=ref("pk")) | ~Exists(fresh))


def with_documents_closed_at(
    enrollments: QuerySet[CohortEnrollment],
) -> QuerySet[CohortEnrollment]:
    """Each enrolment with `documents_closed_at` (and its day, `documents_closed_on`), as
    `enrollment_documents_closed_at` works it out, in SQL."""
    return enrollments.annotate(
        documents_closed_at=Case(
            When(
                state=EnrollmentState.WITHDRAWN,
                then=Coalesce("withdrawn_at", "updated_at"),
            ),
            When(state=EnrollmentState.COMPLETE, then=F("completed_at")),
            When(cohort__state__in=CLOSED_STATES, then=F("cohort__closed_at")),
            default=None,
            output_field=DateTimeField(),
        )
    ).annotate(documents_closed_on=TruncDate("documents_closed_at"))


def enrollment_documents_closed_at(enrollment: CohortEnrollment) -> datetime | None:
    """When the enrolment stopped changing, for the documents it shows from then on (None while
    it can change): withdrawn, when it was; complete, when it became so; in a closed cohort,
    when the cohort closed. A later upload, rejection or expiry, in another of the learner's
    enrolments, does not change what a closed one shows."""
    if enrollment.state == EnrollmentState.WITHDRAWN:
        return enrollment.withdrawn_at or enrollment.updated_at
    if enrollment.state == EnrollmentState.COMPLETE:
        return enrollment.completed_at
    if enrollment.cohort.is_closed:
        return enrollment.cohort.closed_at
    return None


def with_table_statuses(
    enrollments: QuerySet[CohortEnrollment],
) -> QuerySet[CohortEnrollment]:
    """Each enrolment with, in the same query (so the table's query count does not grow with
    its rows, and its filters and sorting work in the database):

    - `agreement_status` (AgreementStatus) from the latest agreement submission, and what
      `with_agreement_outcome` adds: whose signature it waits for, who declined it and why;
    - `documents_required`, `documents_uploaded`, `documents_waiting`, `documents_rejected`
      (the documents that count for the enrolment, as `enrollment_document_steps` finds them)
      and `documents_status`
      (DocumentsStatus: a rejection first, then a missing upload, then one waiting for review).
    """
    required = Cohort.required_document_types.through.objects.filter(
        cohort_id=OuterRef("cohort_id")
    )
    # The documents that count for the enrolment, as `enrollment_document_steps` says row by
    # row: while it can change, the learner's current ones not expired today; once closed
    # (`documents_closed_at`), the latest of each type uploaded by then, not expired then.
    current = (
        _usable_documents(OuterRef)
        .filter(is_current=True)
        .exclude(expires_on__lt=timezone.localdate())
    )
    latest_by_then = (
        _usable_documents(lambda name: OuterRef(OuterRef(name)))
        .filter(
            document_type_id=OuterRef("document_type_id"),
            uploaded_at__lte=OuterRef(OuterRef("documents_closed_at")),
        )
        .order_by("-uploaded_at", "-pk")
        .values("pk")[:1]
    )
    by_then = (
        _usable_documents(OuterRef)
        .filter(pk=Subquery(latest_by_then))
        .exclude(expires_on__lt=OuterRef("documents_closed_on"))
    )

    def counted(status: str | None = None) -> Case:
        """How many documents count for the enrolment (of `status` if given)."""
        counts = [
            _count(documents if status is None else documents.filter(status=status), "learner")
            for documents in (current, by_then)
        ]
        return Case(
            When(documents_closed_at__isnull=True, then=counts[0]),
            default=counts[1],
            output_field=IntegerField(),
        )

    closed_at = with_documents_closed_at(enrollments)
    annotated = with_agreement_outcome(closed_at).annotate(
        documents_required=_count(required, "cohort_id"),
        documents_uploaded=counted(),
        documents_waiting=counted(DocumentStatus.PENDING),
        documents_rejected=counted(DocumentStatus.REJECTED),
    )
    return annotated.annotate(
        agreement_status=Case(
            When(
                latest_agreement_status=SubmissionStatus.COMPLETED,
                then=Value(AgreementStatus.SIGNED.value),
            ),
            When(
                latest_agreement_status=SubmissionStatus.PENDING,
                then=Value(AgreementStatus.WAITING.value),
            ),
            When(
                latest_agreement_status=SubmissionStatus.DECLINED,
                then=Value(AgreementStatus.DECLINED.value),
            ),
            When(
                latest_agreement_status=SubmissionStatus.REVOKED,
                then=Value(AgreementStatus.REVOKED.value),
            ),
            # Signed before agreements were submissions of the signing app.
            When(agreement_signed_at__isnull=False, then=Value(AgreementStatus.SIGNED.value)),
            default=Value(AgreementStatus.NOT_SENT.value),
            output_field=CharField(),
        ),
        documents_status=Case(
            When(documents_rejected__gt=0, then=Value(DocumentsStatus.REJECTED.value)),
            When(
                documents_uploaded__lt=F("documents_required"),
                then=Value(DocumentsStatus.NOT_UPLOADED.value),
            ),
            When(documents_waiting__gt=0, then=Value(DocumentsStatus.WAITING_REVIEW.value)),
            default=Value(DocumentsStatus.APPROVED.value),
            output_field=CharField(),
        ),
    )


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


# Each signer role as the student's own pages name it.
PARTY_NAMES: dict[str, str] = SIGNER_PARTIES | {SignerRole.STUDENT.value: "you"}


def enrollment_student_signed(enrollment: CohortEnrollment) -> bool:
    """Whether the student has signed their agreement, though the sponsor or the institution
    may not have yet: what the supporting agreements wait for."""
    return (
        bool(enrollment.agreement_signed_at)
        or enrollment_agreement_outcome(enrollment).waits_for_others
    )


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
    """One thing a student does for an enrolment: the consents the institution asks for, their
    details, one required document, or the agreement, with its status and (for documents) the
    versions uploaded so far."""

    kind: str  # "consents", "details", "document", "agreement" or "supporting"
    title: str
    status: str
    document_type: DocumentType | None = None
    document: StudentDocument | None = None
    earlier_documents: tuple[StudentDocument, ...] = ()
    decline_reason: str = ""
    # A supporting agreement's step ("supporting"): its template, and the student's row once made.
    template: AgreementTemplate | None = None
    supporting: SupportingAgreement | None = None
    declined_party: str = ""
    waiting_party: str = ""
    # A document step's: the document counted was uploaded for another of the learner's
    # enrolments (`document.enrollment`), and whether the cohort asks for a copy of its own.
    reused: bool = False
    fresh: bool = False
    # The document counted has expired (by the day the enrolment closed, for a closed one): the
    # student uploads a new one.
    expired: bool = False

    # The consents step: the ones still to give, in the words the student is asked.
    consents: tuple[ConsentWording, ...] = ()

    @property
    def is_outstanding(self) -> bool:
        """The student has to act (a step waiting for review or not ready is not theirs)."""
        return self.status in (StepStatus.TODO, StepStatus.REJECTED, StepStatus.DECLINED)


def enrollment_steps(enrollment: CohortEnrollment) -> list[EnrollmentStep]:
    """The steps in the order a student does them. Uses what `enrollment_document_steps` can
    use prefetched, and the agreement's outcome
    (enrolments.selectors.with_agreement_outcome), when the caller loaded them (the portal
    does, so that its query count does not grow with the number of documents or enrolments).
    A declined agreement is a step to do again: the enrolment completes only once signed."""
    missing = tuple(consents_missing(enrollment.learner))
    steps = [
        EnrollmentStep(
            kind="consents",
            title="Your consents",
            status=StepStatus.TODO if missing else StepStatus.DONE,
            consents=missing,
        ),
        EnrollmentStep(
            kind="details",
            title="Your details",
            status=StepStatus.DONE if enrollment.learner.details_completed_at else StepStatus.TODO,
        ),
    ]
    steps.extend(enrollment_document_steps(enrollment))
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
    steps.extend(
        enrollment_supporting_steps(
            enrollment,
            main_signed=agreement_status in (StepStatus.DONE, StepStatus.PENDING),
        )
    )
    return steps


DOCUMENT_STEP_STATUS = {
    DocumentStatus.PENDING: StepStatus.PENDING,
    DocumentStatus.VERIFIED: StepStatus.DONE,
    DocumentStatus.REJECTED: StepStatus.REJECTED,
}


def enrollment_document_steps(enrollment: CohortEnrollment) -> list[EnrollmentStep]:
    """A step per document the cohort requires, with the document that counts for it: the
    learner's current one of that type, whichever of their enrolments it was uploaded for
    (a verified ID is not uploaded again; one waiting for review, or rejected, shows too, so
    that it is not sent twice), unless it was uploaded for another and the cohort asks for a
    fresh copy of that type (Cohort.fresh_document_types). An expired one is to do again. An
    enrolment that can no longer change shows what counted when it closed
    (`enrollment_documents_closed_at`): the latest of that type uploaded by then, expired or
    not by then. Earlier versions are those uploaded for this enrolment. Uses the prefetched
    `cohort.required_document_types`, `cohort.fresh_document_types` and `learner.documents`
    when the caller loaded them (enrolments.selectors.enrollment_document_prefetches);
    `with_table_statuses` counts the same documents in SQL."""
    fresh = {document_type.pk for document_type in enrollment.cohort.fresh_document_types.all()}
    closed_at = enrollment_documents_closed_at(enrollment)
    today = timezone.localdate() if closed_at is None else timezone.localdate(closed_at)
    counted_by_type: dict[int, StudentDocument] = {}
    versions: dict[int, list[StudentDocument]] = {}
    for document in sorted(
        enrollment.learner.documents.all(), key=lambda doc: (doc.uploaded_at, doc.pk), reverse=True
    ):
        own = document.enrollment_id == enrollment.pk
        if own:
            versions.setdefault(document.document_type_id, []).append(document)
        if not own and document.document_type_id in fresh:
            continue
        if document.is_current if closed_at is None else document.uploaded_at <= closed_at:
            counted_by_type.setdefault(document.document_type_id, document)
    steps = []
    for document_type in enrollment.cohort.required_document_types.all():
        counted = counted_by_type.get(document_type.pk)
        expires_on = counted.expires_on if counted is not None else None
        expired = expires_on is not None and expires_on < today
        if counted is None or expired:
            status = StepStatus.TODO
        else:
            status = DOCUMENT_STEP_STATUS[DocumentStatus(counted.status)]
        steps.append(
            EnrollmentStep(
                kind="document",
                title=document_type.name,
                status=status,
                document_type=document_type,
                document=counted,
                earlier_documents=tuple(
                    doc for doc in versions.get(document_type.pk, []) if doc is not counted
                ),
                reused=counted is not None and counted.enrollment_id != enrollment.pk,
                fresh=document_type.pk in fresh,
                expired=expired,
            )
        )
    return steps


def enrollment_document_prefetches(
    documents: QuerySet[StudentDocument] | None = None,
) -> list["str | Prefetch[str, QuerySet[Any], str]"]:
    """What `enrollment_document_steps` reads, for a page's enrolments (with `learner` in their
    select_related): three queries however many enrolments and documents. `documents` may load
    more with each document (its decisions, say)."""
    documents = StudentDocument.objects.all() if documents is None else documents
    return [
        Prefetch("cohort__required_document_types", queryset=DocumentType.objects.order_by("name")),
        "cohort__fresh_document_types",
        Prefetch(
            "learner__documents",
            queryset=documents.select_related("enrollment__cohort").order_by("-uploaded_at", "-pk"),
        ),
    ]


def enrollment_gateway_waiting(enrollment: CohortEnrollment, *, has_job: bool) -> str:
    """What the student's consent to sharing with the funding body means for the enrolment's
    gateway sync, for the place its status shows (`has_job`: the gateway has had a job for
    it). Empty when the consent is given, or the institution reports nowhere."""
    if (
        enrollment.state == EnrollmentState.WITHDRAWN
        or not sync_reporting()
        or consent_given(enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)
    ):
        return ""
    if has_job:
        return (
            "The student has withdrawn their consent to sharing their details with the funding "
            "body: nothing more is sent until they give it again."
        )
    return (
        "Waits for the student's consent to sharing their details with the funding body: the "
        "enrolment is sent to the gateway when they give it."
    )


# Merge fields whose values go into the PDF only, never the submission's stored HTML or values.
PRIVATE_MERGE_FIELDS = ("student.id_number",)
# What a copy made before the student gave their ID number says in its place.
NOT_GIVEN = "(not given yet)"


def submission_lacks_id_now_given(submission: Submission, enrollment: CohortEnrollment) -> bool:
    """Whether the student's pending copy was made before they gave a value it names (their ID
    number) that they have given since, and nobody has signed it yet: it is made again."""
    lacking = {name for name in PRIVATE_MERGE_FIELDS if submission.context.get(name) == NOT_GIVEN}
    if not lacking.intersection(merge_fields_used(submission.template_version.body)):
        return False
    if not enrollment.learner.national_id_last4:
        return False
    return not any(signer.signed_at for signer in submission.submitters.all())


def enrollment_agreement_values(enrollment: CohortEnrollment) -> dict[str, str]:
    """The values of the student's copy of the cohort's agreement, for reading on a page: the
    ID number masked to its last digits (the PDF gets it whole: enrolments.agreements). A value
    the student has not given yet is empty."""
    student = enrollment.user
    return cohort_merge_fields(
        enrollment.cohort,
        student={
            "student.full_name": student.full_name,
            "student.email": student.email,
            "student.id_number": enrollment.learner.national_id_masked,
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
    sent = _latest_sent(submissions_for_subject(enrollment))
    if sent is not None:
        return sent
    cohort = enrollment.cohort
    if cohort.main_template is None:
        return None
    agreement = cohort.main_template_version or cohort.main_template  # as the admin signed it
    return _to_be_sent(agreement.title, agreement.body, enrollment)


def _latest_sent(submissions: QuerySet[Submission]) -> AgreementDocument | None:
    """The latest of `submissions` as its signers read it: its text as frozen when sent."""
    submission = (
        submissions.select_related("template_version")
        .prefetch_related("submitters")
        .order_by("-created_at", "-pk")
        .first()
    )
    if submission is None:
        return None
    return AgreementDocument(
        title=submission.title, body_html=submission_text_html(submission), submission=submission
    )


def _to_be_sent(title: str, body: str, enrollment: CohortEnrollment) -> AgreementDocument:
    """An agreement not sent yet, filled with the student's values. A value not known yet (an
    ID number not given) shows as what it stands for."""
    body_html = body_fill_for_reading(
        body, standard_merge_values() | enrollment_agreement_values(enrollment)
    )
    return AgreementDocument(title=title, body_html=body_html, submission=None)


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


def agreements_to_countersign_counts(*, cohort_ids: list[int]) -> dict[int, int]:
    """Per cohort, the students' agreements whose next signer is the institution. One query."""
    enrollments = CohortEnrollment.objects.filter(cohort_id__in=cohort_ids)
    rows = (
        agreements_waiting_for(SignerRole.INSTITUTION_ADMIN, enrollments)
        .order_by()
        .values("cohort_id")
        .annotate(n=Count("pk"))
    )
    return {row["cohort_id"]: row["n"] for row in rows}


def invitations_not_accepted_counts(*, cohort_ids: list[int]) -> dict[int, int]:
    """Per cohort, the students still enrolled who have not accepted their invitation (set a
    password). One query."""
    rows = (
        CohortEnrollment.objects.filter(cohort_id__in=cohort_ids, user__password__startswith="!")
        .exclude(state=EnrollmentState.WITHDRAWN)
        .order_by()
        .values("cohort_id")
        .annotate(n=Count("pk"))
    )
    return {row["cohort_id"]: row["n"] for row in rows}


# --- Supporting agreements (enrolments.supporting) --------------------------------------------


def _supporting_submissions() -> QuerySet[Submission]:
    """The submissions of the supporting agreement in the outer query, newest first."""
    return Submission.objects.filter(
        subject_type=SupportingAgreement._meta.label_lower,
        subject_id=Cast(OuterRef("pk"), output_field=CharField()),
    ).order_by("-created_at", "-pk")


def with_supporting_outcome(
    agreements: QuerySet[SupportingAgreement],
) -> QuerySet[SupportingAgreement]:
    """Each supporting agreement with its latest submission's status and, if the student
    declined it, their reason: in the same query."""
    signers = Submitter.objects.filter(
        submission__subject_type=SupportingAgreement._meta.label_lower,
        submission__subject_id=Cast(OuterRef("pk"), output_field=CharField()),
        role=AGREEMENT_SIGNER_ROLE,
    ).order_by("-submission__created_at", "-submission__pk")
    return agreements.annotate(
        latest_status=Subquery(_supporting_submissions().values("status")[:1]),
        latest_decline_reason=Subquery(signers.values("decline_reason")[:1]),
    )


def enrollment_supporting_steps(
    enrollment: CohortEnrollment, *, main_signed: bool
) -> list[EnrollmentStep]:
    """A step for each supporting agreement the cohort asks for, after the main agreement's:
    not available until the student has signed the main agreement (`main_signed`; the sponsor
    and the institution need not have yet), declined (to sign again)
    or to do. Uses the prefetched `cohort.supporting_templates` and `supporting_agreements`
    (annotated by `with_supporting_outcome`) when the caller loaded them, as the portal does."""
    cohort = enrollment.cohort
    templates = list(cohort.supporting_templates.all())
    if not templates:
        return []
    loaded = with_supporting_outcome(SupportingAgreement.objects.all())
    if "supporting_agreements" in getattr(enrollment, "_prefetched_objects_cache", {}):
        loaded = enrollment.supporting_agreements.all()
    else:
        loaded = loaded.filter(enrollment=enrollment)
    by_template = {agreement.template_id: agreement for agreement in loaded}
    steps = []
    for template in templates:
        agreement = by_template.get(template.pk)
        latest = getattr(agreement, "latest_status", None)
        decline_reason = ""
        if agreement is not None and agreement.signed_at:
            status = StepStatus.DONE
        elif latest == SubmissionStatus.DECLINED:
            status = StepStatus.DECLINED
            decline_reason = getattr(agreement, "latest_decline_reason", None) or ""
        elif cohort.state == CohortState.DRAFT or not main_signed:
            status = StepStatus.UNAVAILABLE
        else:
            status = StepStatus.TODO
        steps.append(
            EnrollmentStep(
                kind="supporting",
                title=template.title,
                status=status,
                decline_reason=decline_reason,
                template=template,
                supporting=agreement,
            )
        )
    return steps


def enrollment_supporting_all_signed(enrollment: CohortEnrollment) -> bool:
    """Whether the student has signed every supporting agreement the cohort asks for (true
    when it asks for none): a condition of the enrolment's completion."""
    signed = SupportingAgreement.objects.filter(
        enrollment=enrollment, signed_at__isnull=False
    ).values("template_id")
    return not enrollment.cohort.supporting_templates.exclude(pk__in=signed).exists()


def enrollments_lacking_supporting(
    *, cohort: Cohort, enrollment_ids: list[int] | None = None
) -> QuerySet[CohortEnrollment]:
    """The cohort's open enrolments that lack a supporting agreement the cohort asks for."""
    asked = cohort.supporting_templates.values("pk")
    # The enrolment is two queries out: Exists(missing) wraps this one.
    made = SupportingAgreement.objects.filter(enrollment=OuterRef(OuterRef("pk"))).values(
        "template_id"
    )
    missing = AgreementTemplate.objects.filter(pk__in=asked).exclude(pk__in=made)
    enrollments: QuerySet[CohortEnrollment] = CohortEnrollment.objects.filter(
        cohort=cohort, state__in=[EnrollmentState.WAITING, EnrollmentState.IN_PROGRESS]
    ).filter(Exists(missing))
    if enrollment_ids is not None:
        enrollments = enrollments.filter(pk__in=enrollment_ids)
    return enrollments.order_by("pk")


def supporting_agreement_document(
    enrollment: CohortEnrollment, template: AgreementTemplate
) -> AgreementDocument:
    """The supporting agreement as the student reads it: the text of its latest submission as
    frozen, or before any the template's current text filled with the student's values."""
    agreements = SupportingAgreement.objects.filter(enrollment=enrollment, template=template)
    sent = _latest_sent(
        Submission.objects.filter(
            subject_type=SupportingAgreement._meta.label_lower,
            subject_id__in=[str(pk) for pk in agreements.values_list("pk", flat=True)],
        )
    )
    return sent or _to_be_sent(template.title, template.body, enrollment)


def supporting_signed_submission(
    enrollment: CohortEnrollment, template: AgreementTemplate
) -> Submission | None:
    """The student's signed (sealed) copy of a supporting agreement, if there is one."""
    agreement = SupportingAgreement.objects.filter(
        enrollment=enrollment, template=template, signed_at__isnull=False
    ).first()
    if agreement is None:
        return None
    return (
        submissions_for_subject(agreement)
        .filter(status=SubmissionStatus.COMPLETED)
        .exclude(final_pdf="")
        .first()
    )


def agreements_waiting_for(
    role: str, enrollments: QuerySet[CohortEnrollment]
) -> QuerySet[CohortEnrollment]:
    """Of `enrollments`, those whose latest agreement is pending and waits for `role`'s
    signature next (every earlier signer has signed), with the submission's id
    (`latest_agreement_id`): one query whatever their number."""
    # Annotations, which the plugin's field check does not know of.
    return with_agreement_outcome(enrollments).filter(
        **{
            "latest_agreement_status": SubmissionStatus.PENDING,
            "latest_agreement_waiting_role": role,
        }
    )


def agreements_awaiting_countersign(*, cohort: Cohort) -> QuerySet[CohortEnrollment]:
    """The cohort's enrolments whose agreement waits for the institution's signature (the
    learner and the sponsor have signed), with the student, for the countersign page."""
    enrollments = CohortEnrollment.objects.filter(cohort=cohort).select_related("user")
    return agreements_waiting_for(SignerRole.INSTITUTION_ADMIN, enrollments).order_by(
        "user__full_name", "pk"
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
    """The cohort's enrolments whose agreement waits for the sponsor's signature (the learner
    has signed), with the student and their learner record, for the sponsor's page."""
    enrollments = CohortEnrollment.objects.filter(cohort=cohort).select_related("user", "learner")
    return agreements_waiting_for(SignerRole.SPONSOR, enrollments).order_by("user__full_name", "pk")


# The steps of the cohort page's progress funnel: each counts the learners (withdrawn ones
# left out) who have done it, whatever they have done before; in the order a learner goes.
PROGRESS_STEPS: list[tuple[str, str, Q]] = [
    ("enrolled", "Enrolled", Q()),
    ("details", "Details complete", Q(learner__details_completed_at__isnull=False)),
    ("documents", "Documents verified", Q(document_verification_state=VerificationState.VERIFIED)),
    ("agreement", "Agreement signed", Q(agreement_signed_at__isnull=False)),
    ("complete", "Ready to start (complete)", Q(state=EnrollmentState.COMPLETE)),
    ("finished", "Finished the programme", Q(programme_outcome=ProgrammeOutcome.COMPLETED)),
]


def enrollment_progress_chart(*, cohort: Cohort) -> Chart:
    """How far the cohort's learners have got (PROGRESS_STEPS), as a funnel: one query."""
    counts: dict[str, int] = (
        CohortEnrollment.objects.filter(cohort=cohort)
        .exclude(state=EnrollmentState.WITHDRAWN)
        .aggregate(**{key: Count("pk", filter=done) for key, _, done in PROGRESS_STEPS})
    )
    return {
        "id": "progress-chart",
        "type": "funnel",
        "title": "How far the learners have got",
        "labels": [label for _, label, _ in PROGRESS_STEPS],
        "datasets": [{"label": "Learners", "data": [counts[key] for key, _, _ in PROGRESS_STEPS]}],
        "stacked": False,
        "unit": "",
    }


def enrollment_progress_panel(cohort: Cohort, user: User) -> dict[str, Any] | None:
    """The cohort page's progress funnel (cohorts.panels), once the cohort takes learners."""
    if cohort.state == CohortState.DRAFT:
        return None
    return {"chart": enrollment_progress_chart(cohort=cohort)}


# How many months the start page's enrolment chart looks back, the current one included.
ENROLMENT_MONTHS = 12


def _month_starts(count: int) -> list[date]:
    """The first days of the last `count` months, oldest first, the current one last."""
    first = timezone.localdate().replace(day=1)
    starts = [first]
    for _ in range(count - 1):
        starts.insert(0, (starts[0] - timedelta(days=1)).replace(day=1))
    return starts


def enrollments_by_month_chart() -> Chart:
    """The institution's enrolments per month over the last ENROLMENT_MONTHS months: those
    invited (withdrawn later or not) and those whose onboarding completed, in one query."""
    starts = _month_starts(ENROLMENT_MONTHS)
    edges = [
        timezone.make_aware(datetime.combine(start, time.min))
        for start in [*starts, (starts[-1] + timedelta(days=31)).replace(day=1)]
    ]
    series = {"invited": "invited_at", "completed": "completed_at"}
    counts: dict[str, int] = CohortEnrollment.objects.aggregate(
        **{
            f"{name}_{index}": Count(
                "pk", filter=Q(**{f"{field}__gte": edges[index], f"{field}__lt": edges[index + 1]})
            )
            for name, field in series.items()
            for index in range(len(starts))
        }
    )
    return {
        "id": "enrolments-chart",
        "type": "bar",
        "title": "Learners enrolled and onboarded per month",
        "labels": [f"{start:%b %Y}" for start in starts],
        "datasets": [
            {
                "label": label,
                "data": [counts[f"{name}_{index}"] for index in range(len(starts))],
            }
            for name, label in (("invited", "Enrolled"), ("completed", "Onboarding complete"))
        ],
        "stacked": False,
        "unit": "",
    }


def enrollments_home_panel(user: User) -> dict[str, Any] | None:
    """The start page's enrolment chart (accounts.home), for those who manage cohorts and see
    every one of them: it counts the whole institution's."""
    if not user.may("cohorts.manage_cohorts") or not user.may("cohorts.access_all_cohorts"):
        return None
    return {"chart": enrollments_by_month_chart()}
