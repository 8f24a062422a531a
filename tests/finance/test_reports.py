"""The reports' sums: aged debtors' buckets at their boundaries (due today, 30, 31, 60, 61, 90
and 91 days past due), per debtor with totals; income per programme (through the invoice lines'
course enrolments, "Other" without one) and month of a financial year, counting only completed
payments' allocations by the payment's date."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from finance.models import FinanceSettings, PaymentStatus
from finance.selectors.payments import Party
from finance.selectors.reports import (
    aged_debtors,
    bucket_of,
    debtor_invoices,
    financial_year_range,
    income_by_programme,
)
from finance.services.invoices import LineInput, Recipient
from finance.services.payments import payment_complete
from tests.finance.support import finance_world
from tests.finance.support_payments import issued, received

pytestmark = pytest.mark.django_db

BUCKETS = ["current", "days_1_30", "days_31_60", "days_61_90", "days_over_90"]


@pytest.fixture
def world(admin):
    FinanceSettings.objects.create(pk=1, invoice_due_days=30, vat_rate=Decimal(15))
    return finance_world(admin, learners=2)


def due_days_ago(world, days: int, amount: str, **kwargs):
    """An invoice issued so that it fell due `days` days ago (30 days' terms)."""
    today = timezone.localdate()
    return issued(world, amount, issued_on=today - datetime.timedelta(days=days + 30), **kwargs)


@pytest.mark.parametrize(
    ("days_late", "bucket"),
    [
        (-5, "current"),
        (0, "current"),
        (1, "days_1_30"),
        (30, "days_1_30"),
        (31, "days_31_60"),
        (60, "days_31_60"),
        (61, "days_61_90"),
        (90, "days_61_90"),
        (91, "days_over_90"),
    ],
)
def test_an_invoice_ages_into_its_bucket(world, days_late, bucket):
    invoice = due_days_ago(world, days_late, "100.00")
    report = aged_debtors(today=timezone.localdate())
    (row,) = report.rows
    assert row.buckets[BUCKETS.index(bucket)] == Decimal("100.00")
    assert sum(row.buckets) == row.total == Decimal("100.00")
    assert bucket_of(invoice.due_on, timezone.localdate()) == bucket


def test_aged_debtors_per_debtor_with_totals(world):
    learner = world.learner.learner
    for days in (0, 30, 31, 60, 61, 90, 91):
        due_days_ago(world, days, "100.00")
    partly = due_days_ago(world, 45, "1000.00")
    received(world, "400.00", [(partly, "400.00")])
    paid = due_days_ago(world, 10, "999.00")
    received(world, "999.00", [(paid, "999.00")])
    due_days_ago(world, 5, "250.00", recipient=Recipient(learner=learner))
    report = aged_debtors(today=timezone.localdate())
    sponsor_row, learner_row = report.rows
    assert sponsor_row.name == world.sponsor.company_name
    assert sponsor_row.buckets == [
        Decimal("100.00"),
        Decimal("100.00"),
        Decimal("800.00"),  # 31 and 60 days, and what the partly paid invoice still owes
        Decimal("200.00"),
        Decimal("100.00"),
    ]
    assert sponsor_row.invoices == 8
    assert (learner_row.kind, learner_row.pk) == ("learner", learner.pk)
    assert learner_row.name == learner.full_name
    assert learner_row.buckets[1] == Decimal("250.00")
    ((currency, totals, total),) = report.totals
    assert currency == "ZAR"
    assert [amount for _label, amount in totals] == [
        Decimal("100.00"),
        Decimal("350.00"),
        Decimal("800.00"),
        Decimal("200.00"),
        Decimal("100.00"),
    ]
    assert total == Decimal("1550.00")

    invoices = debtor_invoices(party=Party("sponsor", world.sponsor), today=timezone.localdate())
    assert [row.days_late for row in invoices] == [91, 90, 61, 60, 45, 31, 30, 0]
    assert invoices[4].invoice.owed == Decimal("600.00")
    assert invoices[0].bucket == "90+ days"


def test_financial_year_range():
    assert financial_year_range(2027, 3) == (datetime.date(2026, 3, 1), datetime.date(2027, 3, 1))
    assert financial_year_range(2027, 1) == (datetime.date(2027, 1, 1), datetime.date(2028, 1, 1))


def test_income_per_programme_and_month(world):
    first, second = world.placed[0].course_enrollment, world.placed[1].course_enrollment
    programme = world.workplace.programme.name
    fees = issued(
        world,
        "0",
        lines=[
            LineInput(description="Fee", unit_price=Decimal("1000.00"), course_enrollment=first),
            LineInput(description="Fee", unit_price=Decimal("1000.00"), course_enrollment=second),
            LineInput(description="Books", unit_price=Decimal("500.00"), vat_applies=False),
        ],
    )
    assert fees.total == Decimal("2800.00")  # 2 000 + 15% VAT + 500
    other = issued(world, "100.00")
    received(world, "2800.00", [(fees, "1400.00")], paid_on=datetime.date(2026, 4, 10))
    received(world, "1400.00", [(fees, "1400.00")], paid_on=datetime.date(2026, 6, 1))
    received(world, "100.00", [(other, "100.00")], paid_on=datetime.date(2027, 2, 28))
    # Outside the financial year, and not completed: not counted.
    late = issued(world, "70.00")
    received(world, "70.00", [(late, "70.00")], paid_on=datetime.date(2027, 3, 1))
    pending = received(
        world, "5.00", status=PaymentStatus.PENDING, paid_on=datetime.date(2026, 5, 1)
    )
    payment_complete(actor=world.finance, payment=pending)  # completed, but allocated nowhere

    report = income_by_programme(year=2027, start_month=3, currency="ZAR")
    assert report.months[0] == datetime.date(2026, 3, 1)
    assert report.months[-1] == datetime.date(2027, 2, 1)
    by_name = {series.programme: series for series in report.series}
    assert list(by_name) == [programme, "Other"]
    assert by_name[programme].amounts[1] == Decimal("1150.00")  # April: 2 300 of 2 800 of 1 400
    assert by_name["Other"].amounts[1] == Decimal("250.00")
    assert by_name[programme].amounts[3] == Decimal("1150.00")  # June
    assert by_name["Other"].amounts[11] == Decimal("100.00")  # February
    assert by_name[programme].total == Decimal("2300.00")
    assert report.total == Decimal("2900.00")
    assert report.month_totals[1] == Decimal("1400.00")
    assert income_by_programme(year=2028, start_month=3, currency="ZAR").total == Decimal("70.00")
