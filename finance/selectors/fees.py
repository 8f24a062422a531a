"""Fees owed: each course enrolment with a fee, who owes it (the cohort's sponsor when the
cohort has one, else the learner), how much of it issued invoices have billed less what credit
notes took back, what drafts already cover, and what is left to invoice. A fixed number of
queries whatever the number of rows: the sums are subqueries on the enrolments."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    DecimalField,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat

from cohorts.models import Cohort
from delivery.models import CourseEnrollment, CourseEnrollmentStatus, CourseRun
from finance.models import DocumentKind, InvoiceLine, InvoiceStatus
from sponsors.models import Sponsor

ISSUED_STATUSES = [InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID]
LEARNERS_PAY = "learners"
MONEY = DecimalField(max_digits=14, decimal_places=2)


def _lines_sum(kind: str, statuses: Sequence[str]) -> Coalesce:
    lines = (
        InvoiceLine.objects.filter(
            course_enrollment=OuterRef("pk"), invoice__kind=kind, invoice__status__in=statuses
        )
        .values("course_enrollment")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(lines, output_field=MONEY), Value(Decimal(0)), output_field=MONEY)


def fees_owed(
    *,
    cohort: Cohort | None = None,
    run: CourseRun | None = None,
    payer: str = "",
    ids: Iterable[int] | None = None,
) -> QuerySet[CourseEnrollment]:
    """Course enrolments with a fee (dropped places left out), grouped by payer (sponsors by
    name, then learners who pay their own), each annotated with `invoiced` (issued invoice
    lines less issued credit note lines), `drafted` (draft invoice lines), `left` (the fee less
    `invoiced`) and `payer_key` ("sponsor-<id>" or "learner-<id>"). `payer` keeps one sponsor
    ("sponsor-<id>") or the learners who pay their own (LEARNERS_PAY)."""
    enrolments = (
        CourseEnrollment.objects.filter(fee_amount__gt=0)
        .exclude(status=CourseEnrollmentStatus.DROPPED)
        .select_related(
            "course", "course_run", "course_run__cohort__sponsor", "enrollment__learner"
        )
        .annotate(
            invoiced_gross=_lines_sum(DocumentKind.INVOICE, ISSUED_STATUSES),
            credited=_lines_sum(DocumentKind.CREDIT_NOTE, ISSUED_STATUSES),
            drafted=_lines_sum(DocumentKind.INVOICE, [InvoiceStatus.DRAFT]),
        )
        .annotate(invoiced=F("invoiced_gross") - F("credited"))
        .annotate(
            left=F("fee_amount") - F("invoiced"),
            payer_key=Case(
                When(
                    course_run__cohort__sponsor__isnull=False,
                    then=Concat(
                        Value("sponsor-"), Cast("course_run__cohort__sponsor_id", CharField())
                    ),
                ),
                default=Concat(Value("learner-"), Cast("enrollment__learner_id", CharField())),
                output_field=CharField(),
            ),
        )
        .order_by(
            F("course_run__cohort__sponsor__company_name").asc(nulls_last=True),
            "enrollment__learner__last_name",
            "enrollment__learner__first_name",
            "course_run__start_date",
            "pk",
        )
    )
    if cohort is not None:
        enrolments = enrolments.filter(course_run__cohort=cohort)
    if run is not None:
        enrolments = enrolments.filter(course_run=run)
    if payer == LEARNERS_PAY:
        enrolments = enrolments.filter(course_run__cohort__sponsor__isnull=True)
    elif payer.startswith("sponsor-") and payer[8:].isdigit():
        enrolments = enrolments.filter(course_run__cohort__sponsor_id=int(payer[8:]))
    if ids is not None:
        enrolments = enrolments.filter(pk__in=list(ids))
    return enrolments


def payer_choices() -> list[tuple[str, str]]:
    sponsors = Sponsor.objects.filter(
        pk__in=CourseEnrollment.objects.filter(fee_amount__gt=0).values(
            "course_run__cohort__sponsor_id"
        )
    ).order_by("company_name")
    return [
        (LEARNERS_PAY, "Learners who pay their own"),
        *[(f"sponsor-{sponsor.pk}", sponsor.company_name) for sponsor in sponsors],
    ]


@dataclass
class PayerTotal:
    currency: str
    fee: Decimal = Decimal(0)
    invoiced: Decimal = Decimal(0)
    left: Decimal = Decimal(0)


@dataclass
class FeeGroup:
    """One payer's rows on the page, with the payer's totals over every page."""

    key: str
    name: str
    is_sponsor: bool
    rows: list[CourseEnrollment] = field(default_factory=list)
    totals: list[PayerTotal] = field(default_factory=list)


def payer_name(enrolment: CourseEnrollment) -> str:
    sponsor = enrolment.course_run.cohort.sponsor
    return sponsor.company_name if sponsor else enrolment.enrollment.learner.full_name


def fee_groups(
    rows: Sequence[CourseEnrollment], enrolments: QuerySet[CourseEnrollment]
) -> list[FeeGroup]:
    """The page's `rows` grouped by payer (in order), each with its totals per currency over
    all of `enrolments` (one query)."""
    groups: dict[str, FeeGroup] = {}
    for row in rows:
        key = row.payer_key  # type: ignore[attr-defined]
        if key not in groups:
            groups[key] = FeeGroup(key, payer_name(row), key.startswith("sponsor-"))
        groups[key].rows.append(row)
    if groups:
        sums = (
            enrolments.filter(payer_key__in=list(groups))  # type: ignore[misc]
            .order_by()
            .values("payer_key", "fee_currency")
            .annotate(fee=Sum("fee_amount"), invoiced_sum=Sum("invoiced"), left_sum=Sum("left"))
        )
        for total in sums:
            groups[total["payer_key"]].totals.append(
                PayerTotal(
                    total["fee_currency"], total["fee"], total["invoiced_sum"], total["left_sum"]
                )
            )
    return list(groups.values())


def fees_totals(enrolments: QuerySet[CourseEnrollment]) -> list[PayerTotal]:
    """What every row of the list comes to, per currency."""
    return [
        PayerTotal(row["fee_currency"], row["fee"], row["invoiced_sum"], row["left_sum"])
        for row in enrolments.order_by()
        .values("fee_currency")
        .annotate(fee=Sum("fee_amount"), invoiced_sum=Sum("invoiced"), left_sum=Sum("left"))
        .order_by("fee_currency")
    ]
