from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_public_schema_name

hex_colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", "Enter a colour as # followed by six hexadecimal digits, e.g. #1f6feb."
)


class InstitutionQuerySet(models.QuerySet):
    def institutions(self) -> "InstitutionQuerySet":
        """Real institutions, without the platform's own public-schema row."""
        return self.exclude(schema_name=get_public_schema_name())


class Institution(TenantMixin):
    """A training institution: the tenant. Its people, cohorts and files live in its schema."""

    # Often the founder's own address and phone (audit.services).
    PERSONAL_FIELDS = frozenset({"contact_email", "contact_phone"})

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    name = models.CharField(max_length=200)
    code = models.SlugField(
        max_length=40, unique=True, help_text="The subdomain: acme gives acme.<platform domain>."
    )
    registration_number = models.CharField(max_length=100, blank=True)
    address = models.TextField(blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=30, blank=True)
    settings = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    logo = models.ImageField(upload_to="branding/", blank=True)
    brand_colour = models.CharField(
        max_length=7, default="#1f5f8b", validators=[hex_colour_validator]
    )
    signing_link_days = models.PositiveSmallIntegerField(
        "Signing links last (days)",
        default=14,
        validators=[
            MinValueValidator(1, "A signing link must last at least 1 day."),
            MaxValueValidator(90, "A signing link may last at most 90 days."),
        ],
        help_text="How long an e-mailed signing link works, from 1 to 90 days. A change applies "
        "to links sent afterwards; a signer whose link has expired can ask for a new one.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Provisioning clones the template schema itself (tenants.services), so saving a new row
    # must not create or migrate a schema on its own.
    auto_create_schema = False
    auto_drop_schema = False

    objects = InstitutionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_suspended(self) -> bool:
        return self.status == self.Status.SUSPENDED


class Domain(DomainMixin):
    """A host name that routes to an institution (django-tenants)."""


class InstitutionDirectoryEntry(models.Model):
    """Which institutions hold an account for an e-mail address, kept by the accounts services
    so that "find my institution" never has to query every institution's schema. Only a hash of
    the address is stored."""

    email_hash = models.CharField(max_length=64, db_index=True)
    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="directory_entries"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["email_hash", "institution"], name="directory_entry_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.email_hash[:12]}… at {self.institution_id}"
