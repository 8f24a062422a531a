"""What the grant pages and the daily claims run read: the agreements with their claims'
counts, the milestones each learner of an agreement's cohort has reached (and from when a
tranche is due), the claims of an agreement with the evidence each needs, and the totals per
milestone and status. Each read is a fixed number of queries whatever the cohort's size.

When a tranche is due (the agreement page's help says the same):
- registration: once the learner has started (their enrolment in progress or complete), from
  the cohort's start or, when they joined a course run later, from that day;
- mid-point: half-way between the start and end of the cohort's course runs (the cohort's own
  dates when it has none), for a learner who had started by then (joined on or before it)
  and was still in the programme then;
- completion: from the completion date the programme outcome "completed" records (or, for a
  certificate issued without one, the day it was issued).
A learner withdrawn (or recorded not yet competent) earns no tranche due on or after the day
they left; claims due before stay."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cohorts.models import Cohort
from delivery.models import (
    AttendanceRecord,
    AttendanceStatus,
    Certificate,
    CertificateKind,
    CourseEnrollment,
    CourseRunStatus,
)
from enrolments.models import (
    CohortEnrollment,
    DocumentStatus,
    EnrollmentState,
    ProgrammeOutcome,
    StudentDocument,
)
from enrolments.selectors import with_agreement_outcome
from finance.models import GrantAgreement, GrantClaim, GrantClaimStatus, GrantMilestone
from signing.models import SubmissionStatus
from workplace.models import LogbookWeek

# The document type the institution's catalogue starts with for a learner's identity
# (cohorts migration 0002): the registration tranche needs it verified.
ID_DOCUMENT_TYPE = "South African ID or passport"

MILESTONE_AMOUNT_FIELDS = {
    GrantMilestone.REGISTRATION: "registration_amount",
    GrantMilestone.MIDPOINT: "midpoint_amount",
    GrantMilestone.COMPLETION: "completion_amount",
}

# The permission each evidence page asks of its reader: a link is shown only to who may follow
# it (the others see what the evidence is and when it was given).
REVIEW_DOCUMENTS = "verification.review_documents"
MANAGE_TEMPLATES = "signing.manage_templates"
MANAGE_DELIVERY = "delivery.manage_delivery"
ISSUE_CERTIFICATES = "delivery.issue_certificates"
MANAGE_PLACEMENTS = "placements.manage_placements"


def milestone_amount(agreement: GrantAgreement, milestone: str) -> Decimal:
    amount: Decimal = getattr(agreement, MILESTONE_AMOUNT_FIELDS[GrantMilestone(milestone)])
    return amount


# --- Agreements ------------------------------------------------------------------------------


def grant_agreement_list(*, search: str = "") -> QuerySet[GrantAgreement]:
    """Agreements, newest first, with their cohort and how many claims are due, submitted,
    paid and rejected (`due_count` ...)."""
    counts = {
        f"{status}_count": Count("claims", filter=Q(claims__status=status))
        for status in GrantClaimStatus.values
    }
    agreements = (
        GrantAgreement.objects.select_related("cohort")
        .annotate(**counts)
        .order_by("-created_at", "-pk")
    )
    if search:
        agreements = agreements.filter(
            Q(seta__icontains=search)
            | Q(reference__icontains=search)
            | Q(cohort__name__icontains=search)
        )
    return agreements


def grant_agreement_get(*, pk: int) -> GrantAgreement:
    agreement: GrantAgreement = GrantAgreement.objects.select_related("cohort").get(pk=pk)
    return agreement


def grant_cohort_choices() -> QuerySet[Cohort]:
    return Cohort.objects.order_by("-start_date", "name")


# --- When each tranche is due ----------------------------------------------------------------


@dataclass(frozen=True)
class Reached:
    """A learner reached `milestone`: its tranche is due from `due_on`."""

    learner_id: int
    milestone: str
    due_on: datetime.date


def midpoint_of(cohort: Cohort) -> datetime.date:
    """Half-way between the start and end of the cohort's course runs (not cancelled), or of
    the cohort itself when it has none (the earlier day when the span is odd)."""
    span = cohort.runs.exclude(status=CourseRunStatus.CANCELLED).aggregate(
        starts=Min("start_date"), ends=Max("end_date")
    )
    starts = span["starts"] or cohort.start_date
    ends = span["ends"] or cohort.end_date
    return starts + (ends - starts) // 2


def _day(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(moment) if moment is not None else None


def grant_milestones_reached(*, agreement: GrantAgreement, today: datetime.date) -> list[Reached]:
    """The milestones the learners of the agreement's cohort have reached by `today`, as the
    module's docstring says (whether a claim exists for them already or not)."""
    cohort = agreement.cohort
    midpoint = midpoint_of(cohort)
    enrollments = (
        CohortEnrollment.objects.filter(cohort=cohort)
        .annotate(
            joined_on=Min("course_enrollments__enrollment_date"),
            has_documents=Exists(StudentDocument.objects.filter(enrollment=OuterRef("pk"))),
            certified_at=Subquery(
                Certificate.objects.filter(
                    enrollment=OuterRef("pk"),
                    kind=CertificateKind.CERTIFICATE,
                    revoked_at__isnull=True,
                ).values("issued_at")[:1]
            ),
        )
        .order_by("pk")
    )
    reached: list[Reached] = []
    for enrollment in enrollments:
        withdrawn = enrollment.state == EnrollmentState.WITHDRAWN
        # A withdrawn enrolment had started if the learner did anything in it.
        started = enrollment.state in (EnrollmentState.IN_PROGRESS, EnrollmentState.COMPLETE) or (
            withdrawn and (enrollment.agreement_signed_at is not None or enrollment.has_documents)
        )
        left_on = _day(enrollment.withdrawn_at) if withdrawn else None
        if enrollment.programme_outcome in (
            ProgrammeOutcome.WITHDRAWN,
            ProgrammeOutcome.NOT_YET_COMPETENT,
        ):
            left_on = min(filter(None, [left_on, enrollment.completion_date]), default=None)
        if withdrawn and left_on is None:
            left_on = _day(enrollment.updated_at)

        def still_in(due_on: datetime.date, left_on: datetime.date | None = left_on) -> bool:
            return left_on is None or due_on < left_on

        learner_id = enrollment.learner_id
        if started:
            registered_on = max(cohort.start_date, enrollment.joined_on or cohort.start_date)
            if registered_on <= today and still_in(registered_on):
                reached.append(Reached(learner_id, GrantMilestone.REGISTRATION, registered_on))
            if registered_on <= midpoint <= today and still_in(midpoint):
                reached.append(Reached(learner_id, GrantMilestone.MIDPOINT, midpoint))
        completed_on = None
        if enrollment.programme_outcome == ProgrammeOutcome.COMPLETED:
            completed_on = enrollment.completion_date
        completed_on = completed_on or _day(enrollment.certified_at)
        if completed_on is not None and completed_on <= today and not withdrawn:
            reached.append(Reached(learner_id, GrantMilestone.COMPLETION, completed_on))
    return reached


