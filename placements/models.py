"""Host organisations (seed 003: schools, providers, and seed 001's host employers), what they
offer each academic year, learners' vetting and their placements (seed 001).

Written only by placements.services; pages read through placements.selectors."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from enrolments.models import ScanStatus


class GeocodeStatus(models.TextChoices):
    """Where a record's coordinates stand. Coordinates are entered or looked up from the address
    (placements.geocoding), never guessed: a failed lookup leaves none, and an address changed
    since its lookup marks the coordinates stale until the next lookup."""

    NONE = "", "No coordinates"
    ENTERED = "entered", "Entered by hand"
    IMPORTED = "imported", "Imported"
    PENDING = "pending", "Looking up the address"
    FOUND = "found", "Looked up from the address"
    STALE = "stale", "Address changed since the lookup"
    FAILED = "failed", "Address not found"


COORDINATE_FLAGS = (GeocodeStatus.STALE, GeocodeStatus.FAILED, GeocodeStatus.PENDING)

latitude_validators = [MinValueValidator(-90.0), MaxValueValidator(90.0)]
longitude_validators = [MinValueValidator(-180.0), MaxValueValidator(180.0)]


class Located(models.Model):
    """Coordinates and how they were got, for the distance search (placements.selectors.
    distance): both or neither."""

    latitude = models.FloatField(null=True, blank=True, validators=latitude_validators)
    longitude = models.FloatField(null=True, blank=True, validators=longitude_validators)
    geocode_status = models.CharField(
        "coordinates", max_length=10, choices=GeocodeStatus.choices, default="", blank=True
    )
    geocoded_at = models.DateTimeField(null=True, blank=True)
    geocode_error = models.CharField(max_length=300, blank=True)
    # SHA-256 of the address the coordinates were looked up from: a different address makes
    # them stale.
    geocoded_address_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def coordinates_flagged(self) -> bool:
        return self.geocode_status in COORDINATE_FLAGS


def _both_or_neither(prefix: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(latitude__isnull=True, longitude__isnull=True)
        | models.Q(latitude__isnull=False, longitude__isnull=False),
        name=f"{prefix}_coordinates_both_or_neither",
    )


class Organisation(Located):
    """A school, a training provider or an employer that hosts learners (seed 003 with seed 001's
    host employers). An organisation that also sponsors cohorts links its Sponsor."""

    name = models.CharField(max_length=200)
    urn = models.CharField(
        "URN", max_length=20, blank=True, help_text="Unique reference number (schools)."
    )
    ukprn = models.CharField("UKPRN", max_length=20, blank=True, help_text="Provider number.")
    code = models.CharField(
        max_length=40, blank=True, help_text="The register's code (e.g. an EMIS or GIAS code)."
    )
    email_address = models.EmailField("e-mail address", blank=True)
    phone = models.CharField(max_length=30, blank=True)
    school = models.BooleanField(default=False, help_text="A school.")
    provider = models.BooleanField(default=False, help_text="A training provider.")
    employer = models.BooleanField(default=False, help_text="An employer that hosts learners.")
    sponsor = models.OneToOneField(
        "sponsors.Sponsor",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="organisation",
        help_text="The sponsor this organisation is, when it also funds cohorts.",
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["urn"], condition=~models.Q(urn=""), name="organisation_urn_unique"
            ),
            models.UniqueConstraint(
                Lower("code"), condition=~models.Q(code=""), name="organisation_code_unique_ci"
            ),
            _both_or_neither("organisation"),
        ]
        indexes = [
            models.Index(fields=["latitude", "longitude"], name="organisation_lat_lon"),
            models.Index(Lower("name"), name="organisation_name_lower"),
        ]
        permissions = [
            (
                "manage_organisations",
                "Add, import and change host organisations, their contacts and members, and "
                "the placement subjects.",
            ),
            (
                "manage_placements",
                "Propose, confirm and end learners' placements, send urgent placement requests "
                "and match learners to places.",
            ),
            (
                "manage_vetting",
                "Record and review learners' vetting (identity, police clearance, medical, ...) "
                "and the vetting each programme requires.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("placements:organisation_detail", args=[self.pk])

    @property
    def kinds(self) -> list[str]:
        return [
            label
            for flag, label in (
                (self.school, "School"),
                (self.provider, "Provider"),
                (self.employer, "Employer"),
            )
            if flag
        ]


# The postal address's fields, in the order forms, imports and lookups take them.
ADDRESS_FIELDS = (
    "address_1",
    "address_2",
    "address_3",
    "town",
    "city",
    "county",
    "postcode",
    "country",
)


class OrganisationAddress(models.Model):
    """Seed 003's postal address, kept apart so that it can be looked up for coordinates."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="address"
    )
    address_1 = models.CharField("address line 1", max_length=200, blank=True)
    address_2 = models.CharField("address line 2", max_length=200, blank=True)
    address_3 = models.CharField("address line 3", max_length=200, blank=True)
    town = models.CharField(max_length=100, blank=True)
    city = models.CharField(max_length=100, blank=True)
    county = models.CharField("province or county", max_length=100, blank=True)
    postcode = models.CharField("postal code", max_length=20, blank=True)
    country = models.CharField(max_length=2, default="ZA", help_text="ISO 3166 country code.")

    def __str__(self) -> str:
        return self.one_line

    @property
    def lines(self) -> list[str]:
        parts = (
            self.address_1,
            self.address_2,
            self.address_3,
            self.town,
            self.city,
            self.county,
            self.postcode,
        )
        return [part for part in parts if part]

    @property
    def one_line(self) -> str:
        """The address as a geocoder reads it."""
        return ", ".join([*self.lines, self.country] if self.lines else [])


