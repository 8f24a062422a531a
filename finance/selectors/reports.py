"""Finance's reports, summed in the database so that their queries do not grow with the rows:

- aged debtors: per sponsor, learner or partner (and currency), what their issued invoices
  still owe, split by how long past its due date each is (current, 1–30, 31–60, 61–90 and over
  90 days), with totals, and a debtor's invoices for the drill-down;
- income by programme and month: the money received in a financial year (allocations of
  completed payments, by the payment's date) per programme of the invoice lines' course
  enrolments ("Other" for lines without one). A payment set against an invoice of several
  lines is shared among them as each line's amount with its VAT is of the invoice's total."""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Concat, TruncMonth

from academics.currencies import cents
from finance.models import (
    DocumentKind,
    Invoice,
    InvoiceStatus,
    PaymentAllocation,
    PaymentStatus,
)
from finance.selectors.payments import MONEY, Party, invoices_open
from finance.services.numbering import financial_year_of

BUCKETS = (
    ("current", "Current"),
    ("days_1_30", "1–30 days"),
    ("days_31_60", "31–60 days"),
    ("days_61_90", "61–90 days"),
    ("days_over_90", "90+ days"),
)
OTHER = "Other"


def bucket_conditions(today: datetime.date) -> dict[str, Q]:
    """Which invoices fall in each bucket, by their due date: due today is current, 30 days
    past due is 1–30, 31 days is 31–60, 91 days is over 90."""

    def ago(days: int) -> datetime.date:
        return today - datetime.timedelta(days=days)

    return {
        "current": Q(due_on__gte=today),
        "days_1_30": Q(due_on__lt=today, due_on__gte=ago(30)),
        "days_31_60": Q(due_on__lt=ago(30), due_on__gte=ago(60)),
        "days_61_90": Q(due_on__lt=ago(60), due_on__gte=ago(90)),
        "days_over_90": Q(due_on__lt=ago(90)),
    }


def bucket_of(due_on: datetime.date, today: datetime.date) -> str:
    late = (today - due_on).days
    if late <= 0:
        return "current"
    for name, limit in (("days_1_30", 30), ("days_31_60", 60), ("days_61_90", 90)):
        if late <= limit:
            return name
    return "days_over_90"


@dataclass
class DebtorRow:
    kind: str
    pk: int
    name: str
    currency: str
    buckets: list[Decimal]
    total: Decimal
    invoices: int

    @property
    def cells(self) -> list[tuple[str, Decimal]]:
        labels = [label for _name, label in BUCKETS]
        return list(zip(labels, self.buckets, strict=True))


@dataclass
class AgedDebtors:
    today: datetime.date
    rows: list[DebtorRow]
    # Per currency: the buckets' totals (labelled) and the grand total.
    totals: list[tuple[str, list[tuple[str, Decimal]], Decimal]]


def _open_invoices() -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(
            kind=DocumentKind.INVOICE,
            status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID],
        )
        .annotate(owed=F("total") - F("amount_paid") - F("amount_credited"))
        .filter(owed__gt=0)
    )


def _bucket_sums(today: datetime.date) -> dict[str, Coalesce]:
    zero = Value(Decimal(0), output_field=MONEY)
    sums = {
        name: Coalesce(Sum("owed", filter=condition, output_field=MONEY), zero)
        for name, condition in bucket_conditions(today).items()
    }
    return {**sums, "owed_total": Coalesce(Sum("owed", output_field=MONEY), zero)}


def aged_debtors(*, today: datetime.date) -> AgedDebtors:
    """Every debtor with money owed, the most owed first (two queries)."""
    names = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
    grouped = cast(
        Iterable[dict[str, Any]],
        _open_invoices()
        .values("sponsor_id", "learner_id", "partner_id", "currency")
        .annotate(
            name=Coalesce(
                "sponsor__company_name",
                "partner__name",
                Concat("learner__first_name", Value(" "), "learner__last_name"),
            ),
            invoices_count=Count("pk"),
            **_bucket_sums(today),
        )
        .order_by(),
    )
    rows = []
    for row in grouped:
        kind = next(k for k in ("sponsor", "learner", "partner") if row[f"{k}_id"] is not None)
        rows.append(
            DebtorRow(
                kind=kind,
                pk=row[f"{kind}_id"],
                name=row["name"],
                currency=row["currency"],
                buckets=[row[name] for name in names],
                total=row["owed_total"],
                invoices=row["invoices_count"],
            )
        )
    rows.sort(key=lambda debtor: (-debtor.total, debtor.name))
    labels = dict(BUCKETS)
    per_currency = cast(
        Iterable[dict[str, Any]],
        _open_invoices().values("currency").annotate(**_bucket_sums(today)).order_by("currency"),
    )
    totals = [
        (row["currency"], [(labels[name], row[name]) for name in names], row["owed_total"])
        for row in per_currency
    ]
    return AgedDebtors(today=today, rows=rows, totals=totals)


