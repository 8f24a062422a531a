"""Whether a learner is cleared for placement: every vetting type their programme requires has
a cleared record that has not expired (on the day asked about: a placement's start). Used by
confirming a placement, the matching page and the vetting pages alike."""

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from academics.models import Programme
from learners.models import Learner
from placements.models import VettingRecord, VettingStatus, VettingType


def required_vetting_types(programme: Programme | None) -> QuerySet[VettingType]:
    if programme is None:
        return VettingType.objects.none()
    return VettingType.objects.filter(
        pk__in=programme.vetting_requirements.values("vetting_type")
    ).order_by("name")


def _valid_clearances(on: datetime.date) -> QuerySet[VettingRecord]:
    return VettingRecord.objects.filter(status=VettingStatus.CLEARED).filter(
        Q(expires_on__isnull=True) | Q(expires_on__gte=on)
    )


def vetting_missing(
    learner: Learner, programme: Programme | None, *, on: datetime.date | None = None
) -> list[VettingType]:
    """The required types the learner has no valid clearance of on `on` (today by default):
    empty means cleared for placement."""
    on = on or timezone.localdate()
    cleared = _valid_clearances(on).filter(learner=learner).values("vetting_type")
    return list(required_vetting_types(programme).exclude(pk__in=cleared))


def learners_cleared(
    learner_ids: list[int], programme: Programme | None, *, on: datetime.date | None = None
) -> set[int]:
    """Of `learner_ids`, those cleared for placement on `on` (two queries, however many)."""
    on = on or timezone.localdate()
    required = set(required_vetting_types(programme).values_list("pk", flat=True))
    if not required:
        return set(learner_ids)
    held: dict[int, set[int]] = {}
    for learner_id, type_id in (
        _valid_clearances(on)
        .filter(learner_id__in=learner_ids, vetting_type_id__in=required)
        .values_list("learner_id", "vetting_type_id")
    ):
        held.setdefault(learner_id, set()).add(type_id)
    return {pk for pk in learner_ids if held.get(pk, set()) >= required}


def vetting_missing_many(
    learner_ids: list[int], programme: Programme | None, *, on: datetime.date | None = None
) -> dict[int, list[VettingType]]:
    """What each of `learner_ids` misses on `on` (today by default), as `vetting_missing`
    answers for one, in two queries however many: an empty list means cleared."""
    on = on or timezone.localdate()
    required = list(required_vetting_types(programme))
    if not required:
        return {pk: [] for pk in learner_ids}
    held: dict[int, set[int]] = {}
    for learner_id, type_id in (
        _valid_clearances(on)
        .filter(learner_id__in=learner_ids, vetting_type__in=required)
        .values_list("learner_id", "vetting_type_id")
    ):
        held.setdefault(learner_id, set()).add(type_id)
    return {
        pk: [kind for kind in required if kind.pk not in held.get(pk, set())] for pk in learner_ids
    }
