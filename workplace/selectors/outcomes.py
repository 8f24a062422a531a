"""The outcomes a placement's work counts towards."""

from django.db.models import QuerySet

from academics.models import Outcome
from placements.models import Placement


def placement_outcomes(placement: Placement) -> QuerySet[Outcome]:
    """The active outcomes of the courses of the programme the placement's cohort runs, in the
    courses' order: what its logbook entries practise and its observation reports are about."""
    if placement.cohort_id is None:
        return Outcome.objects.none()
    return (
        Outcome.objects.filter(course__programme__cohorts=placement.cohort_id, is_active=True)
        .select_related("course")
        .order_by("course__code", "position", "code")
    )