class OrganisationDetail(models.Model):
    """Seed 003's further details (GIAS data for a school, size and sector for an employer), as
    fields rather than free text."""

    class Phase(models.TextChoices):
        PRIMARY = "primary", "Primary"
        SECONDARY = "secondary", "Secondary"
        ALL_THROUGH = "all_through", "All-through"
        NOT_APPLICABLE = "not_applicable", "Not applicable"

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="detail"
    )
    phase = models.CharField(max_length=20, choices=Phase.choices, blank=True)
    pupil_count = models.PositiveIntegerField("number of pupils", null=True, blank=True)
    employee_count = models.PositiveIntegerField("number of employees", null=True, blank=True)
    sector = models.CharField(max_length=100, blank=True, help_text="E.g. Retail, Public sector.")
    website = models.URLField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Details of {self.organisation}"


class OrganisationContact(models.Model):
    """A named person at an organisation, e.g. its placement lead (seed 003); a placement's
    supervisor is one of them."""

    PERSONAL_FIELDS = frozenset({"first_name", "last_name", "email_address", "phone"})

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="contacts"
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=150, blank=True)
    email_address = models.EmailField("e-mail address", blank=True)
    phone = models.CharField(max_length=30, blank=True)
    role = models.CharField(max_length=100, blank=True, help_text="E.g. Placement lead, Mentor.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name", "pk"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class OrganisationMembership(models.Model):
    """A person who speaks for an organisation (seed 003 `UserOrganisation`). A person may belong
    to several; the one marked current (seed 003 `current_organisation`, kept here rather than
    on the user, so that accounts knows nothing of organisations) decides what their pages show,
    and stays current between sign-ins."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organisation_memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    is_current = models.BooleanField(default=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation"], name="organisation_membership_unique"
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_current=True),
                name="organisation_membership_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.organisation}"


class SubjectPhase(models.TextChoices):
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"


class PlacementSubject(models.Model):
    """Seed 003's subject tree (French within Modern foreign languages). The tree is kept
    acyclic by placements.services.subjects, which refuses a parent that would close a cycle."""

    name = models.CharField(max_length=100)
    code = models.CharField(max_length=20, unique=True, help_text="Short and unique, e.g. MATH.")
    phase = models.CharField(max_length=10, choices=SubjectPhase.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The broader subject it is part of.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["phase", "name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")), name="placement_subject_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_phase_display()})"


class Appetite(models.TextChoices):
    INTERESTED = "interested", "Interested"
    UNSURE = "unsure", "Unsure"
    NOT_INTERESTED = "not_interested", "Not interested"


class PlacementPreference(models.Model):
    """Whether and how an organisation offers placements in an academic year (seed 003).
    `placement_details` is JSON only behind the schema in placements.preferences (places per
    subject and phase, date windows, notes): nothing else is stored there."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="preferences"
    )
    academic_year = models.ForeignKey(
        "academics.AcademicYear", on_delete=models.PROTECT, related_name="placement_preferences"
    )
    appetite = models.CharField(max_length=20, choices=Appetite.choices)
    placement_details = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-academic_year__starts_on", "organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "academic_year"], name="placement_preference_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["academic_year", "appetite"], name="preference_year_appetite"),
            # The distance search's subject and phase filter: `placement_details @> {...}`.
            GinIndex(
                fields=["placement_details"],
                opclasses=["jsonb_path_ops"],
                name="preference_details_gin",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} in {self.academic_year}: {self.get_appetite_display()}"


