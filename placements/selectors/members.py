"""Reads for organisation members' pages (what waits for their answer, preferences by academic
year), the organisations' member lists, the institution's overview of who has answered, and the
subject tree."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from academics.models import AcademicYear
from accounts.models import SystemRole, User
from placements.access import current_membership
from placements.models import (
    Appetite,
    Organisation,
    OrganisationContact,
    OrganisationMembership,
    Placement,
    PlacementPreference,
    PlacementStatus,
    PlacementSubject,
    PreferenceReminder,
    SubjectPhase,
    UrgentAnswer,
    UrgentPlacementInvite,
    UrgentRequestStatus,
)
from placements.selectors.search import member_urgent_invites


def memberships_of(user: User) -> QuerySet[OrganisationMembership]:
    """The person's memberships of active organisations, for the switcher."""
    return (
        OrganisationMembership.objects.filter(user=user, organisation__is_active=True)
        .select_related("organisation")
        .order_by("organisation__name", "pk")
    )


def members_of_organisation(organisation: Organisation) -> QuerySet[OrganisationMembership]:
    return (
        OrganisationMembership.objects.filter(organisation=organisation)
        .select_related("user", "added_by")
        .order_by("user__full_name", "user__email", "pk")
    )


@dataclass(frozen=True)
class YearPreference:
    """An academic year beside the organisation's preference for it (None: not answered)."""

    year: AcademicYear
    preference: PlacementPreference | None
    subject_names: dict[str, str]

    @property
    def places(self) -> list[tuple[str, str, int]]:
        """(subject name, phase, places) per line of the preference."""
        if self.preference is None:
            return []
        phases = dict(SubjectPhase.choices)
        return [
            (
                self.subject_names.get(line["subject"], line["subject"]),
                phases.get(line["phase"], line["phase"]),
                line["places"],
            )
            for line in self.preference.placement_details.get("places", [])
        ]

    @property
    def windows(self) -> list[tuple[datetime.date, datetime.date]]:
        if self.preference is None:
            return []
        return [
            (
                datetime.date.fromisoformat(window["starts_on"]),
                datetime.date.fromisoformat(window["ends_on"]),
            )
            for window in self.preference.placement_details.get("windows", [])
        ]

    @property
    def open(self) -> bool:
        """Whether the preference may still change (the year has not ended)."""
        return self.year.ends_on >= timezone.localdate()


def preferences_by_year(organisation: Organisation) -> list[YearPreference]:
    """Every academic year that has not ended, and every earlier one the organisation answered,
    newest first, each with its preference."""
    preferences = {
        preference.academic_year_id: preference
        for preference in PlacementPreference.objects.filter(
            organisation=organisation
        ).select_related("created_by", "updated_by")
    }
    years = AcademicYear.objects.filter(
        ends_on__gte=timezone.localdate()
    ) | AcademicYear.objects.filter(pk__in=list(preferences))
    names = dict(PlacementSubject.objects.values_list("code", "name"))
    return [
        YearPreference(year, preferences.get(year.pk), names)
        for year in years.order_by("-starts_on")
    ]


def years_awaiting(
    organisation: Organisation, *, today: datetime.date | None = None
) -> list[AcademicYear]:
    """The current academic year and the next one, where the organisation has not answered."""
    today = today or timezone.localdate()
    current = AcademicYear.objects.filter(starts_on__lte=today, ends_on__gte=today).first()
    following = AcademicYear.objects.filter(starts_on__gt=today).order_by("starts_on").first()
    years = [year for year in (current, following) if year is not None]
    answered = set(
        PlacementPreference.objects.filter(
            organisation=organisation, academic_year__in=years
        ).values_list("academic_year_id", flat=True)
    )
    return [year for year in years if year.pk not in answered]


def member_home_panel(user: User) -> dict[str, Any] | None:
    """The start page's panel for an organisation member: the organisation they act for and the
    preferences it still owes (accounts.home; registered in PlacementsConfig.ready). Read only
    for holders of the organisation member role (loaded with the user: no query for others),
    which memberships.py gives with a first membership and takes with the last."""
    if SystemRole.ORGANISATION_MEMBER not in user.role_keys:
        return None
    membership = current_membership(user)
    if membership is None:
        return None
    return {
        "organisation": membership.organisation,
        "awaiting": years_awaiting(membership.organisation),
        "waiting": member_waiting(membership.organisation, shown=0),
        "others": memberships_of(user).exclude(pk=membership.pk).count(),
    }