# --- Claims and their evidence ---------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceItem:
    """One piece of evidence a claim needs (or may add, when not `required`): what it is,
    whether it is there (`note` says when, or what is missing), and the page showing it
    ("" when the viewer may not open that page, or there is nothing to show)."""

    label: str
    present: bool
    note: str
    url: str = ""
    required: bool = True


@dataclass(frozen=True)
class ClaimEvidence:
    items: tuple[EvidenceItem, ...]

    @property
    def missing(self) -> list[str]:
        """What is missing, as the page flags it ("No signed agreement yet")."""
        return [item.note for item in self.items if item.required and not item.present]

    @property
    def complete(self) -> bool:
        return not self.missing


def _evidence_enrollments(
    *, cohort: Cohort, learner_ids: Iterable[int]
) -> dict[int, CohortEnrollment]:
    """The learners' enrolments in `cohort`, each annotated with what the evidence reads: their
    latest agreement (enrolments.selectors), verified ID document, marked attendance, logbook
    and certificate. One query."""
    attendance = (
        AttendanceRecord.objects.filter(enrolment__enrollment=OuterRef("pk"))
        .exclude(status=AttendanceStatus.UNKNOWN)
        .order_by()
        .values("enrolment__enrollment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    id_document = StudentDocument.objects.filter(
        learner_id=OuterRef("learner_id"),
        document_type__name=ID_DOCUMENT_TYPE,
        status=DocumentStatus.VERIFIED,
        is_current=True,
    ).order_by("-uploaded_at")
    logbook = LogbookWeek.objects.filter(
        placement__learner_id=OuterRef("learner_id"), placement__cohort_id=OuterRef("cohort_id")
    ).order_by("-week_starts_on")
    certificate = Certificate.objects.filter(
        enrollment=OuterRef("pk"), kind=CertificateKind.CERTIFICATE, revoked_at__isnull=True
    )
    first_run = CourseEnrollment.objects.filter(enrollment=OuterRef("pk")).order_by(
        "enrollment_date", "pk"
    )
    enrollments = with_agreement_outcome(
        CohortEnrollment.objects.filter(cohort=cohort, learner_id__in=list(learner_ids))
    ).annotate(
        id_document_id=Subquery(id_document.values("pk")[:1]),
        id_document_on=Subquery(id_document.values("uploaded_at")[:1]),
        attendance_marked=Coalesce(Subquery(attendance, output_field=IntegerField()), 0),
        logbook_placement_id=Subquery(logbook.values("placement_id")[:1]),
        certificate_id=Subquery(certificate.values("pk")[:1]),
        certificate_issued_at=Subquery(certificate.values("issued_at")[:1]),
        course_run_id=Subquery(first_run.values("course_run_id")[:1]),
        course_enrollment_id=Subquery(first_run.values("pk")[:1]),
    )
    return {enrollment.learner_id: enrollment for enrollment in enrollments}


def _link(viewer: User | None, permission: str, name: str, *args: object) -> str:
    if viewer is not None and not viewer.may(permission):
        return ""
    return reverse(name, args=args)


def _date(moment: datetime.datetime | datetime.date | None) -> str:
    if isinstance(moment, datetime.datetime):
        moment = timezone.localdate(moment)
    return f"{moment:%-d %b %Y}" if moment else ""


def _evidence_of(milestone: str, enrollment: Any, viewer: User | None) -> ClaimEvidence:
    """`enrollment`: one of `_evidence_enrollments`, with its annotations (None: the learner
    is no longer in the cohort)."""
    if enrollment is None:
        return ClaimEvidence(
            (EvidenceItem("Enrolment", False, "No longer enrolled in the cohort"),)
        )
    e = enrollment
    if milestone == GrantMilestone.REGISTRATION:
        agreement_signed = e.latest_agreement_status == SubmissionStatus.COMPLETED or (
            e.latest_agreement_status is None and e.agreement_signed_at is not None
        )
        agreement_url = ""
        if agreement_signed and e.latest_agreement_id:
            agreement_url = _link(
                viewer, MANAGE_TEMPLATES, "signing:submission_detail", e.latest_agreement_id
            )
        return ClaimEvidence(
            (
                EvidenceItem(
                    "Signed agreement",
                    agreement_signed,
                    f"signed {_date(e.agreement_signed_at)}".strip()
                    if agreement_signed
                    else "No signed agreement yet",
                    agreement_url,
                ),
                EvidenceItem(
                    "ID document",
                    e.id_document_id is not None,
                    f"verified, uploaded {_date(e.id_document_on)}"
                    if e.id_document_id
                    else "No verified ID document yet",
                    _link(viewer, REVIEW_DOCUMENTS, "verification:document", e.id_document_id)
                    if e.id_document_id
                    else "",
                ),
            )
        )
    if milestone == GrantMilestone.MIDPOINT:
        attended = e.attendance_marked > 0
        items = [
            EvidenceItem(
                "Attendance",
                attended,
                f"{e.attendance_marked} session{'s' if e.attendance_marked != 1 else ''} marked"
                if attended
                else "No attendance recorded yet",
                _link(viewer, MANAGE_DELIVERY, "delivery:cohort_attendance", e.cohort_id)
                if attended
                else "",
            )
        ]
        if e.logbook_placement_id:
            items.append(
                EvidenceItem(
                    "Logbook",
                    True,
                    "kept at the workplace",
                    _link(viewer, MANAGE_PLACEMENTS, "workplace:logbook", e.logbook_placement_id),
                    required=False,
                )
            )
        return ClaimEvidence(tuple(items))
    certified = e.certificate_id is not None
    items = [
        EvidenceItem(
            "Certificate",
            certified,
            f"issued {_date(e.certificate_issued_at)}" if certified else "No certificate yet",
            _link(viewer, ISSUE_CERTIFICATES, "delivery:certificate", e.certificate_id)
            if certified
            else "",
        )
    ]
    if e.course_run_id:
        items.append(
            EvidenceItem(
                "Results",
                e.programme_outcome == ProgrammeOutcome.COMPLETED,
                f"completed {_date(e.completion_date)}"
                if e.programme_outcome == ProgrammeOutcome.COMPLETED
                else "outcome not recorded",
                _link(
                    viewer,
                    MANAGE_DELIVERY,
                    "delivery:gradebook_learner",
                    e.course_run_id,
                    e.course_enrollment_id,
                ),
                required=False,
            )
        )
    return ClaimEvidence(tuple(items))


def grant_claims_evidence(
    *, agreement: GrantAgreement, claims: Iterable[GrantClaim], viewer: User | None = None
) -> dict[int, ClaimEvidence]:
    """The evidence of each claim (by claim pk), its links those `viewer` may follow (all of
    them when no viewer is given, as for the services' checks)."""
    claims = list(claims)
    enrollments = _evidence_enrollments(
        cohort=agreement.cohort, learner_ids={claim.learner_id for claim in claims}
    )
    return {
        claim.pk: _evidence_of(claim.milestone, enrollments.get(claim.learner_id), viewer)
        for claim in claims
    }


def grant_claim_list(
    *,
    agreement: GrantAgreement,
    search: str = "",
    milestone: str = "",
    status: str = "",
) -> QuerySet[GrantClaim]:
    """The agreement's claims, per learner (by name) then milestone, with the learner and the
    payment that paid them."""
    claims = GrantClaim.objects.filter(agreement=agreement).select_related("learner", "payment")
    if milestone:
        claims = claims.filter(milestone=milestone)
    if status:
        claims = claims.filter(status=status)
    if search:
        claims = claims.filter(
            Q(learner__first_name__icontains=search)
            | Q(learner__last_name__icontains=search)
            | Q(learner__email__icontains=search)
        )
    return claims.order_by("learner__last_name", "learner__first_name", "learner_id", "due_on")


@dataclass(frozen=True)
class MilestoneTotals:
    milestone: str
    label: str
    per_learner: Decimal
    counts: dict[str, int]
    amounts: dict[str, Decimal]


def grant_claim_totals(*, agreement: GrantAgreement) -> list[MilestoneTotals]:
    """For each milestone, how many claims are due, submitted, paid and rejected, and their
    amounts. One query."""
    rows = (
        GrantClaim.objects.filter(agreement=agreement)
        .order_by()
        .values("milestone", "status")
        .annotate(
            n=Count("pk"),
            total=Coalesce(Sum("amount"), Value(Decimal(0)), output_field=DecimalField()),
        )
    )
    found = {(row["milestone"], row["status"]): row for row in rows}
    return [
        MilestoneTotals(
            milestone=milestone.value,
            label=milestone.label,
            per_learner=milestone_amount(agreement, milestone),
            counts={
                status: found.get((milestone.value, status), {}).get("n", 0)
                for status in GrantClaimStatus.values
            },
            amounts={
                status: found.get((milestone.value, status), {}).get("total", Decimal(0))
                for status in GrantClaimStatus.values
            },
        )
        for milestone in GrantMilestone
    ]


def grant_claims_chosen(*, agreement: GrantAgreement, pks: Iterable[int]) -> list[GrantClaim]:
    """The claims of `agreement` among `pks` (others' are not there), per learner."""
    return list(
        GrantClaim.objects.filter(agreement=agreement, pk__in=list(pks))
        .select_related("learner")
        .order_by("learner__last_name", "learner__first_name", "learner_id", "due_on")
    )


def grant_agreement_ids() -> list[int]:
    """Every agreement, for the daily claims run."""
    return list(GrantAgreement.objects.order_by("pk").values_list("pk", flat=True))
