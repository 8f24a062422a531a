"""What the bank statement pages read: the imports with their lines counted by outcome, one
import with its lines (and each line's payment and invoice), and the invoices a line may be
matched to by hand. A fixed number of queries whatever the number of lines."""

from django.db.models import Count, ExpressionWrapper, F, Prefetch, Q, QuerySet

from finance.models import (
    BankStatementImport,
    BankStatementLine,
    DocumentKind,
    Invoice,
    InvoiceStatus,
    PaymentAllocation,
    StatementLineStatus,
)
from finance.selectors.payments import MONEY


def _counted(imports: QuerySet[BankStatementImport]) -> QuerySet[BankStatementImport]:
    return imports.annotate(
        lines_count=Count("lines"),
        matched_count=Count(
            "lines",
            filter=Q(lines__status__in=[StatementLineStatus.MATCHED, StatementLineStatus.RESOLVED]),
        ),
        unmatched_count=Count("lines", filter=Q(lines__status=StatementLineStatus.UNMATCHED)),
        ignored_count=Count("lines", filter=Q(lines__status=StatementLineStatus.IGNORED)),
    )


def statement_import_list() -> QuerySet[BankStatementImport]:
    """Imports, latest first, with who uploaded them and their lines counted by outcome."""
    return _counted(BankStatementImport.objects.select_related("uploaded_by")).order_by(
        "-uploaded_at", "-pk"
    )


def statement_import_detail(*, pk: int) -> BankStatementImport:
    """One import with its lines, each with its payment and the invoices it was set against
    (DoesNotExist if there is none)."""
    statement: BankStatementImport = (
        _counted(BankStatementImport.objects.select_related("uploaded_by"))
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=BankStatementLine.objects.select_related(
                    "payment", "resolved_by"
                ).prefetch_related(
                    Prefetch(
                        "payment__allocations",
                        queryset=PaymentAllocation.objects.select_related("invoice"),
                    )
                ),
            )
        )
        .get(pk=pk)
    )
    return statement


def statement_line_for_action(*, pk: int, statement_pk: int) -> BankStatementLine:
    line: BankStatementLine = BankStatementLine.objects.select_related("statement").get(
        pk=pk, statement_id=statement_pk
    )
    return line


def invoices_to_match(*, currency: str) -> QuerySet[Invoice]:
    """Every issued invoice in `currency` that still owes money, oldest first, with `owed`."""
    return (
        Invoice.objects.filter(
            kind=DocumentKind.INVOICE,
            status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID],
            currency=currency,
        )
        .annotate(
            owed=ExpressionWrapper(
                F("total") - F("amount_paid") - F("amount_credited"), output_field=MONEY
            )
        )
        .filter(owed__gt=0)
        .order_by("due_on", "pk")
    )
