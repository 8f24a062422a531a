"""Finance's own reports, offered among the others: aged debtors, income by programme and
month, and commissions owed. Each reads finance's selectors, so the figures are the finance
pages' figures."""

import datetime
from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils import timezone

from finance.selectors.commissions import commissions_owed, month_start
from finance.selectors.reports import BUCKETS, aged_debtors, financial_years, income_by_programme
from finance.selectors.settings import finance_settings_current
from reports.builtin.common import date_parameter
from reports.registry import Column, Parameter, Report, Rows, register

DEBTOR_KINDS = {"sponsor": "Sponsor", "learner": "Learner", "partner": "Partner"}


def aged_debtors_rows(params: Mapping[str, Any]) -> Rows:
    report = aged_debtors(today=timezone.localdate())
    for debtor in report.rows:
        yield {
            "debtor": debtor.name,
            "kind": DEBTOR_KINDS[debtor.kind],
            "currency": debtor.currency,
            **{
                name: amount for (name, _label), amount in zip(BUCKETS, debtor.buckets, strict=True)
            },
            "total": debtor.total,
            "invoices": debtor.invoices,
        }


AGED_DEBTORS = register(
    Report(
        key="aged_debtors",
        title="Aged debtors",
        description="What each sponsor, learner and partner still owes on issued invoices, "
        "by how long past its due date (as on the finance reports page), the most owed first.",
        permission="finance.view_finance",
        area="Finance",
        parameters=(),
        columns=(
            Column("debtor", "Debtor"),
            Column("kind", "Kind"),
            Column("currency", "Currency"),
            *(Column(name, label, "money") for name, label in BUCKETS),
            Column("total", "Total owed", "money"),
            Column("invoices", "Invoices", "int"),
        ),
        rows=aged_debtors_rows,
    )
)


FINANCIAL_YEAR = Parameter(
    name="financial_year",
    label="Financial year",
    field=lambda: forms.IntegerField(
        required=False,
        min_value=2000,
        max_value=2100,
        error_messages={
            "min_value": "Choose a year from 2000.",
            "max_value": "Choose a year up to 2100.",
        },
    ),
    help_text="The year the financial year ends in; the current one when empty.",
)


def income_rows(params: Mapping[str, Any]) -> Rows:
    settings = finance_settings_current()
    start_month = settings.financial_year_start_month
    year = (
        params.get("financial_year")
        or financial_years(today=timezone.localdate(), start_month=start_month, count=1)[0]
    )
    report = income_by_programme(year=year, start_month=start_month, currency=settings.currency)
    for month, amounts, _total in report.rows:
        for programme, amount in amounts:
            yield {
                "month": month,
                "programme": programme,
                "currency": report.currency,
                "amount": amount,
            }


def income_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Money received per month, a stacked bar per programme."""
    months = list(dict.fromkeys(row["month"] for row in rows))
    programmes = list(dict.fromkeys(row["programme"] for row in rows))
    amounts = {(row["month"], row["programme"]): row["amount"] for row in rows}
    return {
        "id": "income-chart",
        "type": "bar",
        "title": "Income by programme and month",
        "labels": [f"{month:%b %Y}" for month in months],
        "datasets": [
            {"label": name, "data": [float(amounts[(month, name)]) for month in months]}
            for name in programmes
        ],
        "stacked": True,
        "unit": "",
    }


INCOME_BY_PROGRAMME = register(
    Report(
        key="income_by_programme",
        title="Income by programme",
        description="Money received in a financial year, per programme and month (payments "
        "set against invoices, shared among an invoice's lines), in the institution's currency.",
        permission="finance.view_finance",
        area="Finance",
        parameters=(FINANCIAL_YEAR,),
        columns=(
            Column("month", "Month", "date"),
            Column("programme", "Programme"),
            Column("currency", "Currency"),
            Column("amount", "Received", "money"),
        ),
        rows=income_rows,
        chart=income_chart,
    )
)


def commissions_owed_rows(params: Mapping[str, Any]) -> Rows:
    month: datetime.date | None = params.get("accrued_in")
    for owed in commissions_owed(month=None if month is None else month_start(month)):
        yield {
            "partner": owed.partner.name,
            "currency": owed.currency,
            "amount": owed.amount,
            "commissions": owed.count,
            "oldest": owed.oldest,
        }


COMMISSIONS_OWED = register(
    Report(
        key="commissions_owed",
        title="Commissions owed",
        description="Per partner and currency, the commissions accrued and not yet paid: "
        "their sum, how many, and the oldest's date.",
        permission="finance.view_finance",
        area="Finance",
        parameters=(
            date_parameter(
                "accrued_in", "Accrued in the month of", "Only commissions accrued that month."
            ),
        ),
        columns=(
            Column("partner", "Partner"),
            Column("currency", "Currency"),
            Column("amount", "Owed", "money"),
            Column("commissions", "Commissions", "int"),
            Column("oldest", "Oldest accrued on", "date"),
        ),
        rows=commissions_owed_rows,
    )
)
