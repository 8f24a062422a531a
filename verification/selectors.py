"""The reads behind the review pages. Every one starts from the cohorts the reviewer may see
(cohorts.selectors.cohorts_visible_to), so a document of another cohort is simply not found."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from cohorts.models import CLOSED_STATES, Cohort, CohortState, DocumentType
from cohorts.selectors import cohorts_visible_to
from enrolments.models import (
    REVIEWABLE_SCAN_STATUSES,
    CohortEnrollment,
    DocumentStatus,
    EnrollmentState,
    StudentDocument,
)
from enrolments.selectors import enrollment_document_prefetches
from verification.models import DocumentVerification

# Documents are reviewed while the cohort is being filled or running (not closed), and the
# student's place in it is open; a closed cohort or a withdrawn student has nothing left to
# review.
REVIEWABLE_COHORT_STATES = tuple(state for state in CohortState if state not in CLOSED_STATES)
OPEN_ENROLLMENT_STATES = (EnrollmentState.WAITING, EnrollmentState.IN_PROGRESS)
# The annotation of `_awaiting_review` naming the cohort the queue shows a document in.
REVIEW_COHORT = "review_cohort_id"


def reviewable_cohorts(user: User) -> QuerySet[Cohort]:
    """The cohorts whose documents `user` may review: none unless their roles allow reviewing."""
    if not user.may("verification.review_documents"):
        nothing: QuerySet[Cohort] = Cohort.objects.none()
        return nothing
    return cohorts_visible_to(user)


def may_review_cohort(*, user: User, cohort_id: int) -> bool:
    return reviewable_cohorts(user).filter(pk=cohort_id).exists()


def _versions() -> Subquery:
    """How many versions of the same document the learner has uploaded, for any of their
    enrolments (this one included)."""
    return Subquery(
        StudentDocument.objects.filter(
            learner_id=OuterRef("learner_id"), document_type_id=OuterRef("document_type_id")
        )
        .order_by()
        .values("learner_id")
        .annotate(n=Count("pk"))
        .values("n")
    )


def enrollments_counting(
    *, user: User, learner_id: Any, enrollment_id: Any, document_type_id: Any
) -> QuerySet[CohortEnrollment]:
    """The enrolments, in cohorts `user` may review, that a document counts for (given its
    learner, the enrolment it was uploaded for and its type, as values or OuterRefs): the one
    it was uploaded for, and each other open one of its learner's whose cohort requires its type
    without asking for a fresh copy (enrolments.selectors.enrollment_document_steps): a reviewer
    of a cohort that has ended sees nothing uploaded for the learner's later ones. The enrolments
    that can still change come first, then the one it was uploaded for."""
    # One query further in, an outer reference is one level further out.
    of_type = (
        OuterRef(document_type_id) if isinstance(document_type_id, OuterRef) else document_type_id
    )
    fresh = Cohort.fresh_document_types.through.objects.filter(
        cohort_id=OuterRef("cohort_id"), documenttype_id=of_type
    )
    enrollments: QuerySet[CohortEnrollment] = (
        CohortEnrollment.objects.filter(learner_id=learner_id, cohort__in=reviewable_cohorts(user))
        .filter(
            Q(pk=enrollment_id)
            | Q(cohort__required_document_types=document_type_id) & ~Exists(fresh) & _open_here()
        )
        # Annotated, not ordered by expressions: an outer reference in ORDER BY is not resolved.
        .alias(
            closed_rank=Case(
                When(_open_here(), then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
            other_rank=Case(
                When(pk=enrollment_id, then=Value(0)), default=Value(1), output_field=IntegerField()
            ),
        )
        .order_by("closed_rank", "other_rank", "pk")
    )
    return enrollments


def _open_here() -> Q:
    """An enrolment whose documents are still reviewed: open, in a cohort that is not closed."""
    return Q(state__in=OPEN_ENROLLMENT_STATES, cohort__state__in=REVIEWABLE_COHORT_STATES)


def _counting_here(user: User) -> QuerySet[CohortEnrollment]:
    """`enrollments_counting` of the document in the outer query."""
    return enrollments_counting(
        user=user,
        learner_id=OuterRef("learner_id"),
        enrollment_id=OuterRef("enrollment_id"),
        document_type_id=OuterRef("document_type_id"),
    )


def _awaiting_review(user: User, cohort: Cohort | None = None) -> QuerySet[StudentDocument]:
    """Current documents waiting for a decision that count for an open enrolment in a cohort
    `user` may review (`cohort`, if given): the one they were uploaded for, or another of the
    learner's that uses them again. A document uploaded for an enrolment since withdrawn, or in
    a cohort the reviewer does not work in, is reviewed from the enrolment that waits for it."""
    counting = _counting_here(user).filter(_open_here())
    if cohort is not None:
        counting = counting.filter(cohort=cohort)
    return StudentDocument.objects.filter(
        Exists(counting),
        status=DocumentStatus.PENDING,
        is_current=True,
        scan_status__in=REVIEWABLE_SCAN_STATUSES,
    ).annotate(
        # The enrolment (and its cohort) the queue shows the document in.
        review_enrollment_id=Subquery(counting.values("pk")[:1]),
        review_cohort_id=Subquery(counting.values("cohort_id")[:1]),
        review_cohort_name=Subquery(counting.values("cohort__name")[:1]),
    )


def review_queue(
    *,
    user: User,
    cohort: Cohort | None = None,
    document_type: DocumentType | None = None,
    waiting_days: int | None = None,
) -> QuerySet[StudentDocument]:
    """Documents waiting for a decision in the cohorts `user` may review, oldest first, with
    the student, cohort, document type and number of versions loaded in the same query."""
    documents = _awaiting_review(user, cohort)
    if document_type is not None:
        documents = documents.filter(document_type=document_type)
    if waiting_days:
        documents = documents.filter(uploaded_at__lte=timezone.now() - timedelta(days=waiting_days))
    return (
        documents.select_related("enrollment__user", "enrollment__cohort", "document_type")
        .annotate(version_count=_versions())
        .order_by("uploaded_at", "pk")
    )


@dataclass(frozen=True)
class QueueCounts:
    total: int
    over_1_day: int
    over_3_days: int
    over_7_days: int
    oldest: datetime | None


def review_queue_counts(*, user: User) -> QueueCounts:
    """The whole queue's size and how long it has been waiting, in one query."""
    now = timezone.now()
    counts = _awaiting_review(user).aggregate(
        total=Count("pk"),
        over_1_day=Count("pk", filter=Q(uploaded_at__lte=now - timedelta(days=1))),
        over_3_days=Count("pk", filter=Q(uploaded_at__lte=now - timedelta(days=3))),
        over_7_days=Count("pk", filter=Q(uploaded_at__lte=now - timedelta(days=7))),
        oldest=Min("uploaded_at"),
    )
    return QueueCounts(**counts)


