"""Placements by host organisation: how many of each organisation's placements stand in each
state, in one GROUP BY query."""

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, Q

from placements.models import Placement, PlacementStatus
from reports.builtin.common import CHUNK, COHORT, date_parameter
from reports.registry import Column, Report, Rows, register


def placements_by_organisation_rows(params: Mapping[str, Any]) -> Rows:
    placements = Placement.objects.all()
    if params.get("cohort") is not None:
        placements = placements.filter(cohort=params["cohort"])
    if params.get("starts_from") is not None:
        placements = placements.filter(starts_on__gte=params["starts_from"])
    if params.get("starts_to") is not None:
        placements = placements.filter(starts_on__lte=params["starts_to"])
    per_status = {status.value: Count("pk", filter=Q(status=status)) for status in PlacementStatus}
    grouped = (
        placements.values("organisation_id", "organisation__name")
        .annotate(total=Count("pk"), **per_status)
        .order_by("organisation__name", "organisation_id")
    )
    for row in grouped.iterator(chunk_size=CHUNK):
        yield {
            "organisation": row["organisation__name"],
            **{status.value: row[status.value] for status in PlacementStatus},
            "total": row["total"],
        }


PLACEMENTS_BY_ORGANISATION = register(
    Report(
        key="placements_by_organisation",
        title="Placements by organisation",
        description="Each host organisation's placements by state: proposed, confirmed, "
        "active, completed, terminated and cancelled.",
        permission="placements.manage_placements",
        area="Placements",
        parameters=(
            COHORT,
            date_parameter("starts_from", "Starting from", "Placements starting on or after."),
            date_parameter("starts_to", "Starting until", "Placements starting on or before."),
        ),
        columns=(
            Column("organisation", "Organisation"),
            *(Column(status.value, str(status.label), "int") for status in PlacementStatus),
            Column("total", "Total", "int"),
        ),
        rows=placements_by_organisation_rows,
    )
)
