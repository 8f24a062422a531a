"""An organisation's places for a subject in an academic year: what its preference offers (for
the subject's phase) less the placements that take one up (confirmed, active, completed).
Confirming re-reads this under a lock on the preference (placements.services.placements)."""

from collections import Counter

from academics.models import AcademicYear
from placements.models import (
    PLACES_TAKEN_STATUSES,
    Organisation,
    Placement,
    PlacementPreference,
    PlacementSubject,
)
from placements.preferences import offered_places


def places_free(
    organisation: Organisation, academic_year: AcademicYear, subject: PlacementSubject
) -> int:
    return places_free_many([organisation.pk], academic_year, subject).get(organisation.pk, 0)


def places_free_many(
    organisation_ids: list[int], academic_year: AcademicYear, subject: PlacementSubject
) -> dict[int, int]:
    """Free places per organisation id (two queries however many); 0 for an organisation that
    offers none, never negative."""
    offered = {
        organisation_id: offered_places(details, subject=subject.code, phase=subject.phase)
        for organisation_id, details in PlacementPreference.objects.filter(
            organisation_id__in=organisation_ids, academic_year=academic_year
        ).values_list("organisation_id", "placement_details")
    }
    taken = Counter(
        Placement.objects.filter(
            organisation_id__in=organisation_ids,
            academic_year=academic_year,
            subject=subject,
            status__in=PLACES_TAKEN_STATUSES,
        ).values_list("organisation_id", flat=True)
    )
    return {pk: max(offered.get(pk, 0) - taken[pk], 0) for pk in organisation_ids}
