"""Reads for the distance search, the matching page and urgent requests: the year a search
starts on, learners found by name with their coordinates, a cohort's learners sorted for
matching, the nearest organisations with free places, and urgent requests with their
invites."""

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from academics.models import AcademicYear
from cohorts.models import Cohort
from enrolments.models import CohortEnrollment, EnrollmentState
from learners.models import Learner
from placements.models import (
    OPEN_PLACEMENT_STATUSES,
    Appetite,
    Organisation,
    Placement,
    PlacementPreference,
    PlacementSubject,
    UrgentAnswer,
    UrgentPlacementInvite,
    UrgentPlacementRequest,
    VettingType,
)
from placements.preferences import subject_filter
from placements.selectors.capacity import places_free_many
from placements.selectors.clearance import learners_cleared, vetting_missing
from placements.selectors.distance import Point, organisations_near
from placements.selectors.locations import learner_point

# Organisations that may take a learner: those that said yes or maybe for the year.
WILLING: list[str] = [Appetite.INTERESTED.value, Appetite.UNSURE.value]
# How many organisations the matching page offers beside each learner, and how many it reads
# to find them (the nearest may have no place left).
MATCHES_SHOWN = 3
MATCHES_READ = 12


def academic_year_default() -> AcademicYear | None:
    """The year under way today, else the next to start, else the latest."""
    today = timezone.localdate()
    years = AcademicYear.objects.all()
    return (
        years.filter(starts_on__lte=today, ends_on__gte=today).first()
        or years.filter(starts_on__gt=today).order_by("starts_on").first()
        or years.order_by("-starts_on").first()
    )


def learners_named(name: str, *, limit: int = 10) -> list[Learner]:
    """Learners whose first, last or full name contains `name`, with their location."""
    words = name.split()
    learners = Learner.objects.all()
    for word in words:
        learners = learners.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
    return list(
        learners.select_related("location").order_by("first_name", "last_name", "pk")[:limit]
    )


def subjects_for_choice() -> QuerySet[PlacementSubject]:
    return PlacementSubject.objects.filter(is_active=True).order_by("phase", "name")


def search_results(
    centre: Point,
    radius_km: float,
    *,
    academic_year: AcademicYear,
    subject: PlacementSubject | None,
    phase: str | None,
    appetites: list[str] | None,
) -> QuerySet[Organisation]:
    return organisations_near(
        centre,
        radius_km,
        academic_year=academic_year,
        subject=subject,
        phase=phase or None,
        appetites=appetites or None,
    ).select_related("address")


def places_free_for(
    organisations: list[Organisation], academic_year: AcademicYear, subject: PlacementSubject
) -> None:
    """Annotate each of a page of organisations with `places_free` (two queries)."""
    free = places_free_many([o.pk for o in organisations], academic_year, subject)
    for organisation in organisations:
        organisation.places_free = free[organisation.pk]  # type: ignore[attr-defined]


# --- Matching ---------------------------------------------------------------------------


def cohort_learners_for_matching(cohort: Cohort) -> QuerySet[Learner]:
    """The cohort's enrolled learners (not withdrawn) who have no open placement, by name,
    with their location."""
    open_placement = Placement.objects.filter(
        learner=OuterRef("pk"), status__in=OPEN_PLACEMENT_STATUSES
    )
    enrolled = CohortEnrollment.objects.filter(cohort=cohort).exclude(
        state=EnrollmentState.WITHDRAWN
    )
    return (
        Learner.objects.filter(pk__in=enrolled.values("learner"))
        .exclude(Exists(open_placement))
        .select_related("location")
        .order_by("first_name", "last_name", "pk")
    )


@dataclass
class LearnerMatch:
    """One learner of the matching page: cleared with the organisations near them that have a
    free place, or not cleared with the vetting they miss."""

    learner: Learner
    cleared: bool
    located: bool
    missing: list[VettingType] = field(default_factory=list)
    organisations: list[Organisation] = field(default_factory=list)
    # Where to fix a missing or flagged location, when that page exists (set by the view).
    location_url: str | None = None


def learner_matches(
    learners: list[Learner],
    cohort: Cohort,
    *,
    academic_year: AcademicYear,
    subject: PlacementSubject,
    radius_km: float,
) -> list[LearnerMatch]:
    """For a page of learners (the caller caps it): clearance in two queries, then one
    distance query per cleared, located learner (among the organisations that offer the
    subject itself, interested or unsure) and one free-places read for all their organisations
    together; the missing vetting of those not cleared, one query per learner."""
    cleared = learners_cleared([learner.pk for learner in learners], cohort.programme)
    # Places are counted per subject code (placements.selectors.capacity), so only an offer of
    # the subject itself can have a free place: filtered once here, not per learner.
    offering = Organisation.objects.filter(
        Exists(
            PlacementPreference.objects.filter(
                organisation=OuterRef("pk"),
                academic_year=academic_year,
                appetite__in=WILLING,
                placement_details__contains=subject_filter(
                    subject=subject.code, phase=subject.phase
                ),
            )
        )
    )
    matches = []
    for learner in learners:
        # Read with the learner (select_related); without one, there is no point to look up.
        location = getattr(learner, "location", None)
        point = learner_point(learner, location)[0] if location is not None else None
        match = LearnerMatch(learner=learner, cleared=learner.pk in cleared, located=bool(point))
        if not match.cleared:
            match.missing = vetting_missing(learner, cohort.programme)
        elif point is not None:
            match.organisations = list(
                organisations_near(point, radius_km, queryset=offering)[:MATCHES_READ]
            )
        matches.append(match)
    nearby = {o.pk: o for match in matches for o in match.organisations}
    free = places_free_many(list(nearby), academic_year, subject) if nearby else {}
    for match in matches:
        kept = [o for o in match.organisations if free.get(o.pk, 0) > 0][:MATCHES_SHOWN]
        for organisation in kept:
            organisation.places_free = free[organisation.pk]  # type: ignore[attr-defined]
        match.organisations = kept
    return matches


# --- Urgent requests --------------------------------------------------------------------


def urgent_requests() -> QuerySet[UrgentPlacementRequest]:
    """Every request, newest first, with its invite and answer counts and places offered."""
    return (
        UrgentPlacementRequest.objects.select_related("subject", "academic_year")
        .annotate(
            invite_count=Count("invites"),
            can_host_count=Count("invites", filter=Q(invites__answer=UrgentAnswer.CAN_HOST)),
            cannot_host_count=Count("invites", filter=Q(invites__answer=UrgentAnswer.CANNOT_HOST)),
            places_offered_total=Sum(
                "invites__places_offered", filter=Q(invites__answer=UrgentAnswer.CAN_HOST)
            ),
        )
        .order_by("-created_at", "-pk")
    )


def urgent_invites(request: UrgentPlacementRequest) -> QuerySet[UrgentPlacementInvite]:
    return request.invites.select_related("organisation", "answered_by").order_by(
        "distance_km", "pk"
    )


def member_urgent_invites(organisation: Organisation) -> QuerySet[UrgentPlacementInvite]:
    """An organisation's invites, open requests first, newest first."""
    return (
        UrgentPlacementInvite.objects.filter(organisation=organisation)
        .select_related("request__subject", "request__academic_year")
        .order_by("-request__status", "-request__created_at", "-pk")
    )
