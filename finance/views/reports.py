"""Finance's reports, read by finance and admins alike: aged debtors with each debtor's
invoices, and income by programme and month, drawn as stacked bars (an SVG made here, so no
script runs) above the table that says the same in numbers."""

from dataclasses import dataclass
from decimal import Decimal

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.http import AuthenticatedRequest
from accounts.lists import list_page
from accounts.permissions import permission_required
from finance.access import VIEW_FINANCE
from finance.forms.reports import IncomeYearForm
from finance.selectors.payments import PARTY_KINDS, party_find
from finance.selectors.reports import (
    BUCKETS,
    IncomeReport,
    aged_debtors,
    debtor_invoices,
    financial_years,
    income_by_programme,
)
from finance.selectors.settings import finance_settings_current


@permission_required(VIEW_FINANCE)
def aged_debtors_view(request: AuthenticatedRequest) -> HttpResponse:
    report = aged_debtors(today=timezone.localdate())
    return render(
        request,
        "finance/reports/aged_debtors.html",
        {"report": report, "buckets": BUCKETS, "page": list_page(request, report.rows)},
    )


@permission_required(VIEW_FINANCE)
def aged_debtor_view(request: AuthenticatedRequest, kind: str, pk: int) -> HttpResponse:
    party = party_find(f"{kind}:{pk}") if kind in PARTY_KINDS else None
    if party is None:
        raise Http404
    today = timezone.localdate()
    invoices = debtor_invoices(party=party, today=today)
    return render(
        request,
        "finance/reports/aged_debtor.html",
        {"party": party, "invoices": invoices, "today": today},
    )


# --- The income chart ------------------------------------------------------------------------

# The chart's drawing space (the SVG's viewBox): narrow, so that its labels stay readable when
# it shrinks to a phone's width.
WIDTH, HEIGHT = 420, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 24
SERIES_STYLES = 8


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    style: int
    label: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


def _compact(amount: Decimal) -> str:
    """An axis label: 7500 as 7.5k, 2000000 as 2m."""
    for size, suffix in ((1_000_000, "m"), (1000, "k"), (1, "")):
        if amount >= size or size == 1:
            return f"{amount / size:.2f}".rstrip("0").rstrip(".") + suffix
    return ""


def _scale_top(largest: Decimal) -> Decimal:
    """A round number at or above `largest`, for the axis (1, 2, 2.5 or 5 times a power of 10)."""
    if largest <= 0:
        return Decimal(1000)
    power = Decimal(1)
    while power * 10 <= largest:
        power *= 10
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if power * step >= largest:
            return power * step
    return power * 10


def income_chart(report: IncomeReport) -> dict:
    """Stacked bars, one per month, one colour per programme; the axis in round numbers."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _scale_top(max(report.month_totals, default=Decimal(0)))
    slot = plot_width / len(report.months)
    bar_width = slot * 0.64
    bars: list[Bar] = []
    for index, month in enumerate(report.months):
        base = Decimal(0)
        for number, series in enumerate(report.series):
            amount = series.amounts[index]
            if amount <= 0:
                continue
            height = float(amount / top) * plot_height
            y = TOP + plot_height - float(base / top) * plot_height - height
            bars.append(
                Bar(
                    x=round(LEFT + index * slot + (slot - bar_width) / 2, 2),
                    y=round(y, 2),
                    height=round(height, 2),
                    style=number % SERIES_STYLES,
                    label=f"{series.programme}, {month:%b %Y}",
                )
            )
            base += amount
    ticks = [
        Tick(y=round(TOP + plot_height - plot_height * step / 4, 2), label=_compact(top * step / 4))
        for step in range(5)
    ]
    months = [
        (round(LEFT + index * slot + slot / 2, 2), f"{month:%b}")
        for index, month in enumerate(report.months)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "baseline": TOP + plot_height,
        "label_y": HEIGHT - 6,
        "bar_width": round(bar_width, 2),
        "bars": bars,
        "ticks": ticks,
        "months": months,
        "legend": [
            (series.programme, number % SERIES_STYLES)
            for number, series in enumerate(report.series)
        ],
    }


@permission_required(VIEW_FINANCE)
def income_view(request: AuthenticatedRequest) -> HttpResponse:
    settings = finance_settings_current()
    start_month = settings.financial_year_start_month
    years = financial_years(today=timezone.localdate(), start_month=start_month)
    form = IncomeYearForm(request.GET or None, years=years, start_month=start_month)
    year = form.selector_filters().get("year") or years[0]
    report = income_by_programme(year=year, start_month=start_month, currency=settings.currency)
    return render(
        request,
        "finance/reports/income.html",
        {
            "form": form,
            "report": report,
            "chart": income_chart(report) if report.series else None,
            "start_month": start_month,
        },
    )