def review_counts_by_cohort(*, user: User, cohort_ids: list[int]) -> dict[int, int]:
    """Per cohort, the documents waiting for `user`'s review, in one query: each in the cohort
    the queue shows it in."""
    rows = (
        _awaiting_review(user)
        # An annotation, which the plugin's field check does not know of.
        .filter(**{f"{REVIEW_COHORT}__in": cohort_ids})
        .order_by()
        .values(REVIEW_COHORT)
        .annotate(n=Count("pk"))
    )
    return {row[REVIEW_COHORT]: row["n"] for row in rows}


def queue_cohort_choices(*, user: User) -> QuerySet[Cohort]:
    """The cohorts a reviewer may filter the queue by, each with its number waiting: each
    document in the cohort the queue shows it in (`review_counts_by_cohort`)."""
    waiting = (
        _awaiting_review(user)
        # An annotation, which the plugin's field check does not know of.
        .filter(**{REVIEW_COHORT: OuterRef("pk")})
        .order_by()
        .values(REVIEW_COHORT)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        reviewable_cohorts(user)
        .filter(state__in=REVIEWABLE_COHORT_STATES)
        .annotate(waiting=Coalesce(Subquery(waiting), 0))
        .order_by("name", "pk")
    )


def queue_document_type_choices(*, user: User) -> QuerySet[DocumentType]:
    """Every document type, each with its number waiting in the reviewer's cohorts."""
    waiting = _awaiting_review(user).filter(document_type_id=OuterRef("pk"))
    return DocumentType.objects.annotate(
        waiting=Subquery(
            waiting.order_by().values("document_type_id").annotate(n=Count("pk")).values("n")
        )
    ).order_by("name")


