"""What the vetting pages read: records across learners with their filters, one record with its
evidence, a learner's standing against what each of their programmes requires (through
placements.selectors.clearance), the vetting types and the programmes' requirements. Each list
is read in a fixed number of queries whatever its length."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from academics.models import Programme
from enrolments.models import EnrollmentState
from learners.models import Learner
from placements.models import (
    ProgrammeVettingRequirement,
    VettingEvidence,
    VettingRecord,
    VettingStatus,
    VettingType,
)
from placements.selectors.clearance import required_vetting_types, vetting_missing
from placements.services.vetting import EXPIRY_WARNING_DAYS


def expiring_before(today: datetime.date | None = None) -> datetime.date:
    """The last day of the "expiring soon" window that starts today."""
    return (today or timezone.localdate()) + datetime.timedelta(days=EXPIRY_WARNING_DAYS)


def vetting_record_list(
    *,
    search: str = "",
    status: str = "",
    vetting_type: VettingType | None = None,
    expiring: bool = False,
) -> QuerySet[VettingRecord]:
    """Records across learners, newest first, with their learner, type, reviewer and number of
    evidence files. `search` matches the learner's name or e-mail address or the record's
    reference; `expiring` keeps clearances that expire within EXPIRY_WARNING_DAYS."""
    records = VettingRecord.objects.select_related("learner", "vetting_type", "reviewer").annotate(
        evidence_count=Count("evidence")
    )
    if status:
        records = records.filter(status=status)
    if vetting_type is not None:
        records = records.filter(vetting_type=vetting_type)
    if expiring:
        today = timezone.localdate()
        records = records.filter(
            status=VettingStatus.CLEARED,
            expires_on__gte=today,
            expires_on__lte=expiring_before(today),
        )
    if search:
        term = " ".join(search.split())
        records = records.annotate(
            learner_name=Concat("learner__first_name", Value(" "), "learner__last_name")
        ).filter(
            Q(learner_name__icontains=term)
            | Q(learner__email__icontains=term)
            | Q(reference__icontains=term)
        )
    return records.order_by("-created_at", "-pk")


def vetting_record_for_staff(*, pk: int) -> VettingRecord:
    """One record with its learner, type, the people on it and its evidence (DoesNotExist if
    there is none)."""
    record: VettingRecord = (
        VettingRecord.objects.select_related(
            "learner__user", "vetting_type", "reviewer", "created_by"
        )
        .prefetch_related(
            Prefetch("evidence", queryset=VettingEvidence.objects.select_related("uploaded_by"))
        )
        .get(pk=pk)
    )
    return record


def learner_records(learner: Learner) -> list[VettingRecord]:
    """The learner's records, newest first, with their type and reviewer."""
    return list(
        learner.vetting_records.select_related("vetting_type", "reviewer")
        .annotate(evidence_count=Count("evidence"))
        .order_by("-created_at", "-pk")
    )


def learner_programmes(learner: Learner) -> list[Programme]:
    """The programmes of the learner's enrolments (withdrawn ones left out), by name."""
    return list(
        Programme.objects.filter(
            pk__in=learner.enrollments.exclude(state=EnrollmentState.WITHDRAWN).values(
                "cohort__programme"
            )
        ).order_by("name")
    )


@dataclass(frozen=True)
class Requirement:
    """One type a programme requires, and where the learner stands with it: `cleared`,
    `expiring` (cleared, but within EXPIRY_WARNING_DAYS of its expiry) or `missing` (with the
    open record working on it, if any)."""

    vetting_type: VettingType
    state: str
    clearance: VettingRecord | None
    open_record: VettingRecord | None

    @property
    def label(self) -> str:
        return {"cleared": "Cleared", "expiring": "Expiring soon", "missing": "Missing"}[self.state]


@dataclass(frozen=True)
class ProgrammeVetting:
    programme: Programme
    requirements: list[Requirement]

    @property
    def cleared(self) -> bool:
        """Cleared for placement: every required type cleared and unexpired today."""
        return all(requirement.state != "missing" for requirement in self.requirements)


def _best_clearance(
    records: list[VettingRecord], vetting_type: VettingType, today: datetime.date
) -> VettingRecord | None:
    """The learner's valid clearance of the type that lasts longest (no expiry: longest)."""
    valid = [
        record
        for record in records
        if record.vetting_type_id == vetting_type.pk
        and record.status == VettingStatus.CLEARED
        and (record.expires_on is None or record.expires_on >= today)
    ]
    return max(valid, key=lambda r: r.expires_on or datetime.date.max, default=None)


def learner_vetting_standing(
    learner: Learner, records: list[VettingRecord], programmes: list[Programme]
) -> list[ProgrammeVetting]:
    """For each programme, every type it requires with the learner's standing, as confirming
    a placement judges it (placements.selectors.clearance.vetting_missing)."""
    today = timezone.localdate()
    soon = expiring_before(today)
    open_records = {
        record.vetting_type_id: record
        for record in records
        if record.status in (VettingStatus.PENDING, VettingStatus.IN_PROGRESS)
    }
    summaries = []
    for programme in programmes:
        missing = {
            vetting_type.pk for vetting_type in vetting_missing(learner, programme, on=today)
        }
        requirements = []
        for vetting_type in required_vetting_types(programme):
            clearance = (
                None
                if vetting_type.pk in missing
                else _best_clearance(records, vetting_type, today)
            )
            if clearance is None:
                state = "missing"
            elif clearance.expires_on is not None and clearance.expires_on <= soon:
                state = "expiring"
            else:
                state = "cleared"
            requirements.append(
                Requirement(
                    vetting_type=vetting_type,
                    state=state,
                    clearance=clearance,
                    open_record=open_records.get(vetting_type.pk),
                )
            )
        summaries.append(ProgrammeVetting(programme=programme, requirements=requirements))
    return summaries


def vetting_types_overview() -> QuerySet[VettingType]:
    """Every type, active first, with how many programmes require it and how many records
    are open and cleared."""
    requiring = (
        ProgrammeVettingRequirement.objects.filter(vetting_type=OuterRef("pk"))
        .order_by()
        .values("vetting_type")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return VettingType.objects.annotate(
        programme_count=Coalesce(Subquery(requiring, output_field=IntegerField()), 0),
        open_count=Count(
            "records",
            filter=Q(records__status__in=[VettingStatus.PENDING, VettingStatus.IN_PROGRESS]),
        ),
        cleared_count=Count("records", filter=Q(records__status=VettingStatus.CLEARED)),
    ).order_by("-is_active", "name")


def programmes_with_requirements() -> QuerySet[Programme]:
    """Active programmes, by name, each with the types it requires (two queries)."""
    return (
        Programme.objects.filter(is_active=True)
        .prefetch_related(
            Prefetch(
                "vetting_requirements",
                queryset=ProgrammeVettingRequirement.objects.select_related(
                    "vetting_type"
                ).order_by("vetting_type__name"),
            )
        )
        .order_by("name")
    )