class PreferenceReminder(models.Model):
    """A reminder sent to an organisation that has not answered for an academic year: the
    institution sees when it last asked."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    academic_year = models.ForeignKey("academics.AcademicYear", on_delete=models.CASCADE)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["academic_year", "organisation", "sent_at"])]

    def __str__(self) -> str:
        return f"Reminder to {self.organisation} about {self.academic_year}"


class LearnerLocation(Located):
    """Where a learner lives, as coordinates looked up from their address (or entered): the
    centre of a search for organisations near them. Kept here so that learners knows nothing of
    geocoding."""

    learner = models.OneToOneField(
        "learners.Learner", on_delete=models.CASCADE, related_name="location"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [_both_or_neither("learner_location")]

    def __str__(self) -> str:
        return f"Location of {self.learner}"


class VettingType(models.Model):
    """A check a learner may need before a placement (seed 001 vetting): identity, police
    clearance, medical, ..., and the institution's own."""

    name = models.CharField(max_length=100, unique=True)
    code = models.SlugField(max_length=40, unique=True)
    description = models.TextField(blank=True, help_text="What is checked and what proves it.")
    expires = models.BooleanField(
        default=False, help_text="Whether a clearance of this type has an expiry date."
    )
    validity_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="How long a clearance usually lasts: the expiry date offered when it is given.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProgrammeVettingRequirement(models.Model):
    """A vetting type every learner of a programme needs cleared before a placement."""

    programme = models.ForeignKey(
        "academics.Programme", on_delete=models.CASCADE, related_name="vetting_requirements"
    )
    vetting_type = models.ForeignKey(VettingType, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "vetting_type"], name="programme_vetting_requirement_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.programme} requires {self.vetting_type}"


class VettingStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    CLEARED = "cleared", "Cleared"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


OPEN_VETTING_STATUSES = (VettingStatus.PENDING, VettingStatus.IN_PROGRESS)


