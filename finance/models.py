"""Finance (seeds 001, 002): invoices and credit notes with gapless numbers, payments and their
allocation to invoices, bank statement imports, partners' commissions, learners' stipends and
SETA grant claims.

Money is a Decimal amount with its document's currency (academics.currencies: py-moneyed for
sums and display), never a float. An issued invoice or credit note cannot change: the services
refuse it and a database trigger (migration 0002) refuses it again.
Written only by finance.services; pages read through finance.selectors."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from academics.models import CURRENCY_CODE
from partners.models import PaymentMethod


def money_field(verbose_name: str | None = None, **options) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=2, **options)


def currency_field() -> models.CharField:
    return models.CharField(max_length=3, default="ZAR", validators=[CURRENCY_CODE])


class FinanceSettings(models.Model):
    """The institution's finance settings (one row, pk 1, made on first use)."""

    vat_rate = models.DecimalField(
        "VAT rate (%)",
        max_digits=5,
        decimal_places=2,
        default=15,
        validators=[
            MinValueValidator(0, "VAT cannot be negative."),
            MaxValueValidator(100, "VAT can be at most 100%."),
        ],
        help_text="Charged on invoice lines that carry VAT; 0 if the institution is not a "
        "VAT vendor.",
    )
    vat_number = models.CharField("VAT number", max_length=40, blank=True)
    financial_year_start_month = models.PositiveSmallIntegerField(
        "Financial year starts in",
        default=3,
        choices=[
            (month, name)
            for month, name in enumerate(
                [
                    "January",
                    "February",
                    "March",
                    "April",
                    "May",
                    "June",
                    "July",
                    "August",
                    "September",
                    "October",
                    "November",
                    "December",
                ],
                start=1,
            )
        ],
        help_text="Invoice numbers start again at 1 each financial year, which is named by the "
        "calendar year it ends in (March 2026 – February 2027 is 2027).",
    )
    invoice_due_days = models.PositiveSmallIntegerField(
        "Invoices due after (days)",
        default=30,
        validators=[MaxValueValidator(365, "At most 365 days.")],
    )
    currency = currency_field()
    payment_details = models.TextField(
        blank=True, help_text="How to pay the institution, printed on every invoice."
    )
    stipend_deduction_per_absence = money_field(
        "Stipend deduction per unexcused absence",
        default=0,
        validators=[MinValueValidator(0, "A deduction cannot be negative.")],
        help_text="Taken off a learner's monthly stipend for each session they missed without "
        "an excuse; 0 for none.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "finance settings"
        permissions = [
            (
                "manage_finance",
                "Invoice, record payments, import bank statements, pay commissions and "
                "stipends, claim grants and change the finance settings.",
            ),
            ("view_finance", "See invoices, payments, commissions, stipends, grants and reports."),
        ]

    def __str__(self) -> str:
        return "Finance settings"


# --- Invoices and credit notes -----------------------------------------------------------------


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


NUMBER_PREFIX = {DocumentKind.INVOICE: "INV", DocumentKind.CREDIT_NOTE: "CN"}


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class InvoiceCounter(models.Model):
    """The last number given to an invoice (or credit note) of a financial year. Issuing locks
    its row (`SELECT ... FOR UPDATE`) and takes the next number in the issuing transaction, so
    numbers are gapless and never reused: a rolled-back issue gives its number back."""

    kind = models.CharField(max_length=20, choices=DocumentKind.choices)
    financial_year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "financial_year"], name="invoice_counter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.financial_year}: {self.last_number}"


