"""What the commissions pages read: the commissions with what earned them, what is owed to
each partner (the commissions-owed report), what a payout may settle, and a partner's monthly
statements (opening balance, accruals, payouts, closing balance, due date). Cancelled
commissions were never owed: statements and balances leave them out."""

import calendar
import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from accounts.models import User
from finance.access import VIEW_FINANCE
from finance.models import (
    Commission,
    CommissionStatus,
    Payment,
    PaymentDirection,
    PaymentPurpose,
    PaymentStatus,
)
from partners.access import partner_of_contact
from partners.models import BankAccount, Partner

ZERO = Decimal("0.00")
# A payout counts on a statement unless it failed or was given back.
PAYOUT_STATUSES = (PaymentStatus.PENDING, PaymentStatus.COMPLETED)


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(first: datetime.date) -> datetime.date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _in_month(field: str, first: datetime.date) -> Q:
    return Q(**{f"{field}__gte": first, f"{field}__lte": month_end(first)})


def commission_list(
    *,
    partner: Partner | None = None,
    status: str = "",
    month: datetime.date | None = None,
) -> QuerySet[Commission]:
    """Commissions with their partner, learner, what earned them and their payout, latest
    first; `month` keeps those accrued in that month."""
    commissions = Commission.objects.select_related(
        "partner",
        "learner",
        "placement__organisation",
        "enrollment__cohort",
        "payout",
    )
    if partner is not None:
        commissions = commissions.filter(partner=partner)
    if status:
        commissions = commissions.filter(status=status)
    if month is not None:
        commissions = commissions.filter(_in_month("accrued_on", month))
    return commissions.order_by("-accrued_on", "-pk")


@dataclass(frozen=True)
class Owed:
    """What the institution owes one partner in one currency."""

    partner: Partner
    currency: str
    amount: Decimal
    count: int
    oldest: datetime.date


def commissions_owed(
    *, partner: Partner | None = None, month: datetime.date | None = None
) -> list[Owed]:
    """The commissions-owed report: per partner and currency, the sum and number of the
    commissions not yet paid (of those accrued in `month` when given), largest first."""
    owed = Commission.objects.filter(status=CommissionStatus.ACCRUED)
    if partner is not None:
        owed = owed.filter(partner=partner)
    if month is not None:
        owed = owed.filter(_in_month("accrued_on", month))
    rows = list(
        owed.values("partner_id", "currency").annotate(
            amount=Sum("amount"), count=Count("pk"), oldest=Min("accrued_on")
        )
    )
    partners = Partner.objects.in_bulk([row["partner_id"] for row in rows])
    report = [
        Owed(
            partner=partners[row["partner_id"]],
            currency=row["currency"],
            amount=row["amount"],
            count=row["count"],
            oldest=row["oldest"],
        )
        for row in rows
    ]
    return sorted(report, key=lambda o: (-o.amount, o.partner.name, o.currency))


def commission_for_cancel(*, pk: int) -> Commission:
    """One commission with what the cancel page shows (DoesNotExist if there is none)."""
    commission: Commission = commission_list().get(pk=pk)
    return commission


def payout_partner(*, pk: int) -> Partner:
    """The partner a payout is for (DoesNotExist if there is none)."""
    partner: Partner = Partner.objects.get(pk=pk)
    return partner


def partner_bank_account(partner: Partner) -> BankAccount | None:
    """The partner's confirmed bank account, shown masked, or None."""
    return BankAccount.objects.select_related("confirmed_by").filter(partner=partner).first()


# --- Statements --------------------------------------------------------------------------------


def _payouts(partner: Partner) -> QuerySet[Payment]:
    return Payment.objects.filter(
        partner=partner,
        direction=PaymentDirection.PAID_OUT,
        purpose=PaymentPurpose.COMMISSION,
        status__in=PAYOUT_STATUSES,
    )


def _owing(partner: Partner) -> QuerySet[Commission]:
    return Commission.objects.filter(partner=partner).exclude(status=CommissionStatus.CANCELLED)


@dataclass(frozen=True)
class StatementMonth:
    """One month of a partner's account: what accrued, what was paid, the balance after."""

    month: datetime.date
    accrued: Decimal
    paid: Decimal
    closing: Decimal


def statement_months(partner: Partner) -> list[StatementMonth]:
    """The months in which the partner earned commission or was paid, latest first, each with
    its closing balance (two queries whatever the number of months)."""
    accrued = dict(
        _owing(partner)
        .annotate(month=TruncMonth("accrued_on"))
        .values("month")
        .annotate(total=Sum("amount"))
        .values_list("month", "total")
    )
    paid = dict(
        _payouts(partner)
        .annotate(month=TruncMonth("paid_on"))
        .values("month")
        .annotate(total=Sum("amount"))
        .values_list("month", "total")
    )
    months: list[StatementMonth] = []
    balance = ZERO
    for month in sorted(set(accrued) | set(paid)):
        balance += accrued.get(month, ZERO) - paid.get(month, ZERO)
        months.append(
            StatementMonth(
                month=month,
                accrued=accrued.get(month, ZERO),
                paid=paid.get(month, ZERO),
                closing=balance,
            )
        )
    return months[::-1]


@dataclass(frozen=True)
class Statement:
    """A partner's statement for one month."""

    partner: Partner
    month: datetime.date
    opening: Decimal
    commissions: list[Commission]
    accrued: Decimal
    payouts: Sequence[Payment]
    paid: Decimal

    @property
    def currency(self) -> str:
        return self.partner.currency

    @property
    def closing(self) -> Decimal:
        return self.opening + self.accrued - self.paid

    @property
    def month_end(self) -> datetime.date:
        return month_end(self.month)

    @property
    def due_on(self) -> datetime.date:
        """When what the statement shows as owed is due: the month's end plus the partner's
        payment terms."""
        return self.month_end + datetime.timedelta(days=self.partner.payment_terms_days)


def partner_statement(partner: Partner, month: datetime.date) -> Statement:
    """The partner's statement for the month starting `month`: the balance owed at its start,
    the commissions accrued and the payouts made in it."""
    first = month_start(month)
    before = _owing(partner).filter(accrued_on__lt=first).aggregate(total=Sum("amount"))
    paid_before = _payouts(partner).filter(paid_on__lt=first).aggregate(total=Sum("amount"))
    commissions = list(
        _owing(partner)
        .filter(_in_month("accrued_on", first))
        .select_related("learner", "placement__organisation", "enrollment__cohort", "payout")
        .order_by("accrued_on", "pk")
    )
    payouts = list(
        _payouts(partner)
        .filter(_in_month("paid_on", first))
        .annotate(commission_count=Count("commissions"))
        .order_by("paid_on", "pk")
    )
    return Statement(
        partner=partner,
        month=first,
        opening=(before["total"] or ZERO) - (paid_before["total"] or ZERO),
        commissions=commissions,
        accrued=sum((c.amount for c in commissions), ZERO),
        payouts=payouts,
        paid=sum((p.amount for p in payouts), ZERO),
    )


def statements_allowed(user: User, partner: Partner) -> bool:
    """Who reads a partner's statements: finance (and admins, read-only), and the partner's
    own contacts."""
    if user.may(VIEW_FINANCE):
        return True
    own = partner_of_contact(user)
    return own is not None and own.pk == partner.pk


def statement_partner(*, pk: int) -> Partner:
    """The partner whose statements are asked for (DoesNotExist if there is none)."""
    partner: Partner = Partner.objects.get(pk=pk)
    return partner