class VettingRecord(ConcurrentTransitionMixin, models.Model):
    """One check of one learner (seed 001 `vetting_records`). A renewal is a new record; at most
    one of a type is open at a time. Cleared records with an expiry date expire by themselves
    (placements.tasks), with a warning a month before."""

    learner = models.ForeignKey(
        "learners.Learner", on_delete=models.PROTECT, related_name="vetting_records"
    )
    vetting_type = models.ForeignKey(VettingType, on_delete=models.PROTECT, related_name="records")
    status = FSMField(default=VettingStatus.PENDING, choices=VettingStatus.choices, protected=True)
    reference = models.CharField(
        max_length=100, blank=True, help_text="The certificate's or check's own number."
    )
    expires_on = models.DateField(null=True, blank=True)
    reason = models.TextField(
        blank=True, help_text="Why it failed or expired, or the reviewer's notes."
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    expiry_warned_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "vetting_type"],
                condition=models.Q(status__in=OPEN_VETTING_STATUSES),
                name="vetting_one_open_per_type",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=VettingStatus.FAILED) | ~models.Q(reason=""),
                name="vetting_failed_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "expires_on"], name="vetting_status_expiry"),
            models.Index(fields=["learner", "vetting_type", "status"], name="vetting_learner"),
        ]

    def __str__(self) -> str:
        return f"{self.vetting_type} for {self.learner}"

    def get_absolute_url(self) -> str:
        return reverse("placements:vetting_detail", args=[self.pk])

    @transition(field=status, source=VettingStatus.PENDING, target=VettingStatus.IN_PROGRESS)
    def start(self) -> None:
        """The check has been asked for (e.g. the police clearance applied for)."""

    @transition(field=status, source=OPEN_VETTING_STATUSES, target=VettingStatus.CLEARED)
    def clear(self) -> None:
        """The reviewer found the evidence good."""

    @transition(field=status, source=OPEN_VETTING_STATUSES, target=VettingStatus.FAILED)
    def fail(self) -> None:
        """The check found something, or the evidence would not do; a reason is required."""

    @transition(field=status, source=VettingStatus.CLEARED, target=VettingStatus.EXPIRED)
    def expire(self) -> None:
        """Its expiry date passed (a beat task), or a reviewer withdrew the clearance."""


def vetting_evidence_path(instance: "VettingEvidence", filename: str) -> str:
    """A random name: the original name is kept only as data (DESIGN: uploads)."""
    import uuid

    return f"vetting/{instance.record_id}/{uuid.uuid4().hex}"