class Invoice(ConcurrentTransitionMixin, models.Model):
    """An invoice, or a credit note against one (`kind`), to a sponsor, a learner or a partner.
    A draft is edited freely and has no number; issuing numbers it, fixes the recipient's
    details, the VAT rate and the totals, and from then on only its status, what has been paid
    or credited against it, its PDF and its e-mailing change."""

    PERSONAL_FIELDS = frozenset(
        {"recipient_name", "recipient_email", "recipient_address", "recipient_tax_number"}
    )

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=DocumentKind.choices, default="invoice")
    number = models.CharField(max_length=30, blank=True, help_text="Given when issued.")
    financial_year = models.PositiveSmallIntegerField(null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    status = FSMField(default=InvoiceStatus.DRAFT, choices=InvoiceStatus.choices, protected=True)
    sponsor = models.ForeignKey(
        "sponsors.Sponsor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    learner = models.ForeignKey(
        "learners.Learner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recipient_name = models.CharField(max_length=200, blank=True)
    recipient_email = models.EmailField(blank=True)
    recipient_address = models.TextField(blank=True)
    recipient_tax_number = models.CharField(max_length=40, blank=True)
    credited_invoice = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_notes",
        help_text="The invoice a credit note credits.",
    )
    currency = currency_field()
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, default=15)
    issued_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    subtotal = money_field(default=0)
    vat_amount = money_field(default=0)
    total = money_field(default=0)
    amount_paid = money_field(default=0, help_text="Allocated from payments.")
    amount_credited = money_field(default=0, help_text="Credited by issued credit notes.")
    reference = models.CharField(
        max_length=100, blank=True, help_text="The recipient's order number, if they gave one."
    )
    notes = models.TextField(blank=True, help_text="Printed on the invoice.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    pdf = models.FileField(upload_to="finance/invoices/", blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(sponsor__isnull=False, learner__isnull=True, partner__isnull=True)
                    | models.Q(sponsor__isnull=True, learner__isnull=False, partner__isnull=True)
                    | models.Q(sponsor__isnull=True, learner__isnull=True, partner__isnull=False)
                ),
                name="invoice_one_recipient",
            ),
            models.UniqueConstraint(
                fields=["number"], condition=~models.Q(number=""), name="invoice_number_unique"
            ),
            models.UniqueConstraint(
                fields=["kind", "financial_year", "sequence"],
                condition=models.Q(sequence__isnull=False),
                name="invoice_sequence_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft", number="")
                | (~models.Q(status="draft") & ~models.Q(number="")),
                name="invoice_numbered_once_issued",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="invoice", credited_invoice__isnull=True)
                | models.Q(kind="credit_note", credited_invoice__isnull=False),
                name="invoice_credit_note_credits_an_invoice",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_on"], name="finance_invoice_open_idx"),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft {self.get_kind_display().lower()} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("finance:invoice", args=[self.pk])

    @property
    def balance(self):
        """What is still owed: the total less payments and credit notes."""
        return self.total - self.amount_paid - self.amount_credited

    @transition(field=status, source=InvoiceStatus.DRAFT, target=InvoiceStatus.ISSUED)
    def issue(self) -> None:
        """Numbered, totalled and fixed by finance.services.invoices.invoice_issue."""

    @transition(
        field=status,
        source=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID],
        target=InvoiceStatus.ISSUED,
    )
    def mark_unpaid(self) -> None:
        """Nothing paid any more (an allocation undone, a payment refunded)."""

    @transition(
        field=status,
        source=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID],
        target=InvoiceStatus.PARTIALLY_PAID,
    )
    def mark_partially_paid(self) -> None:
        """Something paid or credited, not all."""

    @transition(
        field=status,
        source=[InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID],
        target=InvoiceStatus.PAID,
    )
    def mark_paid(self) -> None:
        """Settled in full by payments and credit notes."""

    @transition(field=status, source=InvoiceStatus.ISSUED, target=InvoiceStatus.VOID)
    def void(self) -> None:
        """Cancelled before anything was paid or credited; its number stays used."""