@dataclass
class DebtorInvoice:
    invoice: Invoice
    days_late: int
    bucket: str


def debtor_invoices(*, party: Party, today: datetime.date) -> list[DebtorInvoice]:
    """The debtor's invoices that still owe money, oldest due first, with how late each is."""
    labels = dict(BUCKETS)
    return [
        DebtorInvoice(
            invoice=invoice,
            days_late=max((today - invoice.due_on).days, 0) if invoice.due_on else 0,
            bucket=labels[bucket_of(invoice.due_on or today, today)],
        )
        for invoice in invoices_open(party=party)
    ]


# --- Income by programme and month -----------------------------------------------------------


def financial_year_range(year: int, start_month: int) -> tuple[datetime.date, datetime.date]:
    """The first day of financial year `year` and the first day after it."""
    start = datetime.date(year if start_month == 1 else year - 1, start_month, 1)
    return start, datetime.date(start.year + 1, start.month, 1)


def financial_year_months(year: int, start_month: int) -> list[datetime.date]:
    start, _end = financial_year_range(year, start_month)
    return [
        datetime.date(start.year + (start.month - 1 + offset) // 12,
                      (start.month - 1 + offset) % 12 + 1, 1)
        for offset in range(12)
    ]  # fmt: skip


def financial_years(*, today: datetime.date, start_month: int, count: int = 5) -> list[int]:
    current = financial_year_of(today, start_month=start_month)
    return list(range(current, current - count, -1))


@dataclass
class IncomeSeries:
    programme: str
    amounts: list[Decimal]
    total: Decimal


@dataclass
class IncomeReport:
    year: int
    currency: str
    months: list[datetime.date]
    series: list[IncomeSeries]
    month_totals: list[Decimal] = field(default_factory=list)
    total: Decimal = Decimal(0)

    @property
    def rows(self) -> list[tuple[datetime.date, list[tuple[str, Decimal]], Decimal]]:
        """Per month: each programme's amount (named) and the month's total, for the table."""
        return [
            (month, [(one.programme, one.amounts[index]) for one in self.series], total)
            for index, (month, total) in enumerate(zip(self.months, self.month_totals, strict=True))
        ]


def income_by_programme(*, year: int, start_month: int, currency: str) -> IncomeReport:
    """Money received in financial year `year`, per programme and month (one query)."""
    start, end = financial_year_range(year, start_month)
    months = financial_year_months(year, start_month)
    line_gross = Case(
        When(
            invoice__lines__vat_applies=True,
            then=F("invoice__lines__amount") * (1 + F("invoice__vat_rate") / 100),
        ),
        default=F("invoice__lines__amount"),
        output_field=MONEY,
    )
    shares = (
        PaymentAllocation.objects.filter(
            payment__status=PaymentStatus.COMPLETED,
            payment__paid_on__gte=start,
            payment__paid_on__lt=end,
            invoice__currency=currency,
            invoice__total__gt=0,
        )
        .values(
            month=TruncMonth("payment__paid_on"),
            programme=F("invoice__lines__course_enrollment__course__programme__name"),
        )
        .annotate(amount=Sum(F("amount") * line_gross / F("invoice__total"), output_field=MONEY))
        .order_by()
    )
    by_programme: dict[str, dict[datetime.date, Decimal]] = defaultdict(dict)
    for share in shares:
        month = share["month"]
        if isinstance(month, datetime.datetime):
            month = month.date()
        cell = by_programme[share["programme"] or OTHER]
        cell[month] = cell.get(month, Decimal(0)) + share["amount"]
    names = sorted(name for name in by_programme if name != OTHER)
    if OTHER in by_programme:
        names.append(OTHER)
    series = []
    for name in names:
        amounts = [cents(by_programme[name].get(month, Decimal(0))) for month in months]
        series.append(IncomeSeries(programme=name, amounts=amounts, total=sum(amounts, Decimal(0))))
    month_totals = [sum((s.amounts[i] for s in series), Decimal(0)) for i in range(len(months))]
    return IncomeReport(
        year=year,
        currency=currency,
        months=months,
        series=series,
        month_totals=month_totals,
        total=sum(month_totals, Decimal(0)),
    )
