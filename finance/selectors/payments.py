"""What the payments pages read: payments with their party and what of each is allocated, one
payment with its allocations, who may pay (a sponsor, a learner or a partner, as one "party"
key such as `sponsor:12`), a party's open invoices oldest first and the credit its earlier
payments left. A fixed number of queries whatever the lists' lengths."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Concat

from finance.models import (
    DocumentKind,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentAllocation,
    PaymentDirection,
    PaymentPurpose,
    PaymentStatus,
)
from learners.models import Learner
from partners.models import Partner
from sponsors.models import Sponsor

PARTY_KINDS = ("sponsor", "learner", "partner")
PARTY_KIND_LABELS = {"sponsor": "Sponsors", "learner": "Learners", "partner": "Partners"}
ZERO = Value(Decimal(0), output_field=DecimalField(max_digits=14, decimal_places=2))
MONEY = DecimalField(max_digits=14, decimal_places=2)


@dataclass(frozen=True)
class Party:
    """Who paid: one sponsor, learner or partner."""

    kind: str
    instance: Sponsor | Learner | Partner

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.instance.pk}"

    @property
    def name(self) -> str:
        return str(self.instance)

    def fields(self) -> dict[str, Sponsor | Learner | Partner | None]:
        return {kind: self.instance if kind == self.kind else None for kind in PARTY_KINDS}

    def filter(self) -> Q:
        return Q(**{f"{kind}_id": self.instance.pk if kind == self.kind else None
                    for kind in PARTY_KINDS})  # fmt: skip


def party_of(row: Payment | Invoice) -> Party | None:
    for kind in PARTY_KINDS:
        instance = getattr(row, kind)
        if instance is not None:
            return Party(kind, instance)
    return None


def party_find(key: str) -> Party | None:
    """The party a key names (`sponsor:12`), or None for a key that names nobody."""
    kind, _, pk = (key or "").partition(":")
    models = {"sponsor": Sponsor, "learner": Learner, "partner": Partner}
    if kind not in models or not pk.isdigit():
        return None
    instance = models[kind].objects.filter(pk=int(pk)).first()
    return Party(kind, instance) if instance is not None else None


def party_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Who may pay, grouped: every sponsor, the active partners, and the learners who have
    been invoiced (three queries)."""
    invoiced = Invoice.objects.filter(learner_id=OuterRef("pk")).exclude(status=InvoiceStatus.DRAFT)
    learners = Learner.objects.filter(Exists(invoiced)).order_by("last_name", "first_name", "pk")
    return [
        (
            PARTY_KIND_LABELS["sponsor"],
            [(f"sponsor:{s.pk}", s.company_name) for s in Sponsor.objects.order_by("company_name")],
        ),
        (
            PARTY_KIND_LABELS["learner"],
            [(f"learner:{learner.pk}", learner.full_name) for learner in learners],
        ),
        (
            PARTY_KIND_LABELS["partner"],
            [
                (f"partner:{p.pk}", f"{p.name} ({p.code})")
                for p in Partner.objects.filter(is_active=True).order_by("name")
            ],
        ),
    ]


def _allocated() -> Subquery:
    return Subquery(
        PaymentAllocation.objects.filter(payment=OuterRef("pk"))
        .values("payment")
        .annotate(total=Sum("amount"))
        .values("total"),
        output_field=MONEY,
    )


def payments_with_allocated(payments: QuerySet[Payment]) -> QuerySet[Payment]:
    """Each payment with `allocated` and `unallocated` (its party's credit)."""
    return payments.annotate(allocated=Coalesce(_allocated(), ZERO)).annotate(
        unallocated=ExpressionWrapper(F("amount") - F("allocated"), output_field=MONEY)
    )


def payment_list(
    *,
    direction: str = "",
    purpose: str = "",
    status: str = "",
    party: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[Payment]:
    """Payments, latest first, with their party; `party` matches the name of the sponsor,
    learner or partner, the counterparty or the reference."""
    payments = Payment.objects.select_related("sponsor", "learner", "partner")
    if direction:
        payments = payments.filter(direction=direction)
    if purpose:
        payments = payments.filter(purpose=purpose)
    if status:
        payments = payments.filter(status=status)
    if date_from:
        payments = payments.filter(paid_on__gte=date_from)
    if date_to:
        payments = payments.filter(paid_on__lte=date_to)
    if party:
        term = " ".join(party.split())
        payments = payments.annotate(
            learner_name=Concat("learner__first_name", Value(" "), "learner__last_name")
        ).filter(
            Q(sponsor__company_name__icontains=term)
            | Q(learner_name__icontains=term)
            | Q(partner__name__icontains=term)
            | Q(partner__code__iexact=term)
            | Q(counterparty__icontains=term)
            | Q(reference__icontains=term)
        )
    return payments_with_allocated(payments).order_by("-paid_on", "-pk")


def payment_detail(*, pk: int) -> Payment:
    """One payment with its party, its allocations and their invoices (DoesNotExist if none)."""
    payment: Payment = (
        payments_with_allocated(Payment.objects.select_related("sponsor", "learner", "partner"))
        .select_related("recorded_by")
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.select_related("invoice", "created_by"),
            )
        )
        .get(pk=pk)
    )
    return payment


def invoices_open(*, party: Party, currency: str = "") -> QuerySet[Invoice]:
    """The party's issued invoices that still owe money, oldest first, each with `owed`."""
    invoices = (
        Invoice.objects.filter(
            party.filter(),
            kind=DocumentKind.INVOICE,
            status__in=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID],
        )
        .annotate(
            owed=ExpressionWrapper(
                F("total") - F("amount_paid") - F("amount_credited"), output_field=MONEY
            )
        )
        .filter(owed__gt=0)
    )
    if currency:
        invoices = invoices.filter(currency=currency)
    return invoices.order_by("due_on", "issued_on", "pk")


def party_credits(*, party: Party, currency: str = "", exclude: int | None = None) -> list[Payment]:
    """The party's completed payments for invoices with money not yet allocated (its credit),
    oldest first."""
    payments = Payment.objects.filter(
        party.filter(),
        direction=PaymentDirection.RECEIVED,
        purpose=PaymentPurpose.INVOICE,
        status=PaymentStatus.COMPLETED,
    )
    if currency:
        payments = payments.filter(currency=currency)
    if exclude is not None:
        payments = payments.exclude(pk=exclude)
    return list(
        payments_with_allocated(payments.filter(amount__gt=Coalesce(_allocated(), ZERO))).order_by(
            "paid_on", "pk"
        )
    )


def allocation_default(invoices: list[Invoice], amount: Decimal) -> list[tuple[Invoice, Decimal]]:
    """Oldest invoice first, each up to what it owes, until `amount` is used up."""
    allocations: list[tuple[Invoice, Decimal]] = []
    left = amount
    for invoice in invoices:
        if left <= 0:
            break
        share = min(left, invoice.balance)
        allocations.append((invoice, share))
        left -= share
    return allocations
