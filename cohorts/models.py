from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from guardian.models import UserObjectPermissionBase


class FileKind(models.TextChoices):
    PDF = "pdf", "PDF"
    JPEG = "jpeg", "JPEG image"
    PNG = "png", "PNG image"


class DocumentType(models.Model):
    """A kind of document students may be asked for (ID, matric certificate, ...): the
    institution's catalogue, from which each cohort picks its required ones."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(
        blank=True, help_text="Shown to students and reviewers: what exactly is wanted."
    )
    accepted_kinds = ArrayField(
        models.CharField(max_length=10, choices=FileKind.choices),
        default=list,
        help_text="File types a student may upload, checked by content.",
    )
    max_size_mb = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    expires = models.BooleanField(
        default=False, help_text="Whether the document has an expiry date (e.g. a passport)."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProgramType(models.TextChoices):
    LEARNERSHIP = "learnership", "Learnership"
    INTERNSHIP = "internship", "Internship"
    CANDIDACY = "candidacy", "Candidacy"


MAX_EXPECTED_STUDENTS = 100_000


class CohortState(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


# A completed or cancelled cohort is over: nobody joins it, is invited to it, uploads, signs
# or reviews in it any more; its students keep what they have (Cohort.closed_check).
CLOSED_STATES = (CohortState.COMPLETED, CohortState.CANCELLED)
# The cohort list's filter choice that shows the archived cohorts, which every other choice
# leaves out (an archived cohort stays completed: archiving is not a state).
ARCHIVED = "archived"


class Cohort(ConcurrentTransitionMixin, models.Model):
    """A programme run for a group of students, from draft to completed (or cancelled).
    The state changes only through cohorts.services."""

    # The sponsor's notice address is a person's (audit.services).
    PERSONAL_FIELDS = frozenset({"sponsor_email"})

    name = models.CharField(max_length=200)
    program_type = models.CharField(max_length=20, choices=ProgramType.choices)
    sponsor_email = models.EmailField(blank=True, help_text="Where sponsor notices go.")
    student_count = models.PositiveIntegerField(
        "expected students",
        default=1,
        validators=[
            MinValueValidator(1, "A cohort expects at least 1 student."),
            MaxValueValidator(MAX_EXPECTED_STUDENTS, "A cohort expects at most 100,000 students."),
        ],
    )
    main_template = models.ForeignKey(
        "signing.AgreementTemplate",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="main agreement",
    )
    main_template_version = models.ForeignKey(
        "signing.TemplateVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version of the main agreement the institution signed: students and the "
        "sponsor sign the same text, whatever later edits of the template say.",
    )
    supporting_templates = models.ManyToManyField(
        "signing.AgreementTemplate", blank=True, related_name="+"
    )
    required_document_types = models.ManyToManyField(
        DocumentType, blank=True, related_name="cohorts", verbose_name="required documents"
    )
    fresh_document_types = models.ManyToManyField(
        DocumentType,
        blank=True,
        related_name="+",
        verbose_name="documents uploaded again",
        help_text="Of the required documents, those a student uploads for this cohort even "
        "when they have one verified in an earlier cohort.",
    )
    admin_signed_at = models.DateTimeField(null=True, blank=True)
    admin_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    start_date = models.DateField()
    end_date = models.DateField()
    state = FSMField(default=CohortState.DRAFT, choices=CohortState.choices, protected=True)
    cancellation_reason = models.TextField(blank=True)
    forced_completion_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the cohort was completed or cancelled."
    )
    archived_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the completed cohort was archived under the institution's retention "
        "rules: from then on it is read-only and out of the everyday lists, still in reports.",
    )
    responsible_admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="cohorts_responsible_for",
        verbose_name="responsible admins",
        help_text="The admins told of declines and decisions in this cohort, whose start "
        "pages show its work first. The creator, until someone changes it; never nobody.",
    )
    programme = models.ForeignKey(
        "academics.Programme",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cohorts",
        help_text="What the cohort studies: its courses become the cohort's course runs.",
    )
    sponsor = models.ForeignKey(
        "sponsors.Sponsor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cohorts",
    )

    class Meta:
        ordering = ["-start_date", "name"]
        indexes = [models.Index(fields=["state", "-start_date"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="cohort_ends_after_it_starts",
            )
        ]
        permissions = [
            (
                "manage_cohorts",
                "Create and edit cohorts and their document lists, sign and activate them, "
                "complete or cancel them, and choose who works in each one.",
            ),
            (
                "access_all_cohorts",
                "Work in every cohort; without this, a person works only in the cohorts they "
                "are given.",
            ),
            # Not for roles: given to a person on one cohort (an object grant, django-guardian).
            ("review_cohort", "Works in this cohort"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("cohorts:dashboard", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.state == CohortState.DRAFT

    @property
    def is_closed(self) -> bool:
        return self.state in CLOSED_STATES

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def closed_message(self, consequence: str) -> str:
        """Why something cannot be done in this closed cohort: "This cohort is completed; " and
        the `consequence` ("students can no longer join it"). An archived cohort says so."""
        if self.is_archived:
            return f"This cohort is archived and kept read-only; {consequence}."
        return f"This cohort is {self.get_state_display().lower()}; {consequence}."

    def archived_check(self) -> None:
        """Refuse (ValidationError, code "cohort_archived") any change to an archived cohort:
        it is kept as it was for the institution's records and reports."""
        if self.is_archived:
            raise ValidationError(
                "This cohort is archived under the institution's retention rules and is kept "
                "read-only: it can no longer be changed.",
                code="cohort_archived",
            )

    def closed_check(self, consequence: str) -> None:
        """Refuse (ValidationError, code "cohort_closed") what `consequence` names, once the
        cohort is closed: the one guard every service of a cohort's work uses."""
        if self.is_closed:
            raise ValidationError(self.closed_message(consequence), code="cohort_closed")

    # Guards: small predicates; the services explain a refusal using activation_blockers().
    def activation_blockers(self) -> list[str]:
        blockers = []
        if self.main_template_id is None:
            blockers.append("no main agreement template is chosen")
        if not self.required_document_types.exists():
            blockers.append("no required document is chosen")
        if self.admin_signed_at is None:
            blockers.append("the main agreement has not been signed by an admin")
        return blockers

    def can_archive(self) -> bool:
        return self.state == CohortState.COMPLETED and not self.is_archived

    def can_activate(self) -> bool:
        return not self.activation_blockers()

    # django-fsm-2 types a condition as taking any Model, not the model it belongs to.
    @transition(
        field=state,
        source=CohortState.DRAFT,
        target=CohortState.ACTIVE,
        conditions=[can_activate],  # type: ignore[list-item]
    )
    def activate(self) -> None:
        """Open the cohort: students can now be enrolled and invited."""

    @transition(field=state, source=CohortState.ACTIVE, target=CohortState.COMPLETED)
    def complete(self) -> None:
        """Close a finished cohort (the service checks every enrolment first)."""
        self.closed_at = timezone.now()

    @transition(
        field=state, source=[CohortState.DRAFT, CohortState.ACTIVE], target=CohortState.CANCELLED
    )
    def cancel(self) -> None:
        """Stop the cohort for good."""
        self.closed_at = timezone.now()


class CohortUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign key for per-cohort grants (a verifier limited to some cohorts)."""

    content_object = models.ForeignKey(Cohort, on_delete=models.CASCADE)


def student_import_path(instance: "StudentImport", filename: str) -> str:
    """A random name: the original name is kept only as data (DESIGN: uploads)."""
    import uuid

    return f"imports/{uuid.uuid4().hex}"


class StudentImportStatus(models.TextChoices):
    PARSING = "parsing", "Reading the file"
    PREVIEW = "preview", "Waiting for confirmation"
    IMPORTING = "importing", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# The steps a worker performs: the import is the outbox of its own task.
STUDENT_IMPORT_RUNNING = (StudentImportStatus.PARSING, StudentImportStatus.IMPORTING)


class StudentImport(models.Model):
    """One uploaded spreadsheet of students for a cohort, from upload through the preview to
    the import (cohorts.imports.uploads). `processed_rows` / `total_rows` drive the progress
    bar while a task reads or imports the file. The file and the valid rows (which hold special
    personal information) are discarded once the import is done.

    While a step runs (parsing, importing) the row is its task's outbox: `dispatched_at` is
    empty until the task has been handed to the broker, `lease_expires_at` is set while a
    worker holds the step (renewed as it goes) and `attempts` counts the workers that took it,
    so that a sweep can queue a lost task again or give up on one that keeps dying."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="student_imports")
    file = models.FileField(upload_to=student_import_path, max_length=300, blank=True)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    kind = models.CharField(max_length=10, help_text="csv or xlsx, from the file's content.")
    status = models.CharField(
        max_length=10, choices=StudentImportStatus.choices, default=StudentImportStatus.PARSING
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.JSONField(default=list, blank=True)
    row_errors = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, help_text="Why the whole file was refused, if it was.")
    result = models.JSONField(default=dict, blank=True, help_text="What the import created.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When the current step's task was last queued."
    )
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Until when the worker running the step holds it."
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Workers that have started the current step."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["cohort", "-created_at"]),
            models.Index(
                fields=["status"],
                name="cohorts_import_running_idx",
                condition=models.Q(status__in=["parsing", "importing"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} for {self.cohort_id} ({self.status})"

    @property
    def progress_percent(self) -> int:
        if self.status in (StudentImportStatus.PREVIEW, StudentImportStatus.DONE):
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)

    @property
    def is_running(self) -> bool:
        return self.status in STUDENT_IMPORT_RUNNING

    @property
    def is_cancellable(self) -> bool:
        return self.status in (*STUDENT_IMPORT_RUNNING, StudentImportStatus.PREVIEW)
