from django.db.models import Count, Q, QuerySet

from cohorts.models import Cohort
from enrolments.models import CohortEnrollment, EnrollmentState, VerificationState

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
    return CohortEnrollment.objects.filter(cohort=cohort).aggregate(
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


def enrollment_list_for_cohort(
    *, cohort: Cohort, search: str = "", state: str = "", sort: str = "name"
) -> QuerySet[CohortEnrollment]:
    """The cohort dashboard's students table."""
    enrollments = CohortEnrollment.objects.filter(cohort=cohort).select_related("user")
    if search:
        enrollments = enrollments.filter(
            Q(user__full_name__icontains=search) | Q(user__email__icontains=search)
        )
    if state:
        enrollments = enrollments.filter(state=state)
    field = SORTABLE.get(sort.removeprefix("-"), "user__full_name")
    return enrollments.order_by(f"-{field}" if sort.startswith("-") else field, "pk")


def enrollments_for_student(*, user) -> QuerySet[CohortEnrollment]:
    """A student's own enrolments (withdrawn ones are gone from their view)."""
    return (
        CohortEnrollment.objects.filter(user=user)
        .exclude(state=EnrollmentState.WITHDRAWN)
        .select_related("cohort")
        .order_by("-invited_at")
    )
