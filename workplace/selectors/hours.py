"""Hours worked per outcome, from the logbook weeks the mentor confirmed."""

from decimal import Decimal

from django.db.models import Sum

from learners.models import Learner
from workplace.models import LogbookEntry, LogbookWeekStatus


def hours_text(hours: Decimal) -> str:
    """Hours as few decimals as they need (7.5, 7.25, 8), the same on every page and e-mail."""
    return f"{hours.normalize():f}"


def outcome_hours(learner: Learner, *, placement_id: int | None = None) -> dict[int, Decimal]:
    """Confirmed hours per outcome id across `learner`'s placements (or one of them). An entry
    that practised several outcomes counts its hours towards each."""
    entries = LogbookEntry.objects.filter(
        week__placement__learner=learner, week__status=LogbookWeekStatus.CONFIRMED
    )
    if placement_id is not None:
        entries = entries.filter(week__placement_id=placement_id)
    rows = (
        entries.filter(outcomes__isnull=False)
        .values("outcomes")
        .annotate(total=Sum("hours"))
        .order_by()
    )
    return {row["outcomes"]: row["total"] for row in rows}
