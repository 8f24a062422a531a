"""Reads for the distance search, the matching page and urgent requests: the year a search
starts on, learners found by name with their coordinates, a cohort's learners sorted for
matching, the nearest organisations with free places, and urgent requests with their
invites."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from academics.models import AcademicYear
from cohorts.models import Cohort, CohortState
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
from placements.preferences import offered_places, subject_filter
from placements.selectors.capacity import places_free_many
from placements.selectors.clearance import vetting_missing_many
from placements.selectors.distance import Point, organisations_near, subject_codes_within
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


@dataclass
class SubjectOffer:
    """A subject an organisation offers places in (an exact code: places are counted per
    subject), with its free places, and where to propose a placement in it (set by the view)."""

    subject: PlacementSubject
    places_free: int
    propose_url: str | None = None


def offers_within(
    organisations: list[Organisation],
    academic_year: AcademicYear,
    subject: PlacementSubject,
    phase: str | None = None,
) -> None:
    """Annotate each of a page of organisations with `offers`, the active subjects within
    `subject` (itself and those under it, in `phase` if given) that its preference for the year
    offers places in, each with its free places, and `places_free`, their sum. A search for
    Sciences so shows Physical sciences' places, and proposes Physical sciences, which can be
    confirmed, not Sciences, which cannot. Reads: the subject tree, one for the preferences,
    and two per subject offered on the page (however many organisations)."""
    subjects = {
        found.code: found
        for found in PlacementSubject.objects.filter(
            code__in=subject_codes_within(subject), is_active=True
        ).order_by("name")
    }
    offering: dict[str, list[int]] = {}
    for organisation_id, details in PlacementPreference.objects.filter(
        organisation__in=organisations, academic_year=academic_year
    ).values_list("organisation_id", "placement_details"):
        for found in subjects.values():
            if (not phase or found.phase == phase) and offered_places(
                details, subject=found.code, phase=found.phase
            ):
                offering.setdefault(found.code, []).append(organisation_id)
    free = {
        code: places_free_many(organisation_ids, academic_year, subjects[code])
        for code, organisation_ids in offering.items()
    }
    for organisation in organisations:
        offers = [
            SubjectOffer(subject=found, places_free=free[code][organisation.pk])
            for code, found in subjects.items()
            if organisation.pk in free.get(code, {})
        ]
        organisation.offers = offers  # type: ignore[attr-defined]
        organisation.places_free = sum(offer.places_free for offer in offers)  # type: ignore[attr-defined]


def open_cohorts(learner: Learner) -> QuerySet[Cohort]:
    """The cohorts a placement of `learner` may count towards: those, not cancelled, they have
    an enrolment in that is not withdrawn."""
    return Cohort.objects.exclude(state=CohortState.CANCELLED).filter(
        pk__in=CohortEnrollment.objects.filter(learner=learner)
        .exclude(state=EnrollmentState.WITHDRAWN)
        .values("cohort")
    )


def open_cohort(learner: Learner) -> Cohort | None:
    """The learner's one open cohort, when there is exactly one: the cohort a placement of
    theirs is for without asking."""
    cohorts = list(open_cohorts(learner)[:2])
    return cohorts[0] if len(cohorts) == 1 else None


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
    on: datetime.date,
) -> list[LearnerMatch]:
    """For a page of learners (the caller caps it): what each misses of the vetting their
    cohort's programme requires on `on` (the proposed start, the day confirming judges), two
    queries for all; then one distance query per cleared, located learner (among the
    organisations that offer the subject itself, interested or unsure) and one free-places read
    for all their organisations together."""
    missing = vetting_missing_many([learner.pk for learner in learners], cohort.programme, on=on)
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
        match = LearnerMatch(
            learner=learner,
            cleared=not missing[learner.pk],
            located=bool(point),
            missing=missing[learner.pk],
        )
        if match.cleared and point is not None:
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
    """A request's invites, those whose organisation offers places in the request's subject
    that year first (`offers_subject`), nearest first. The broadcast asks every interested or
    unsure organisation in range, whatever it offers; those that offer the subject are the
    likeliest hosts."""
    offers = PlacementPreference.objects.filter(
        organisation=OuterRef("organisation"),
        academic_year=request.academic_year_id,
        placement_details__contains=subject_filter(
            subject=request.subject.code, phase=request.phase
        ),
    )
    return (
        request.invites.select_related("organisation", "answered_by")
        .annotate(offers_subject=Exists(offers))
        .order_by("-offers_subject", "distance_km", "pk")
    )


def member_urgent_invites(organisation: Organisation) -> QuerySet[UrgentPlacementInvite]:
    """An organisation's invites, open requests first, newest first."""
    return (
        UrgentPlacementInvite.objects.filter(organisation=organisation)
        .select_related("request__subject", "request__academic_year")
        .order_by("-request__status", "-request__created_at", "-pk")
    )