class InvoiceLine(models.Model):
    """One line of an invoice or credit note. A fee's line names the course enrolment it bills,
    so that what a learner or sponsor still owes can be worked out."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=1,
        validators=[MinValueValidator(0, "The quantity cannot be negative.")],
    )
    unit_price = money_field(validators=[MinValueValidator(0, "Give a price of 0 or more.")])
    vat_applies = models.BooleanField("VAT applies", default=True)
    amount = money_field(default=0, help_text="Quantity × unit price, in whole cents.")
    course_enrollment = models.ForeignKey(
        "delivery.CourseEnrollment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The learner's place whose fee this line bills.",
    )

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.description


# --- Payments --------------------------------------------------------------------------------


class PaymentDirection(models.TextChoices):
    RECEIVED = "received", "Received"
    PAID_OUT = "paid_out", "Paid out"


class PaymentPurpose(models.TextChoices):
    INVOICE = "invoice", "Payment of invoices"
    COMMISSION = "commission", "Commission payout"
    STIPEND = "stipend", "Stipend"
    GRANT = "grant", "Grant tranche"
    REFUND = "refund", "Refund"


class PaymentStatus(models.TextChoices):
    """Seed 001 PaymentStatus."""

    PENDING = "pending", "Pending"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"


class Payment(ConcurrentTransitionMixin, models.Model):
    """Money received (from a sponsor, a learner or a partner; or a SETA's grant tranche) or
    paid out (a commission, a stipend, a refund). A received payment is allocated to one or
    more invoices; what is not allocated stays on it as the payer's credit."""

    direction = models.CharField(max_length=10, choices=PaymentDirection.choices)
    purpose = models.CharField(max_length=20, choices=PaymentPurpose.choices)
    status = FSMField(
        default=PaymentStatus.COMPLETED, choices=PaymentStatus.choices, protected=True
    )
    sponsor = models.ForeignKey(
        "sponsors.Sponsor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    learner = models.ForeignKey(
        "learners.Learner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    partner = models.ForeignKey(
        "partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    counterparty = models.CharField(
        max_length=200, blank=True, help_text="Who paid or was paid, when not one of the above."
    )
    amount = money_field(validators=[MinValueValidator(0.01, "Give an amount above zero.")])
    currency = currency_field()
    method = models.CharField(max_length=20, choices=PaymentMethod.choices, default="eft")
    reference = models.CharField(max_length=100, blank=True)
    paid_on = models.DateField()
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-paid_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_positive"),
            models.CheckConstraint(
                condition=(
                    models.Q(sponsor__isnull=True, learner__isnull=True)
                    | models.Q(sponsor__isnull=True, partner__isnull=True)
                    | models.Q(learner__isnull=True, partner__isnull=True)
                ),
                name="payment_at_most_one_party",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.currency} {self.amount} ({self.paid_on})"

    def get_absolute_url(self) -> str:
        return reverse("finance:payment", args=[self.pk])

    @transition(field=status, source=PaymentStatus.PENDING, target=PaymentStatus.COMPLETED)
    def complete(self) -> None:
        """The money arrived (or left)."""

    @transition(field=status, source=PaymentStatus.PENDING, target=PaymentStatus.FAILED)
    def fail(self) -> None:
        """It never went through; its allocations are undone."""

    @transition(field=status, source=PaymentStatus.COMPLETED, target=PaymentStatus.REFUNDED)
    def refund(self) -> None:
        """Given back; its allocations are undone."""


class PaymentAllocation(models.Model):
    """Part of a received payment set against one invoice."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = money_field()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="payment_allocation_positive"
            ),
            models.UniqueConstraint(
                fields=["payment", "invoice"], name="payment_allocation_once_per_invoice"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of payment {self.payment_id} to invoice {self.invoice_id}"


class BankStatementImport(models.Model):
    """A bank statement (CSV) a finance user uploaded; its credit lines are matched to invoices
    by reference, the rest left for a person."""

    file_name = models.CharField(max_length=255)
    file_digest = models.CharField(
        max_length=64, help_text="SHA-256 of the file, so the same statement is not taken twice."
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    debits_skipped = models.PositiveIntegerField(
        default=0, help_text="Money going out on the statement: not matched, only counted."
    )

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["file_digest"], name="bank_statement_once")]

    def __str__(self) -> str:
        return self.file_name


class StatementLineStatus(models.TextChoices):
    MATCHED = "matched", "Matched"
    UNMATCHED = "unmatched", "Needs a person"
    RESOLVED = "resolved", "Matched by hand"
    IGNORED = "ignored", "Ignored"


class BankStatementLine(models.Model):
    statement = models.ForeignKey(
        BankStatementImport, on_delete=models.CASCADE, related_name="lines"
    )
    row_number = models.PositiveIntegerField()
    posted_on = models.DateField()
    description = models.CharField(max_length=300, blank=True)
    reference = models.CharField(max_length=200, blank=True)
    amount = money_field()
    status = models.CharField(
        max_length=10, choices=StatementLineStatus.choices, default=StatementLineStatus.UNMATCHED
    )
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="statement_line"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    ignore_reason = models.TextField(blank=True, help_text="Why the line was set aside.")

    class Meta:
        ordering = ["statement", "row_number"]
        indexes = [models.Index(fields=["status"], name="finance_stmtline_status_idx")]

    def __str__(self) -> str:
        return f"{self.posted_on} {self.amount} {self.reference}"


# --- Commissions -----------------------------------------------------------------------------


class CommissionStatus(models.TextChoices):
    ACCRUED = "accrued", "Owed"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"


class Commission(models.Model):
    """What a partner earned by its rule, accrued when the placement was confirmed or the
    enrolment started; paid by a payout (a Payment paid out)."""

    partner = models.ForeignKey(
        "partners.Partner", on_delete=models.PROTECT, related_name="commissions"
    )
    learner = models.ForeignKey("learners.Learner", on_delete=models.PROTECT, related_name="+")
    placement = models.ForeignKey(
        "placements.Placement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    enrollment = models.ForeignKey(
        "enrolments.CohortEnrollment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    basis = models.CharField(
        max_length=200, help_text="How it was worked out, e.g. 10% of R4 500,00."
    )
    amount = money_field()
    currency = currency_field()
    accrued_on = models.DateField()
    status = models.CharField(
        max_length=10, choices=CommissionStatus.choices, default=CommissionStatus.ACCRUED
    )
    payout = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="commissions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-accrued_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(placement__isnull=False, enrollment__isnull=True)
                | models.Q(placement__isnull=True, enrollment__isnull=False),
                name="commission_one_source",
            ),
            models.UniqueConstraint(
                fields=["partner", "placement"],
                condition=models.Q(placement__isnull=False),
                name="commission_once_per_placement",
            ),
            models.UniqueConstraint(
                fields=["partner", "enrollment"],
                condition=models.Q(enrollment__isnull=False),
                name="commission_once_per_enrolment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} {self.currency} {self.amount} ({self.accrued_on})"


# --- Stipends --------------------------------------------------------------------------------


class StipendPayer(models.TextChoices):
    INSTITUTION = "institution", "The institution"
    SPONSOR = "sponsor", "The sponsor"


class StipendRate(models.Model):
    """A monthly allowance: for every learner of a programme, or for one learner (which wins
    over the programme's), from a month on."""

    programme = models.ForeignKey(
        "academics.Programme", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    learner = models.ForeignKey(
        "learners.Learner", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    monthly_amount = money_field(validators=[MinValueValidator(0, "Give 0 or more.")])
    currency = currency_field()
    paid_through = models.CharField(
        max_length=20, choices=StipendPayer.choices, default=StipendPayer.INSTITUTION
    )
    starts_on = models.DateField(help_text="The first month it applies to.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(programme__isnull=False, learner__isnull=True)
                | models.Q(programme__isnull=True, learner__isnull=False),
                name="stipend_rate_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.monthly_amount} a month from {self.starts_on:%B %Y}"


class StipendRunStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"


class StipendRun(ConcurrentTransitionMixin, models.Model):
    """One month's stipends: who is due how much, prepared by one finance user and approved by
    another before the bank file is made and the payments recorded."""

    month = models.DateField(help_text="The first day of the month it pays.")
    status = FSMField(
        default=StipendRunStatus.DRAFT, choices=StipendRunStatus.choices, protected=True
    )
    currency = currency_field()
    total = money_field(default=0)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    prepared_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    exported_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-month", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["month"],
                condition=~models.Q(status="cancelled"),
                name="stipend_run_one_per_month",
            ),
        ]

    def __str__(self) -> str:
        return f"Stipends for {self.month:%B %Y}"

    def get_absolute_url(self) -> str:
        return reverse("finance:stipend_run", args=[self.pk])

    @transition(field=status, source=StipendRunStatus.DRAFT, target=StipendRunStatus.APPROVED)
    def approve(self) -> None:
        """A second finance user checked it."""

    @transition(field=status, source=StipendRunStatus.APPROVED, target=StipendRunStatus.PAID)
    def mark_paid(self) -> None:
        """The bank paid it; each line is recorded as a payment."""

    @transition(
        field=status,
        source=[StipendRunStatus.DRAFT, StipendRunStatus.APPROVED],
        target=StipendRunStatus.CANCELLED,
    )
    def cancel(self) -> None:
        """Not paid; the month may be run again."""


class StipendLine(models.Model):
    run = models.ForeignKey(StipendRun, on_delete=models.CASCADE, related_name="lines")
    learner = models.ForeignKey("learners.Learner", on_delete=models.PROTECT, related_name="+")
    cohort = models.ForeignKey("cohorts.Cohort", on_delete=models.PROTECT, related_name="+")
    paid_through = models.CharField(max_length=20, choices=StipendPayer.choices)
    base_amount = money_field()
    deductions = money_field(default=0)
    amount = money_field(help_text="The base amount less the deductions, never below 0.")
    payment = models.OneToOneField(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="stipend_line"
    )

    class Meta:
        ordering = ["run", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "learner"], name="stipend_line_once"),
        ]

    def __str__(self) -> str:
        return f"Stipend of learner {self.learner_id} in run {self.run_id}"


class StipendDeduction(models.Model):
    """One deduction from a stipend line, with why: an unexcused absence from a session."""

    line = models.ForeignKey(StipendLine, on_delete=models.CASCADE, related_name="deduction_items")
    attendance = models.ForeignKey(
        "delivery.AttendanceRecord", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    description = models.CharField(max_length=300)
    amount = money_field()

    class Meta:
        ordering = ["line", "pk"]

    def __str__(self) -> str:
        return self.description


# --- SETA grant claims ---------------------------------------------------------------------


class GrantMilestone(models.TextChoices):
    REGISTRATION = "registration", "Registration"
    MIDPOINT = "midpoint", "Mid-point"
    COMPLETION = "completion", "Completion"


class GrantAgreement(models.Model):
    """A SETA discretionary grant for a cohort: what it pays per learner at each milestone."""

    cohort = models.ForeignKey("cohorts.Cohort", on_delete=models.PROTECT, related_name="+")
    seta = models.CharField("SETA", max_length=100)
    reference = models.CharField(max_length=100, help_text="The SETA's grant agreement number.")
    registration_amount = money_field(default=0, validators=[MinValueValidator(0)])
    midpoint_amount = money_field("Mid-point amount", default=0, validators=[MinValueValidator(0)])
    completion_amount = money_field(default=0, validators=[MinValueValidator(0)])
    currency = currency_field()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["seta", "reference"], name="grant_agreement_unique")
        ]

    def __str__(self) -> str:
        return f"{self.seta} {self.reference}"

    def get_absolute_url(self) -> str:
        return reverse("finance:grant", args=[self.pk])


