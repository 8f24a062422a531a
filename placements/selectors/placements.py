"""What the placement pages read: the institution's list and one placement with its history,
a member's organisation's placements, and a learner's own."""

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from academics.models import AcademicYear
from accounts.models import User
from audit.models import AuditEvent
from audit.selectors import audit_event_list
from cohorts.models import Cohort
from placements.models import Organisation, Placement, PlacementStatus

_JOINS = (
    "learner",
    "organisation",
    "organisation__address",
    "cohort",
    "academic_year",
    "subject",
    "supervisor",
)


def placement_list(
    *,
    search: str = "",
    status: str = "",
    organisation: Organisation | None = None,
    cohort: Cohort | None = None,
    academic_year: AcademicYear | None = None,
) -> QuerySet[Placement]:
    """The institution's placements, latest start first; `search` finds the learner by name or
    e-mail."""
    placements = Placement.objects.select_related(*_JOINS).order_by("-starts_on", "-pk")
    if search:
        for word in search.split():
            placements = placements.filter(
                Q(learner__first_name__icontains=word)
                | Q(learner__last_name__icontains=word)
                | Q(learner__email__icontains=word)
            )
    if status:
        placements = placements.filter(status=status)
    if organisation is not None:
        placements = placements.filter(organisation=organisation)
    if cohort is not None:
        placements = placements.filter(cohort=cohort)
    if academic_year is not None:
        placements = placements.filter(academic_year=academic_year)
    return placements


def placement_detail(pk: int) -> Placement:
    """One placement with everything its page shows (raises Placement.DoesNotExist)."""
    placement: Placement = Placement.objects.select_related(
        *_JOINS, "cohort__programme", "proposed_by", "confirmed_by", "urgent_request"
    ).get(pk=pk)
    return placement


HISTORY_LABELS = {
    "placement.propose": "Proposed",
    "placement.confirm": "Confirmed",
    "placement.decline": "Declined",
    "placement.cancel": "Cancelled",
    "placement.start": "Started",
    "placement.complete": "Completed",
    "placement.terminate": "Terminated",
}


def placement_history(placement: Placement) -> list[tuple[str, AuditEvent]]:
    """What happened to the placement, oldest first, from the audit trail: each event with
    what it was in words."""
    events = audit_event_list(
        entity_type=Placement._meta.label_lower, entity_id=str(placement.pk)
    ).order_by("id")
    return [(HISTORY_LABELS.get(event.action, event.action), event) for event in events]


def organisation_placements(organisation: Organisation, *, status: str = "") -> QuerySet[Placement]:
    """A host organisation's placements, for its members: proposed ones first (they wait for
    an answer), then by start date."""
    placements = (
        Placement.objects.filter(organisation=organisation)
        .select_related("learner", "cohort", "academic_year", "subject", "supervisor")
        .annotate(
            waiting=Case(
                When(status=PlacementStatus.PROPOSED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("waiting", "-starts_on", "-pk")
    )
    if status:
        placements = placements.filter(status=status)
    return placements


def learner_placements(user: User) -> QuerySet[Placement]:
    """The signed-in learner's own placements (none for anyone who is not a learner)."""
    return (
        Placement.objects.filter(learner__user=user, learner__user__isnull=False)
        .select_related("organisation", "organisation__address", "subject", "supervisor")
        .order_by("-starts_on", "-pk")
    )