class VettingEvidence(models.Model):
    """A file that proves a vetting record (a clearance certificate, a medical report), checked
    and stored as students' documents are (enrolments.uploads) and never served publicly."""

    PERSONAL_FIELDS = frozenset({"original_name"})

    record = models.ForeignKey(VettingRecord, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=vetting_evidence_path, max_length=300)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    scan_status = models.CharField(
        max_length=12, choices=ScanStatus.choices, default=ScanStatus.NOT_SCANNED
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class PlacementStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    CONFIRMED = "confirmed", "Confirmed"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    TERMINATED = "terminated", "Terminated"
    CANCELLED = "cancelled", "Cancelled"


# The placements that take up one of an organisation's places.
PLACES_TAKEN_STATUSES = (
    PlacementStatus.CONFIRMED,
    PlacementStatus.ACTIVE,
    PlacementStatus.COMPLETED,
)
OPEN_PLACEMENT_STATUSES = (
    PlacementStatus.PROPOSED,
    PlacementStatus.CONFIRMED,
    PlacementStatus.ACTIVE,
)


class Placement(ConcurrentTransitionMixin, models.Model):
    """A learner placed at a host organisation (seed 001 `placements`). Confirming needs the
    learner cleared and one of the organisation's places for the subject and year free
    (placements.services.placements checks both under a lock); confirming is also when a
    partner's commission accrues (placements.signals.placement_confirmed)."""

    learner = models.ForeignKey(
        "learners.Learner", on_delete=models.PROTECT, related_name="placements"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="placements"
    )
    cohort = models.ForeignKey(
        "cohorts.Cohort",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="placements",
        help_text="The cohort whose workplace component it is.",
    )
    academic_year = models.ForeignKey(
        "academics.AcademicYear", on_delete=models.PROTECT, related_name="placements"
    )
    subject = models.ForeignKey(PlacementSubject, on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField()
    ends_on = models.DateField()
    supervisor = models.ForeignKey(
        OrganisationContact,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supervised_placements",
        help_text="The person at the organisation who looks after the learner.",
    )
    status = FSMField(
        default=PlacementStatus.PROPOSED, choices=PlacementStatus.choices, protected=True
    )
    urgent_request = models.ForeignKey(
        "UrgentPlacementRequest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="placements",
    )
    outcome_notes = models.TextField(blank=True)
    end_reason = models.TextField(
        blank=True, help_text="Why it was terminated, cancelled or declined."
    )
    declined_by_organisation = models.BooleanField(default=False)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="placement_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=PlacementStatus.TERMINATED) | ~models.Q(end_reason=""),
                name="placement_terminated_has_reason",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organisation", "academic_year", "subject", "status"],
                name="placement_capacity",
            ),
            models.Index(fields=["learner", "status"], name="placement_learner"),
            models.Index(fields=["cohort", "status"], name="placement_cohort"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} at {self.organisation}"

    def get_absolute_url(self) -> str:
        return reverse("placements:placement_detail", args=[self.pk])

    @transition(field=status, source=PlacementStatus.PROPOSED, target=PlacementStatus.CONFIRMED)
    def confirm(self) -> None:
        """The organisation (or an admin for it) agreed; the learner is cleared and a place is
        free (checked by the service under a lock)."""

    @transition(field=status, source=PlacementStatus.CONFIRMED, target=PlacementStatus.ACTIVE)
    def start(self) -> None:
        """The learner started at the organisation."""

    @transition(field=status, source=PlacementStatus.ACTIVE, target=PlacementStatus.COMPLETED)
    def complete(self) -> None:
        """The placement ran its course; outcome notes say how it went."""

    @transition(
        field=status,
        source=[PlacementStatus.CONFIRMED, PlacementStatus.ACTIVE],
        target=PlacementStatus.TERMINATED,
    )
    def terminate(self) -> None:
        """Ended early; a reason is required."""

    @transition(field=status, source=PlacementStatus.PROPOSED, target=PlacementStatus.CANCELLED)
    def cancel(self) -> None:
        """Withdrawn by the institution, or declined by the organisation, before it started."""


class UrgentRequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class UrgentPlacementRequest(models.Model):
    """An urgent need the institution broadcasts to interested or unsure organisations within a
    radius: a subject, a phase, dates and a number of places."""

    subject = models.ForeignKey(PlacementSubject, on_delete=models.PROTECT, related_name="+")
    phase = models.CharField(max_length=10, choices=SubjectPhase.choices)
    academic_year = models.ForeignKey(
        "academics.AcademicYear", on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    places = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    latitude = models.FloatField(validators=latitude_validators)
    longitude = models.FloatField(validators=longitude_validators)
    radius_km = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    centre_label = models.CharField(
        max_length=200, blank=True, help_text="What the centre is: a learner's home, a campus."
    )
    message = models.TextField(blank=True)
    status = models.CharField(
        max_length=10, choices=UrgentRequestStatus.choices, default=UrgentRequestStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="urgent_request_ends_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"Urgent: {self.places} × {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("placements:urgent_detail", args=[self.pk])


class UrgentAnswer(models.TextChoices):
    WAITING = "", "No answer yet"
    CAN_HOST = "can_host", "Can host"
    CANNOT_HOST = "cannot_host", "Cannot host"


class UrgentPlacementInvite(models.Model):
    """One organisation asked by an urgent request, and its answer."""

    request = models.ForeignKey(
        UrgentPlacementRequest, on_delete=models.CASCADE, related_name="invites"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="urgent_invites"
    )
    distance_km = models.FloatField()
    answer = models.CharField(max_length=12, choices=UrgentAnswer.choices, blank=True)
    places_offered = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["distance_km", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "organisation"], name="urgent_invite_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request} to {self.organisation}"
