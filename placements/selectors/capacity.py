"""An organisation's places for a subject in an academic year: what its preference offers (for
the subject's phase) less the placements that take one up (confirmed, active, completed).

An organisation that answered an urgent request "can host" offers `places_offered` more, for
placements linked to that request only: those use the invite's places first, and only what
goes past them takes one of the preference's. Confirming re-reads this under a lock on the
preference and the invite (placements.services.placements)."""

from collections import Counter

from django.db.models import Count, IntegerField, OuterRef, Subquery

from academics.models import AcademicYear
from placements.models import (
    PLACES_TAKEN_STATUSES,
    Organisation,
    Placement,
    PlacementPreference,
    PlacementSubject,
    UrgentAnswer,
    UrgentPlacementInvite,
    UrgentPlacementRequest,
)
from placements.preferences import offered_places


def places_free(
    organisation: Organisation, academic_year: AcademicYear, subject: PlacementSubject
) -> int:
    return places_free_many([organisation.pk], academic_year, subject).get(organisation.pk, 0)


def _urgent_places(organisation_ref: str = "organisation_id") -> Subquery:
    """The places the placement's organisation offered in its can-host answer to the placement's
    urgent request (none when it gave no such answer)."""
    return Subquery(
        UrgentPlacementInvite.objects.filter(
            request_id=OuterRef("urgent_request_id"),
            organisation_id=OuterRef(organisation_ref),
            answer=UrgentAnswer.CAN_HOST,
        ).values("places_offered")[:1],
        output_field=IntegerField(),
    )


def places_free_many(
    organisation_ids: list[int], academic_year: AcademicYear, subject: PlacementSubject
) -> dict[int, int]:
    """Free places per organisation id (two queries however many); 0 for an organisation that
    offers none, never negative. Placements of an urgent request take a place here only past
    the places the organisation offered that request."""
    offered = {
        organisation_id: offered_places(details, subject=subject.code, phase=subject.phase)
        for organisation_id, details in PlacementPreference.objects.filter(
            organisation_id__in=organisation_ids, academic_year=academic_year
        ).values_list("organisation_id", "placement_details")
    }
    taken: Counter[int] = Counter()
    for organisation_id, request_id, count, urgent in (
        Placement.objects.filter(
            organisation_id__in=organisation_ids,
            academic_year=academic_year,
            subject=subject,
            status__in=PLACES_TAKEN_STATUSES,
        )
        .values("organisation_id", "urgent_request_id")
        .annotate(count=Count("pk"), urgent=_urgent_places())
        .values_list("organisation_id", "urgent_request_id", "count", "urgent")
        .order_by()
    ):
        beyond = count - (urgent or 0) if request_id else count
        taken[organisation_id] += max(beyond, 0)
    return {pk: max(offered.get(pk, 0) - taken[pk], 0) for pk in organisation_ids}


def urgent_places_free(
    organisation: Organisation, request: UrgentPlacementRequest, invite: UrgentPlacementInvite
) -> int:
    """Free places for one more placement linked to an urgent request at the organisation that
    answered it with `invite`: the preference's free places plus what is left of the invite's."""
    used = Placement.objects.filter(
        organisation=organisation, urgent_request=request, status__in=PLACES_TAKEN_STATUSES
    ).count()
    left = max((invite.places_offered or 0) - used, 0)
    return places_free(organisation, request.academic_year, request.subject) + left
