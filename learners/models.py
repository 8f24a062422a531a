from django.conf import settings
from django.db import models
from django.urls import reverse
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from learners.choices import Disability, Gender, HomeLanguage, Qualification, Race

# The profile fields a learner's details form writes (learners.forms.LearnerDetailsForm).
LEARNER_DETAIL_FIELDS = (
    "date_of_birth",
    "gender",
    "race",
    "disability",
    "citizenship",
    "home_language",
    "highest_qualification",
    "phone_number",
    "address_line1",
    "address_line2",
    "city",
    "province",
    "postal_code",
    "country",
)


class LearnerStatus(models.TextChoices):
    CANDIDATE = "candidate", "Candidate"
    ACTIVE = "active", "Active"
    ALUMNI = "alumni", "Alumni"
    ARCHIVED = "archived", "Archived"


class IdentityType(models.TextChoices):
    SA_ID = "sa_id", "South African ID number"
    PASSPORT = "passport", "Passport"


class Learner(ConcurrentTransitionMixin, models.Model):
    """One person who studies, or is a candidate, at the institution, with or without an
    account yet: what is about the person, kept once however many cohorts they join (seed 001
    candidates, 002 trainees, 004 users). An enrolment points here and keeps only what is about
    that enrolment.

    The national ID (or passport) number is never stored in clear: `national_id_encrypted` holds
    it under the institution's data key, `national_id_hash` (a keyed hash) makes it unique and
    findable, `national_id_last4` is what pages show. Written only by learners.services."""

    # Audit events record that these changed, never their values (audit.services).
    PERSONAL_FIELDS = frozenset(
        {
            "first_name",
            "last_name",
            "email",
            "phone_number",
            "date_of_birth",
            "gender",
            "race",
            "disability",
            "home_language",
            "highest_qualification",
            "citizenship",
            "address_line1",
            "address_line2",
            "city",
            "province",
            "postal_code",
            "country",
            "national_id_type",
            "national_id_country",
            "national_id_encrypted",
            "national_id_hash",
            "national_id_last4",
        }
    )

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="learner",
        help_text="The learner's account, once they have one.",
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField("e-mail address", blank=True)
    phone_number = models.CharField(max_length=20, blank=True)

    national_id_type = models.CharField(max_length=10, choices=IdentityType.choices, blank=True)
    national_id_country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166 country code of the issuing country."
    )
    national_id_encrypted = models.BinaryField(null=True, blank=True, editable=False)
    national_id_hash = models.CharField(max_length=64, blank=True, editable=False)
    national_id_last4 = models.CharField(max_length=4, blank=True, editable=False)

    date_of_birth = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    race = models.CharField("population group", max_length=20, choices=Race.choices, blank=True)
    disability = models.CharField(max_length=20, choices=Disability.choices, blank=True)
    citizenship = models.CharField(
        max_length=10, blank=True, help_text="From a South African ID number: citizen or resident."
    )
    home_language = models.CharField(max_length=20, choices=HomeLanguage.choices, blank=True)
    highest_qualification = models.CharField(
        max_length=20, choices=Qualification.choices, blank=True
    )

    address_line1 = models.CharField("address line 1", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField("city or town", max_length=100, blank=True)
    province = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, default="ZA")

    consent_flags = models.JSONField(
        default=dict,
        blank=True,
        help_text="Each consent's current answer: given or not, its wording's version, when "
        "(its history is in LearnerConsent).",
    )
    status = FSMField(
        default=LearnerStatus.CANDIDATE, choices=LearnerStatus.choices, protected=True
    )
    details_completed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the learner last confirmed their details."
    )
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the learner's personal data was irreversibly replaced under the "
        "institution's retention rules; what reports need (year-of-birth band, gender, "
        "population group, disability, results) is kept.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["national_id_hash"],
                condition=~models.Q(national_id_hash=""),
                name="learner_national_id_unique",
            )
        ]
        indexes = [
            models.Index(fields=["national_id_last4"]),
            models.Index(fields=["status"]),
            models.Index(fields=["email"]),
        ]
        permissions = [
            ("view_learners", "See the learners list and each learner's page."),
            ("manage_learners", "Register learners and change their details and consents."),
            (
                "view_national_id",
                "See a learner's full ID or passport number on request (each look is audited).",
            ),
            ("merge_learners", "Merge two learner records that are the same person."),
        ]

    def __str__(self) -> str:
        return self.full_name

    def get_absolute_url(self) -> str:
        return reverse("learners:detail", args=[self.pk])

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def is_anonymised(self) -> bool:
        return self.anonymised_at is not None

    @property
    def national_id_masked(self) -> str:
        """What pages show: the last four digits, or nothing when no number is known."""
        return f"•••• {self.national_id_last4}" if self.national_id_last4 else ""

    @transition(field=status, source=LearnerStatus.CANDIDATE, target=LearnerStatus.ACTIVE)
    def activate(self) -> None:
        """The learner started an enrolment."""

    @transition(field=status, source=LearnerStatus.ACTIVE, target=LearnerStatus.ALUMNI)
    def graduate(self) -> None:
        """The learner has no open enrolment left and completed one."""

    @transition(
        field=status,
        source=[LearnerStatus.CANDIDATE, LearnerStatus.ACTIVE, LearnerStatus.ALUMNI],
        target=LearnerStatus.ARCHIVED,
    )
    def archive(self) -> None:
        """An admin puts the record away (e.g. the surviving side of a merge's other record)."""


class ConsentKind(models.TextChoices):
    DATA_PROCESSING = "data_processing", "Processing my personal information"
    SPONSOR_SHARING = "sponsor_sharing", "Sharing my details with my sponsor"
    FUNDING_BODY_SHARING = (
        "funding_body_sharing",
        "Sharing my details with the funding body and the training gateway",
    )


class ConsentMethod(models.TextChoices):
    PORTAL = "portal", "In the portal"
    ADMIN = "admin", "Recorded by an admin (on paper)"
    IMPORT = "import", "From an import"
    MIGRATION = "migration", "Carried over"


class LearnerConsent(models.Model):
    """One answer to one consent, kept forever: `Learner.consent_flags` is the latest of each
    kind, these rows are its history (when, how, and to which wording)."""

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=30, choices=ConsentKind.choices)
    wording_version = models.CharField(max_length=20)
    given = models.BooleanField()
    method = models.CharField(max_length=20, choices=ConsentMethod.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["learner", "kind", "-recorded_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {'given' if self.given else 'withdrawn'}"


class KeyPurpose(models.TextChoices):
    ENCRYPTION = "encryption", "Encrypts ID numbers"
    LOOKUP = "lookup", "Keys the ID numbers' hashes"


class DataKey(models.Model):
    """One of the institution's own keys, stored wrapped (encrypted) by a master key from the
    environment (learners.keys). It lives in the institution's schema so that an export of the
    schema carries it, and destroying it makes what it encrypted unreadable."""

    purpose = models.CharField(max_length=12, choices=KeyPurpose.choices)
    version = models.PositiveIntegerField()
    wrapped_key = models.BinaryField()
    master_fingerprint = models.CharField(
        max_length=16, help_text="Which master key wrapped it (the start of its SHA-256)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["purpose", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "version"], name="data_key_unique_version")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} key v{self.version}"
