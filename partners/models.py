"""Partners (seed 001 `agents`, `brokers`): recruiting agents, who bring candidates, and brokers,
who place them with employers; the learners each brought; their contacts' accounts; and bank
details, kept encrypted and changed only when a second person confirms (partners.bank).

One model for both kinds: they hold the same facts and differ only in what earns commission.
Written only by partners.services; pages read through partners.selectors."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from academics.models import CURRENCY_CODE

PARTNER_CODE = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{0,19}$",
    "Give a code of capital letters, digits and hyphens (at most 20), e.g. AG-001.",
)


class PartnerKind(models.TextChoices):
    AGENT = "agent", "Agent"
    BROKER = "broker", "Broker"


class PaymentMethod(models.TextChoices):
    EFT = "eft", "Bank transfer (EFT)"
    DEBIT_ORDER = "debit_order", "Debit order"
    CARD = "card", "Card"
    CASH = "cash", "Cash"
    OTHER = "other", "Other"


class CommissionTrigger(models.TextChoices):
    """What earns a partner commission."""

    NONE = "none", "No commission"
    ENROLMENT = "enrolment", "Each enrolment that starts"
    PLACEMENT = "placement", "Each placement confirmed"


class CommissionBasis(models.TextChoices):
    PERCENT_OF_FEE = "percent_of_fee", "A percentage of the learner's fee"
    FIXED = "fixed", "A fixed amount"


class Partner(models.Model):
    """An agent or a broker, with its payment terms and commission rule."""

    PERSONAL_FIELDS = frozenset({"contact_name", "email", "phone"})

    kind = models.CharField(max_length=10, choices=PartnerKind.choices)
    name = models.CharField(max_length=200)
    code = models.CharField(
        max_length=20,
        unique=True,
        validators=[PARTNER_CODE],
        help_text="Unique in the institution; quoted on statements and payouts.",
    )
    contact_name = models.CharField("Contact person", max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    address = models.TextField(blank=True)
    tax_number = models.CharField("Tax number", max_length=40, blank=True)
    vat_number = models.CharField("VAT number", max_length=40, blank=True)
    payment_terms_days = models.PositiveSmallIntegerField(
        "Payment terms (days)",
        default=30,
        validators=[MaxValueValidator(365, "Payment terms can be at most 365 days.")],
        help_text="Days after a statement that its commission is paid.",
    )
    payment_method = models.CharField(
        max_length=20, choices=PaymentMethod.choices, default=PaymentMethod.EFT
    )
    commission_trigger = models.CharField(
        max_length=20, choices=CommissionTrigger.choices, default=CommissionTrigger.NONE
    )
    commission_basis = models.CharField(
        max_length=20, choices=CommissionBasis.choices, default=CommissionBasis.FIXED
    )
    commission_value = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0, "Commission cannot be negative.")],
        help_text="The percentage (0–100) or the fixed amount, as the basis says.",
    )
    currency = models.CharField(max_length=3, default="ZAR", validators=[CURRENCY_CODE])
    is_active = models.BooleanField(
        default=True, help_text="Untick when the institution stops working with them."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(commission_basis="percent_of_fee")
                | models.Q(commission_value__lte=100),
                name="partner_commission_percent_at_most_100",
            ),
            models.CheckConstraint(
                condition=models.Q(commission_value__gte=0),
                name="partner_commission_not_negative",
            ),
        ]
        permissions = [
            (
                "manage_partners",
                "Add and edit agents and brokers, their terms and bank details, and who they "
                "brought.",
            ),
            ("view_partners", "See agents and brokers and who they brought."),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def get_absolute_url(self) -> str:
        return reverse("partners:detail", args=[self.pk])


class PartnerContact(models.Model):
    """A person who speaks for a partner with an account (the Agent or Broker role): they see
    the partner's own candidates' progress and its statements, nothing else."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="contacts")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_contact"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner", "pk"]

    def __str__(self) -> str:
        return f"{self.user} for {self.partner}"


class LearnerIntroduction(models.Model):
    """Who brought a learner (seed 001 `candidates.agentId`, `brokerId`): the agent who
    recruited them and the broker who places them; either may be unknown."""

    learner = models.OneToOneField(
        "learners.Learner", on_delete=models.CASCADE, related_name="introduction"
    )
    agent = models.ForeignKey(
        Partner,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agent_introductions",
        limit_choices_to={"kind": PartnerKind.AGENT},
    )
    broker = models.ForeignKey(
        Partner,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="broker_introductions",
        limit_choices_to={"kind": PartnerKind.BROKER},
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Introduction of learner {self.learner_id}"


class BankAccountType(models.TextChoices):
    CURRENT = "current", "Current (cheque)"
    SAVINGS = "savings", "Savings"
    TRANSMISSION = "transmission", "Transmission"


class BankOwnerFields(models.Model):
    """Whose bank account: a partner's (commission payouts) or a learner's (stipends)."""

    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    learner = models.ForeignKey(
        "learners.Learner", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True


def _one_owner(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(partner__isnull=False, learner__isnull=True)
        | models.Q(partner__isnull=True, learner__isnull=False),
        name=name,
    )


class BankAccount(BankOwnerFields):
    """The confirmed bank account of a partner or a learner. The holder, bank, branch and
    account number are sealed together (partners.bank); only the bank's name and the last four
    digits are kept readable, for showing it masked."""

    bank_name = models.CharField(max_length=100)
    account_last4 = models.CharField(max_length=4)
    sealed = models.BinaryField(help_text="The encrypted details (partners.bank).")
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField()

    class Meta:
        constraints = [
            _one_owner("bank_account_one_owner"),
            models.UniqueConstraint(
                fields=["partner"],
                condition=models.Q(partner__isnull=False),
                name="bank_account_one_per_partner",
            ),
            models.UniqueConstraint(
                fields=["learner"],
                condition=models.Q(learner__isnull=False),
                name="bank_account_one_per_learner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bank_name} ••••{self.account_last4}"


class BankChangeStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a second person"
    CONFIRMED = "confirmed", "Confirmed"
    REJECTED = "rejected", "Rejected"


class BankAccountChange(BankOwnerFields):
    """New bank details asked for by one finance user, in force only once another confirms
    them: nobody alone can send a partner's or a learner's money elsewhere."""

    bank_name = models.CharField(max_length=100)
    account_last4 = models.CharField(max_length=4)
    sealed = models.BinaryField()
    status = models.CharField(
        max_length=10, choices=BankChangeStatus.choices, default=BankChangeStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            _one_owner("bank_change_one_owner"),
            models.UniqueConstraint(
                fields=["partner"],
                condition=models.Q(partner__isnull=False, status="pending"),
                name="bank_change_one_pending_per_partner",
            ),
            models.UniqueConstraint(
                fields=["learner"],
                condition=models.Q(learner__isnull=False, status="pending"),
                name="bank_change_one_pending_per_learner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bank_name} ••••{self.account_last4} ({self.status})"