class GrantClaimStatus(models.TextChoices):
    DUE = "due", "Due"
    SUBMITTED = "submitted", "Submitted"
    PAID = "paid", "Paid"
    REJECTED = "rejected", "Rejected"


class GrantClaim(ConcurrentTransitionMixin, models.Model):
    """One tranche for one learner: due once the learner reaches the milestone, submitted to
    the SETA with its evidence, paid (with the payment received) or rejected."""

    agreement = models.ForeignKey(GrantAgreement, on_delete=models.CASCADE, related_name="claims")
    learner = models.ForeignKey("learners.Learner", on_delete=models.PROTECT, related_name="+")
    milestone = models.CharField(max_length=20, choices=GrantMilestone.choices)
    amount = money_field()
    status = FSMField(
        default=GrantClaimStatus.DUE, choices=GrantClaimStatus.choices, protected=True
    )
    due_on = models.DateField()
    submitted_on = models.DateField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="grant_claims"
    )
    rejection_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["agreement", "learner", "milestone"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "learner", "milestone"], name="grant_claim_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_milestone_display()} claim for learner {self.learner_id}"

    @transition(field=status, source=GrantClaimStatus.DUE, target=GrantClaimStatus.SUBMITTED)
    def submit(self) -> None:
        """Sent to the SETA with its evidence."""

    @transition(field=status, source=GrantClaimStatus.SUBMITTED, target=GrantClaimStatus.PAID)
    def mark_paid(self) -> None:
        """The SETA paid the tranche."""

    @transition(field=status, source=GrantClaimStatus.SUBMITTED, target=GrantClaimStatus.REJECTED)
    def reject(self) -> None:
        """The SETA turned it down."""

    @transition(field=status, source=GrantClaimStatus.REJECTED, target=GrantClaimStatus.SUBMITTED)
    def resubmit(self) -> None:
        """Sent again, with the evidence put right."""
