"""The reads behind the review pages. Every one starts from the cohorts the reviewer may see
(cohorts.selectors.cohorts_visible_to), so a document of another cohort is simply not found."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min, OuterRef, Prefetch, Q, QuerySet, Subquery
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


def _awaiting_review(user: User) -> QuerySet[StudentDocument]:
    return StudentDocument.objects.filter(
        status=DocumentStatus.PENDING,
        is_current=True,
        scan_status__in=REVIEWABLE_SCAN_STATUSES,
        enrollment__state__in=OPEN_ENROLLMENT_STATES,
        enrollment__cohort__state__in=REVIEWABLE_COHORT_STATES,
        enrollment__cohort__in=reviewable_cohorts(user),
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
    documents = _awaiting_review(user)
    if cohort is not None:
        documents = documents.filter(enrollment__cohort=cohort)
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
    """Per cohort, the documents waiting for `user`'s review, in one query."""
    rows = (
        _awaiting_review(user)
        .filter(enrollment__cohort_id__in=cohort_ids)
        .order_by()
        .values("enrollment__cohort_id")
        .annotate(n=Count("pk"))
    )
    return {row["enrollment__cohort_id"]: row["n"] for row in rows}


def queue_cohort_choices(*, user: User) -> QuerySet[Cohort]:
    """The cohorts a reviewer may filter the queue by, each with its number waiting."""
    waiting = Q(
        enrollments__documents__status=DocumentStatus.PENDING,
        enrollments__documents__is_current=True,
        enrollments__state__in=OPEN_ENROLLMENT_STATES,
    )
    return (
        reviewable_cohorts(user)
        .filter(state__in=REVIEWABLE_COHORT_STATES)
        .annotate(waiting=Count("enrollments__documents", filter=waiting))
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
            pk__in=pks,
            status=DocumentStatus.PENDING,
            is_current=True,
            enrollment__cohort__in=reviewable_cohorts(user),
        )
        .select_related("enrollment__user", "enrollment__cohort", "document_type")
        .order_by("uploaded_at", "pk")
    )


def document_for_review(*, user: User, pk: int) -> StudentDocument:
    """Any version of a document in a cohort `user` may review (DoesNotExist otherwise), with
    what the review page shows of its student and cohort."""
    return StudentDocument.objects.select_related(
        "enrollment__user", "enrollment__cohort", "document_type"
    ).get(pk=pk, enrollment__cohort__in=reviewable_cohorts(user))


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
