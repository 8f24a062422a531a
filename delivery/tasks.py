from celery import shared_task

from accounts.models import User
from enrolments.models import CohortEnrollment


# Certificates
@shared_task(name="delivery.certificates_issue_part")
def certificates_issue_part_task(cohort_id: int, actor_id: int, enrollment_ids: list[int]) -> int:
    """Issue the certificates of one part of a cohort's learners (as `actor`, whose permission
    is checked again for each); returns how many were issued."""
    from delivery.services.certificates import certificates_issue_batch

    actor = User.objects.filter(pk=actor_id).first()
    if actor is None:
        return 0
    enrollments = list(
        CohortEnrollment.objects.filter(cohort_id=cohort_id, pk__in=enrollment_ids)
        .select_related("cohort")
        .order_by("pk")
    )
    return len(certificates_issue_batch(enrollments=enrollments, actor=actor).issued)