# How many of each kind of waiting item the member's home page lists before its link to all.
WAITING_SHOWN = 3


@dataclass(frozen=True)
class MemberWaiting:
    """What the current organisation owes the institution an answer on: placements proposed to
    it, and open urgent requests it has not answered; the first few of each and how many."""

    placements: list[Placement]
    placement_count: int
    invites: list[UrgentPlacementInvite]
    invite_count: int


def member_waiting(organisation: Organisation, *, shown: int = WAITING_SHOWN) -> MemberWaiting:
    """The member home page's sections, in four queries whatever the numbers: the proposed
    placements soonest to start first, the urgent requests newest first."""
    proposed = (
        Placement.objects.filter(organisation=organisation, status=PlacementStatus.PROPOSED)
        .select_related("learner", "subject")
        .order_by("starts_on", "pk")
    )
    invites = (
        member_urgent_invites(organisation)
        .filter(answer=UrgentAnswer.WAITING, request__status=UrgentRequestStatus.OPEN)
        .order_by("-request__created_at", "-pk")
    )
    return MemberWaiting(
        placements=list(proposed[:shown]),
        placement_count=proposed.count(),
        invites=list(invites[:shown]),
        invite_count=invites.count(),
    )


def preference_counts(year: AcademicYear) -> dict[str, int]:
    """How many active organisations answered `year` with each appetite, and how many did not
    ("unanswered")."""
    counts = dict(
        PlacementPreference.objects.filter(academic_year=year, organisation__is_active=True)
        .values_list("appetite")
        .annotate(count=Count("pk"))
        .values_list("appetite", "count")
    )
    by_appetite = {appetite: counts.get(appetite, 0) for appetite in Appetite.values}
    by_appetite["unanswered"] = unanswered_organisations(year).count()
    return by_appetite


def unanswered_organisations(year: AcademicYear) -> QuerySet[Organisation]:
    """Active organisations without a preference for `year`, with when they were last reminded
    about it (`last_reminded`), their active members (`member_count`) and whether a placement
    lead with an e-mail address is on file (`has_lead`): who a reminder would reach."""
    last = PreferenceReminder.objects.filter(organisation=OuterRef("pk"), academic_year=year)
    members = (
        OrganisationMembership.objects.filter(organisation=OuterRef("pk"), user__is_active=True)
        .order_by()
        .values("organisation")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        Organisation.objects.filter(is_active=True)
        .exclude(
            Exists(
                PlacementPreference.objects.filter(organisation=OuterRef("pk"), academic_year=year)
            )
        )
        .annotate(
            last_reminded=Subquery(last.order_by("-sent_at").values("sent_at")[:1]),
            member_count=Subquery(members),
            has_lead=Exists(
                OrganisationContact.objects.filter(
                    organisation=OuterRef("pk"), role__icontains="placement lead"
                ).exclude(email_address="")
            ),
        )
        .order_by("name", "pk")
    )


def academic_years() -> QuerySet[AcademicYear]:
    return AcademicYear.objects.order_by("-starts_on")


def default_overview_year() -> AcademicYear | None:
    """The year the overview opens on: the next one to start, else the current one, else the
    latest."""
    today = timezone.localdate()
    return (
        AcademicYear.objects.filter(starts_on__gt=today).order_by("starts_on").first()
        or AcademicYear.objects.filter(starts_on__lte=today, ends_on__gte=today).first()
        or AcademicYear.objects.order_by("-starts_on").first()
    )


@dataclass(frozen=True)
class SubjectRow:
    subject: PlacementSubject
    depth: int


def subject_tree(*, active_only: bool = False) -> list[SubjectRow]:
    """The subject tree in reading order (by phase, then name, each subject followed by those
    within it) with each subject's depth, from one query."""
    subjects = PlacementSubject.objects.select_related("parent").order_by(
        "phase", Lower("name"), "pk"
    )
    if active_only:
        subjects = subjects.filter(is_active=True)
    rows = list(subjects)
    children: dict[int | None, list[PlacementSubject]] = {}
    known = {subject.pk for subject in rows}
    for subject in rows:
        parent = subject.parent_id if subject.parent_id in known else None
        children.setdefault(parent, []).append(subject)
    ordered: list[SubjectRow] = []

    def walk(parent: int | None, depth: int) -> None:
        for subject in children.get(parent, []):
            ordered.append(SubjectRow(subject, depth))
            walk(subject.pk, depth + 1)

    walk(None, 0)
    return ordered
