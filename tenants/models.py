from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_public_schema_name

from tenants.zones import DEFAULT_TIME_ZONE, time_zone_validate

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
    time_zone = models.CharField(
        max_length=64,
        default=DEFAULT_TIME_ZONE,
        validators=[time_zone_validate],
        help_text="The zone in which the institution's pages, e-mails and signed documents give "
        "times, each labelled with it (e.g. 14:05 SAST).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Provisioning clones the template schema itself (tenants.services), so saving a new row
    # must not create or migrate a schema on its own.
    auto_create_schema = False
    auto_drop_schema = False

    objects = InstitutionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [
            (
                "manage_institution",
                "Change the institution's name, logo, contact details and settings.",
            ),
        ]

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


class ProvisioningRequestStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Being created"
    DONE = "done", "Created"
    FAILED = "failed", "Failed"
    DISMISSED = "dismissed", "Dismissed"


PROVISIONING_IN_PROGRESS = (ProvisioningRequestStatus.QUEUED, ProvisioningRequestStatus.RUNNING)


class ProvisioningRequest(models.Model):
    """An operator's request to create an institution, from the form to the institution being
    there (tenants.provisioning). The row is its task's outbox: `dispatched_at` says the broker
    took the task, `lease_expires_at` that a worker holds the request, `attempts` counts the
    workers that took it, so that a sweep can queue a lost task again, take back a dead
    worker's request and give up, with an `error` for the operator, on one that keeps dying.

    The super admin's address and name are personal data in the platform's own schema: they
    are kept while the request may still run (the task needs them, and they tell its own
    half-done institution from another one with the same code) and while it has failed (so that
    it can be tried again), and cleared once it is done or dismissed; the institution and its
    super admin's account hold them from then on."""

    PERSONAL_FIELDS = frozenset({"admin_email", "admin_name"})

    name = models.CharField(max_length=200)
    code = models.SlugField(max_length=40)
    admin_email = models.EmailField(blank=True)
    admin_name = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10,
        choices=ProvisioningRequestStatus.choices,
        default=ProvisioningRequestStatus.QUEUED,
    )
    error = models.TextField(blank=True, help_text="Why the institution was not created.")
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Workers that have started this request."
    )
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When its task was last handed to the broker."
    )
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Until when the worker running it holds it."
    )
    institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            # One request at a time per code: two would race for the same institution.
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(status__in=["queued", "running"]),
                name="provisioning_request_code_in_progress",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status"],
                name="tenants_provreq_open_idx",
                condition=models.Q(status__in=["queued", "running", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.status})"

    @property
    def is_in_progress(self) -> bool:
        return self.status in PROVISIONING_IN_PROGRESS
