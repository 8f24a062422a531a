"""What the finance overview page and the finance start-page panel show: what is owed to the
institution and how much of it is overdue, what came in this month, and what waits for a
finance user (drafts to issue, statement lines to match, bank details to confirm, stipend
runs to approve, grant claims to submit, commissions owed). A handful of aggregate queries,
however many rows there are."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from finance.models import (
    BankStatementLine,
    Commission,
    CommissionStatus,
    GrantClaim,
    GrantClaimStatus,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentDirection,
    PaymentStatus,
    StatementLineStatus,
    StipendRun,
    StipendRunStatus,
)
from finance.selectors.settings import finance_settings_current
from partners.models import BankAccountChange, BankChangeStatus

OPEN = (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))


@dataclass(frozen=True)
class FinanceFigures:
    currency: str
    outstanding: Decimal
    open_invoices: int
    overdue: Decimal
    overdue_invoices: int
    drafts: int
    received_this_month: Decimal
    lines_to_match: int
    bank_changes_pending: int
    stipend_runs_to_approve: int
    grant_claims_due: int
    commissions_owed: Decimal

    @property
    def waiting(self) -> int:
        """How many things wait for a finance user's hand."""
        return (
            self.drafts
            + self.lines_to_match
            + self.bank_changes_pending
            + self.stipend_runs_to_approve
            + self.grant_claims_due
        )


def _money_sum(expression: F | ExpressionWrapper, *, only: Q | None = None) -> Coalesce:
    return Coalesce(Sum(expression, filter=only), ZERO)


def finance_figures(*, today: datetime.date | None = None) -> FinanceFigures:
    """The figures in the institution's own currency (documents in another are left out of
    the sums, not converted)."""
    today = today or timezone.localdate()
    currency = finance_settings_current().currency
    balance = ExpressionWrapper(
        F("total") - F("amount_paid") - F("amount_credited"),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )
    open_invoices = Q(kind="invoice", status__in=OPEN, currency=currency)
    overdue = open_invoices & Q(due_on__lt=today)
    invoices = Invoice.objects.aggregate(
        outstanding=_money_sum(balance, only=open_invoices),
        open_count=Count("pk", filter=open_invoices),
        overdue=_money_sum(balance, only=overdue),
        overdue_count=Count("pk", filter=overdue),
        drafts=Count("pk", filter=Q(status=InvoiceStatus.DRAFT)),
    )
    received = Payment.objects.filter(
        direction=PaymentDirection.RECEIVED,
        status=PaymentStatus.COMPLETED,
        currency=currency,
        paid_on__gte=today.replace(day=1),
        paid_on__lte=today,
    ).aggregate(total=_money_sum(F("amount")))["total"]
    owed = Commission.objects.filter(status=CommissionStatus.ACCRUED, currency=currency).aggregate(
        total=_money_sum(F("amount"))
    )["total"]
    return FinanceFigures(
        currency=currency,
        outstanding=invoices["outstanding"],
        open_invoices=invoices["open_count"],
        overdue=invoices["overdue"],
        overdue_invoices=invoices["overdue_count"],
        drafts=invoices["drafts"],
        received_this_month=received,
        lines_to_match=BankStatementLine.objects.filter(
            status=StatementLineStatus.UNMATCHED, amount__gt=0
        ).count(),
        bank_changes_pending=BankAccountChange.objects.filter(
            status=BankChangeStatus.PENDING
        ).count(),
        stipend_runs_to_approve=StipendRun.objects.filter(status=StipendRunStatus.DRAFT).count(),
        grant_claims_due=GrantClaim.objects.filter(status=GrantClaimStatus.DUE).count(),
        commissions_owed=owed,
    )
