"""What the stipend pages and services read: who is due a stipend for a month and how much
(the rate in force, less a deduction per unexcused absence), the rates with their standing,
the runs, one run's lines with their deductions and bank details' presence, its totals per
payer, and a learner's bank details (masked). Every list reads a fixed number of queries
whatever its length."""

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from cohorts.models import Cohort, CohortState, ProgramType
from delivery.models import AttendanceRecord, AttendanceStatus, SessionStatus
from enrolments.models import CohortEnrollment, EnrollmentState
from finance.models import (
    StipendDeduction,
    StipendLine,
    StipendPayer,
    StipendRate,
    StipendRun,
)
from finance.selectors.settings import finance_settings_current
from learners.models import Learner
from partners.models import BankAccount, BankAccountChange, BankChangeStatus

# An enrolment that is still on its programme: onboarding under way or done (`complete` is the
# onboarding's end, not the programme's), with no outcome recorded before the month.
ON_PROGRAMME_STATES = (EnrollmentState.IN_PROGRESS, EnrollmentState.COMPLETE)


def month_first(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_last(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


# --- Who is due ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeductionDue:
    attendance_id: int
    description: str
    amount: Decimal


@dataclass
class StipendDue:
    """One learner's stipend for a month, as a run's line records it."""

    learner: Learner
    cohort: Cohort
    rate: StipendRate
    deductions: list[DeductionDue] = field(default_factory=list)

    @property
    def paid_through(self) -> str:
        return self.rate.paid_through

    @property
    def base_amount(self) -> Decimal:
        return self.rate.monthly_amount

    @property
    def absences_total(self) -> Decimal:
        """What the unexcused absences come to, which may be more than the stipend."""
        return sum((item.amount for item in self.deductions), Decimal("0.00"))

    @property
    def deducted(self) -> Decimal:
        """What is actually taken off: the absences, at most the whole base amount."""
        return min(self.absences_total, self.base_amount)

    @property
    def amount(self) -> Decimal:
        """The base amount less the deductions, never below 0."""
        return self.base_amount - self.deducted


def _enrolments_on_learnerships(first: datetime.date) -> QuerySet[CohortEnrollment]:
    """Enrolments on a learnership cohort that runs during the month starting `first`, still on
    the programme then."""
    last = month_last(first)
    return (
        CohortEnrollment.objects.filter(
            cohort__program_type=ProgramType.LEARNERSHIP,
            cohort__start_date__lte=last,
            cohort__end_date__gte=first,
            state__in=ON_PROGRAMME_STATES,
        )
        .exclude(cohort__state=CohortState.CANCELLED)
        .filter(Q(programme_outcome="") | Q(completion_date__gte=first))
        .select_related("learner", "cohort")
        .order_by("learner__last_name", "learner__first_name", "learner_id", "cohort__start_date")
    )


def _rates_in_force(
    first: datetime.date, *, programme_ids: set[int], learner_ids: set[int]
) -> tuple[dict[int, StipendRate], dict[int, StipendRate]]:
    """The rate in force in the month starting `first`, by programme and by learner: the one
    starting latest on or before it (the one added last, of two from the same month)."""
    by_programme: dict[int, StipendRate] = {}
    by_learner: dict[int, StipendRate] = {}
    rates = StipendRate.objects.filter(
        Q(programme_id__in=programme_ids) | Q(learner_id__in=learner_ids), starts_on__lte=first
    ).order_by("-starts_on", "-pk")
    for rate in rates:
        if rate.learner_id is not None:
            by_learner.setdefault(rate.learner_id, rate)
        elif rate.programme_id is not None:
            by_programme.setdefault(rate.programme_id, rate)
    return by_programme, by_learner


def absence_description(record: AttendanceRecord) -> str:
    session = record.session
    return (
        f"Absent without an excuse on {session.session_date:%a %-d %b %Y}: "
        f"{session.course_run.course_ref} {session.course_run.title}"
    )


def stipends_due(*, month: datetime.date) -> list[StipendDue]:
    """Who is due a stipend for `month` and how much: each learner with an enrolment on a
    learnership cohort running that month (still on the programme) whose rate in force (their
    own, else their cohort's programme's) is above 0; less, per unexcused absence from a
    session of that month in any of those enrolments' courses, the finance settings'
    deduction. One stipend per learner: from their earliest such enrolment whose rate is
    above 0 (a learner's own rate applies to their earliest)."""
    first = month_first(month)
    by_learner_enrolments: dict[int, list[CohortEnrollment]] = {}
    for enrolment in _enrolments_on_learnerships(first):
        by_learner_enrolments.setdefault(enrolment.learner_id, []).append(enrolment)
    by_programme, by_learner = _rates_in_force(
        first,
        programme_ids={
            e.cohort.programme_id
            for enrolments in by_learner_enrolments.values()
            for e in enrolments
            if e.cohort.programme_id
        },
        learner_ids=set(by_learner_enrolments),
    )
    due: dict[int, StipendDue] = {}
    due_by_enrolment: dict[int, StipendDue] = {}
    for learner_id, enrolments in by_learner_enrolments.items():
        own = by_learner.get(learner_id)
        chosen: tuple[CohortEnrollment, StipendRate] | None = None
        if own is not None:
            chosen = (enrolments[0], own) if own.monthly_amount > 0 else None
        else:
            chosen = next(
                (
                    (enrolment, rate)
                    for enrolment in enrolments
                    if (rate := by_programme.get(enrolment.cohort.programme_id or 0)) is not None
                    and rate.monthly_amount > 0
                ),
                None,
            )
        if chosen is None:
            continue
        enrolment, rate = chosen
        due[learner_id] = StipendDue(learner=enrolment.learner, cohort=enrolment.cohort, rate=rate)
        for each in enrolments:
            due_by_enrolment[each.pk] = due[learner_id]
    per_absence = finance_settings_current().stipend_deduction_per_absence
    if per_absence > 0 and due:
        absences = (
            AttendanceRecord.objects.filter(
                status=AttendanceStatus.ABSENT,
                session__status=SessionStatus.SCHEDULED,
                session__session_date__range=(first, month_last(first)),
                enrolment__enrollment_id__in=list(due_by_enrolment),
            )
            .select_related("session__course_run", "enrolment")
            .order_by("session__session_date", "session__start_time", "pk")
        )
        for record in absences:
            due_by_enrolment[record.enrolment.enrollment_id].deductions.append(
                DeductionDue(
                    attendance_id=record.pk,
                    description=absence_description(record),
                    amount=per_absence,
                )
            )
    return list(due.values())


# --- Rates -----------------------------------------------------------------------------------

RATE_STANDINGS = [
    ("current", "In force"),
    ("upcoming", "From a later month"),
    ("replaced", "Replaced"),
]


def stipend_rate_list(
    *, search: str = "", kind: str = "", today: datetime.date | None = None
) -> QuerySet[StipendRate]:
    """Every rate, history included, by programme (then learner) and latest first. Each row's
    `standing`: "upcoming" (starts after this month), "replaced" (a later rate of the same
    programme or learner is in force) or "current"."""
    first = month_first(today or timezone.localdate())
    # A rate is replaced by one of the same subject in force now that starts later, or starts
    # the same month and was added after it.
    later = Q(starts_on__gt=OuterRef("starts_on")) | Q(
        starts_on=OuterRef("starts_on"), pk__gt=OuterRef("pk")
    )
    later_for_programme = StipendRate.objects.filter(
        later, programme_id=OuterRef("programme_id"), starts_on__lte=first
    )
    later_for_learner = StipendRate.objects.filter(
        later, learner_id=OuterRef("learner_id"), starts_on__lte=first
    )
    rates = StipendRate.objects.select_related("programme", "learner", "created_by").annotate(
        standing=Case(
            When(starts_on__gt=first, then=Value("upcoming")),
            When(Q(programme__isnull=False) & Exists(later_for_programme), then=Value("replaced")),
            When(Q(learner__isnull=False) & Exists(later_for_learner), then=Value("replaced")),
            default=Value("current"),
            output_field=CharField(),
        )
    )
    if kind == "programme":
        rates = rates.filter(programme__isnull=False)
    elif kind == "learner":
        rates = rates.filter(learner__isnull=False)
    if search:
        term = " ".join(search.split())
        rates = rates.filter(
            Q(programme__name__icontains=term)
            | Q(programme__code__icontains=term)
            | Q(learner__first_name__icontains=term)
            | Q(learner__last_name__icontains=term)
        )
    return rates.order_by(
        "programme__name", "learner__last_name", "learner__first_name", "-starts_on", "-pk"
    )


def stipend_rate_learner_choices() -> QuerySet[Learner]:
    """The learners a learner's own rate may be for: those on a learnership cohort that is
    not over, by name."""
    return (
        Learner.objects.filter(
            enrollments__cohort__program_type=ProgramType.LEARNERSHIP,
            enrollments__state__in=(EnrollmentState.WAITING, *ON_PROGRAMME_STATES),
            enrollments__programme_outcome="",
        )
        .exclude(enrollments__cohort__state=CohortState.CANCELLED)
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


# --- Runs ------------------------------------------------------------------------------------


def stipend_run_list(*, status: str = "") -> QuerySet[StipendRun]:
    runs = StipendRun.objects.select_related("prepared_by", "approved_by").annotate(
        line_count=Count("lines")
    )
    if status:
        runs = runs.filter(status=status)
    return runs.order_by("-month", "-pk")


def stipend_run_for(*, pk: int) -> StipendRun:
    """One run with who prepared and approved it (DoesNotExist if there is none)."""
    run: StipendRun = StipendRun.objects.select_related("prepared_by", "approved_by").get(pk=pk)
    return run


def _has_bank_details() -> Exists:
    return Exists(BankAccount.objects.filter(learner_id=OuterRef("learner_id")))


LINE_SHOWS = [
    ("no_bank", "No bank details"),
    ("unbanked", "Left out of the bank file"),
    ("deducted", "With deductions"),
    ("institution", "Paid by the institution"),
    ("sponsor", "Paid by the sponsor"),
]


def stipend_run_lines(
    run: StipendRun, *, search: str = "", show: str = ""
) -> QuerySet[StipendLine]:
    """The run's lines by learner, each with its learner, cohort, payment and deductions, and
    `has_bank`: whether the learner has confirmed bank details, and `absences_total`: what
    its absences came to (more than `deductions` when they came to more than the stipend)."""
    lines = (
        StipendLine.objects.filter(run=run)
        .select_related("learner", "cohort", "payment")
        .prefetch_related(
            Prefetch("deduction_items", queryset=StipendDeduction.objects.order_by("pk"))
        )
        .annotate(
            has_bank=_has_bank_details(),
            absences_total=Subquery(
                StipendDeduction.objects.filter(line=OuterRef("pk"))
                .values("line")
                .annotate(total=Sum("amount"))
                .values("total")
            ),
        )
    )
    if show == "no_bank":
        lines = lines.filter(has_bank=False)
    elif show == "unbanked":
        lines = lines.filter(
            paid_through=StipendPayer.INSTITUTION,
            amount__gt=0,
            payment__isnull=True,
            has_bank=False,
        )
    elif show == "deducted":
        lines = lines.filter(deductions__gt=0)
    elif show in StipendPayer.values:
        lines = lines.filter(paid_through=show)
    if search:
        term = " ".join(search.split())
        lines = lines.filter(
            Q(learner__first_name__icontains=term) | Q(learner__last_name__icontains=term)
        )
    return lines.order_by("learner__last_name", "learner__first_name", "pk")


@dataclass(frozen=True)
class PayerTotal:
    payer: str
    label: str
    lines: int
    total: Decimal
    deductions: Decimal
    without_bank: int
    in_bank_file: int
    bank_file_total: Decimal


def stipend_run_totals(run: StipendRun) -> list[PayerTotal]:
    """Per payer (the institution, the sponsor): the lines, their total and deductions, how
    many learners have no bank details, and (for the institution) what the bank file holds."""
    rows = (
        StipendLine.objects.filter(run=run)
        .annotate(has_bank=_has_bank_details())
        .values("paid_through")
        .annotate(
            lines=Count("pk"),
            total=Sum("amount"),
            deducted=Sum("deductions"),
            without_bank=Count("pk", filter=Q(has_bank=False)),
            payable=Count("pk", filter=Q(has_bank=True, amount__gt=0)),
            payable_total=Sum("amount", filter=Q(has_bank=True, amount__gt=0)),
        )
    )
    by_payer = {row["paid_through"]: row for row in rows}
    totals = []
    for payer, label in StipendPayer.choices:
        row = by_payer.get(payer)
        if row is None:
            continue
        institution = payer == StipendPayer.INSTITUTION
        totals.append(
            PayerTotal(
                payer=payer,
                label=label,
                lines=row["lines"],
                total=row["total"] or Decimal("0.00"),
                deductions=row["deducted"] or Decimal("0.00"),
                without_bank=row["without_bank"],
                in_bank_file=row["payable"] if institution else 0,
                bank_file_total=(row["payable_total"] or Decimal("0.00"))
                if institution
                else Decimal("0.00"),
            )
        )
    return totals


def stipend_lines_payable(run: StipendRun) -> QuerySet[StipendLine]:
    """The lines the institution pays through its bank file: paid by the institution, above 0,
    to a learner with confirmed bank details."""
    return (
        StipendLine.objects.filter(
            run=run, paid_through=StipendPayer.INSTITUTION, amount__gt=0, payment__isnull=True
        )
        .filter(_has_bank_details())
        .select_related("learner")
        .order_by("learner__last_name", "learner__first_name", "pk")
    )


def stipend_lines_unbanked(run: StipendRun) -> QuerySet[StipendLine]:
    """The lines the institution owes that its bank file leaves out: above 0, not paid, to a
    learner without confirmed bank details (the run page's "unbanked" lines)."""
    return (
        StipendLine.objects.filter(
            run=run, paid_through=StipendPayer.INSTITUTION, amount__gt=0, payment__isnull=True
        )
        .exclude(_has_bank_details())
        .order_by("learner_id")
    )


def stipend_bank_changed_since_export(run: StipendRun) -> int:
    """How many of the run's institution-paid learners had bank details confirmed after the
    bank file was last made (0 if it was never made)."""
    if run.exported_at is None:
        return 0
    return BankAccount.objects.filter(
        learner_id__in=StipendLine.objects.filter(
            run=run, paid_through=StipendPayer.INSTITUTION
        ).values("learner_id"),
        confirmed_at__gt=run.exported_at,
    ).count()


# --- A learner's bank details ------------------------------------------------------------------


@dataclass(frozen=True)
class LearnerBank:
    account: BankAccount | None
    pending: BankAccountChange | None
    history: list[BankAccountChange]


def learner_bank(learner: Learner) -> LearnerBank:
    """The learner's confirmed bank account (masked fields only), the change waiting for a
    second person, and the last requests decided."""
    account = BankAccount.objects.select_related("confirmed_by").filter(learner=learner).first()
    changes = list(
        BankAccountChange.objects.select_related("requested_by", "decided_by")
        .filter(learner=learner)
        .order_by("-requested_at", "-pk")[:6]
    )
    pending = next((c for c in changes if c.status == BankChangeStatus.PENDING), None)
    return LearnerBank(
        account=account,
        pending=pending,
        history=[c for c in changes if c.status != BankChangeStatus.PENDING][:5],
    )