def documents_ticked(*, user: User, pks: list[int]) -> QuerySet[StudentDocument]:
    """Of the documents ticked in the queue, those still waiting for a decision in the cohorts
    `user` may review, in the queue's order: also one that can no longer be decided (its cohort
    closed, say), which the review then refuses, saying why."""
    return (
        StudentDocument.objects.filter(
            Exists(_counting_here(user)),
            pk__in=pks,
            status=DocumentStatus.PENDING,
            is_current=True,
        )
        .select_related("enrollment__user", "enrollment__cohort", "document_type")
        .order_by("uploaded_at", "pk")
    )


def document_for_review(*, user: User, pk: int) -> StudentDocument:
    """Any version of a document that counts for an enrolment in a cohort `user` may review
    (`enrollments_counting`; DoesNotExist otherwise), with its student and document type."""
    return StudentDocument.objects.select_related(
        "enrollment__user", "enrollment__cohort", "document_type"
    ).get(Exists(_counting_here(user)), pk=pk)


def document_review_enrollment(*, user: User, document: StudentDocument) -> CohortEnrollment | None:
    """The enrolment `user` reviews `document` in: of those it counts for in the cohorts they may
    review, one whose documents are still reviewed, the one it was uploaded for first. None
    when it counts for none of them."""
    enrollment: CohortEnrollment | None = (
        enrollments_counting(
            user=user,
            learner_id=document.learner_id,
            enrollment_id=document.enrollment_id,
            document_type_id=document.document_type_id,
        )
        .select_related("user", "cohort", "learner")
        .first()
    )
    return enrollment


def _verifications() -> "Prefetch[str, QuerySet[DocumentVerification], str]":
    return Prefetch("verifications", queryset=DocumentVerification.objects.select_related("admin"))


def document_versions(*, document: StudentDocument) -> list[StudentDocument]:
    """Every version of `document` the learner uploaded, for any of their enrolments, newest
    first, with its decisions and the cohort it was uploaded for."""
    return list(
        StudentDocument.objects.filter(
            learner_id=document.learner_id, document_type_id=document.document_type_id
        )
        .select_related("enrollment__cohort")
        .prefetch_related(_verifications())
        .order_by("-uploaded_at", "-pk")
    )


def document_next_for_review(
    *, user: User, after: StudentDocument, filters: dict[str, Any] | None = None
) -> StudentDocument | None:
    """The document to review after `after`: the next one in the (filtered) queue's order,
    else the first one, never `after` itself."""
    queue = review_queue(user=user, **(filters or {}))
    later = queue.filter(
        Q(uploaded_at__gt=after.uploaded_at) | Q(uploaded_at=after.uploaded_at, pk__gt=after.pk)
    ).first()
    return later or queue.exclude(pk=after.pk).first()


def enrollment_for_review(*, user: User, pk: int) -> CohortEnrollment:
    """An enrolment in a cohort `user` may review (DoesNotExist otherwise) with its required
    documents and every version of every document of its learner with its decisions (those
    that count for it may have been uploaded for another of their enrolments), in a fixed
    number of queries."""
    enrollment: CohortEnrollment = (
        CohortEnrollment.objects.filter(cohort__in=reviewable_cohorts(user))
        .select_related("user", "cohort", "learner")
        .prefetch_related(
            *enrollment_document_prefetches(
                StudentDocument.objects.select_related("document_type").prefetch_related(
                    _verifications()
                )
            )
        )
        .get(pk=pk)
    )
    return enrollment
