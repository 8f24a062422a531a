"""Document review turnaround: how long students' uploads waited for a reviewer's decision
(from the upload to its DocumentVerification), per document type or per cohort."""

import datetime
from collections.abc import Mapping
from typing import Any

from django.db.models import (
    Aggregate,
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Q,
)

from reports.builtin.common import COHORT, choice_parameter, date_parameter
from reports.registry import Column, Report, Rows, register
from verification.models import DocumentVerification, VerificationAction

GROUPINGS = [("document_type", "Document type"), ("cohort", "Cohort")]
_GROUP_BY = {
    "document_type": ("document_type_id", "document_type__name"),
    "cohort": ("cohort_enrollment__cohort_id", "cohort_enrollment__cohort__name"),
}


class Median(Aggregate):
    """PostgreSQL's continuous median of the values (an interval stays an interval)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False


def _days(waited: datetime.timedelta | None) -> float | None:
    return None if waited is None else round(waited.total_seconds() / 86400, 1)


def document_review_rows(params: Mapping[str, Any]) -> Rows:
    decisions = DocumentVerification.objects.all()
    if params.get("cohort") is not None:
        decisions = decisions.filter(cohort_enrollment__cohort=params["cohort"])
    if params.get("reviewed_from") is not None:
        decisions = decisions.filter(created_at__date__gte=params["reviewed_from"])
    if params.get("reviewed_to") is not None:
        decisions = decisions.filter(created_at__date__lte=params["reviewed_to"])
    key, name = _GROUP_BY[params.get("group_by") or "document_type"]
    waited = ExpressionWrapper(F("created_at") - F("document__uploaded_at"), DurationField())
    grouped = (
        decisions.values(key, name)
        .annotate(
            reviewed=Count("pk"),
            approved=Count("pk", filter=Q(action=VerificationAction.APPROVED)),
            rejected=Count("pk", filter=Q(action=VerificationAction.REJECTED)),
            average=Avg(waited),
            median=Median(waited, output_field=DurationField()),
            longest=Max(waited),
        )
        .order_by(name, key)
    )
    for row in grouped:
        yield {
            "group": row[name],
            "reviewed": row["reviewed"],
            "approved": row["approved"],
            "rejected": row["rejected"],
            "average_days": _days(row["average"]),
            "median_days": _days(row["median"]),
            "longest_days": _days(row["longest"]),
        }


DOCUMENT_REVIEW = register(
    Report(
        key="document_review",
        title="Document review turnaround",
        description="How long uploaded documents waited for a reviewer's decision (in days, "
        "from upload to decision): average, median and longest, with the numbers approved "
        "and rejected, per document type or per cohort.",
        permission="cohorts.access_all_cohorts",
        area="Documents",
        parameters=(
            choice_parameter(
                "group_by", "Group by", GROUPINGS, "One row per document type or per cohort."
            ),
            COHORT,
            date_parameter(
                "reviewed_from", "Reviewed from", "Decisions made on or after this day."
            ),
            date_parameter(
                "reviewed_to", "Reviewed until", "Decisions made on or before this day."
            ),
        ),
        columns=(
            Column("group", "Group"),
            Column("reviewed", "Reviewed", "int"),
            Column("approved", "Approved", "int"),
            Column("rejected", "Rejected", "int"),
            Column("average_days", "Average days", "decimal"),
            Column("median_days", "Median days", "decimal"),
            Column("longest_days", "Longest days", "decimal"),
        ),
        rows=document_review_rows,
    )
)
