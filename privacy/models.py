"""Data protection (seeds 004, 002; POPIA): how long the institution keeps what, the jobs that
archive, anonymise and purge by those rules (each with a dry run, each recorded), and learners'
access requests.

The work itself lives with the data it touches (cohorts archive a cohort, learners anonymise a
learner, accounts purge an account, ...); this app holds the settings, runs the jobs per
institution and keeps their record. Written only by privacy.services."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


def _years(verbose_name: str, default: int, help_text: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        verbose_name,
        default=default,
        validators=[
            MinValueValidator(1, "At least one year."),
            MaxValueValidator(100, "At most 100 years."),
        ],
        help_text=help_text,
    )


class DataProtectionSettings(models.Model):
    """The institution's retention rules and report privacy settings (one row, pk 1, made on
    first use), with the seed's defaults."""

    archive_after_years = _years(
        "Archive completed cohorts after (years)",
        5,
        "A completed cohort becomes read-only and leaves the everyday lists this long after it "
        "ended; it stays in reports.",
    )
    anonymise_after_years = _years(
        "Anonymise archived cohorts' personal data after (years)",
        2,
        "How long after archiving the learners of an archived cohort keep their names, contact "
        "details and documents; then only what reports need is kept.",
    )
    legal_retention_years = _years(
        "Keep sealed records for (years)",
        7,
        "Sealed agreements, certificates, issued invoices and SETA registration records are "
        "kept this long after the cohort ended, whatever happens to the rest, then deleted.",
    )
    backup_retention_years = _years(
        "Backups kept for (years)",
        7,
        "How long the operators keep backups of the institution's data (see the README).",
    )
    account_purge_days = models.PositiveSmallIntegerField(
        "Deleted accounts are anonymised after (days)",
        default=30,
        validators=[
            MinValueValidator(1, "At least one day."),
            MaxValueValidator(365, "At most a year."),
        ],
        help_text="A deleted account can be restored until then.",
    )
    small_cell_threshold = models.PositiveSmallIntegerField(
        "Suppress counts below",
        default=5,
        validators=[
            MinValueValidator(1, "At least 1."),
            MaxValueValidator(100, "At most 100."),
        ],
        help_text="In equity breakdowns exported from Cohortly, a count under this number is "
        "shown as “<N”, so that no person can be singled out.",
    )
    report_expiry_days = models.PositiveSmallIntegerField(
        "Report downloads expire after (days)",
        default=7,
        validators=[
            MinValueValidator(1, "At least one day."),
            MaxValueValidator(90, "At most 90 days."),
        ],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "data protection settings"
        verbose_name_plural = "data protection settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="data_protection_single_row"),
        ]
        permissions = [
            (
                "manage_data_protection",
                "Set how long personal data is kept, run and dry-run the archive, anonymisation "
                "and purge jobs, and restore deleted accounts.",
            ),
            (
                "export_personal_data",
                "Export everything held about one learner for their access request.",
            ),
        ]

    def __str__(self) -> str:
        return "Data protection settings"


class JobKind(models.TextChoices):
    ARCHIVE_COHORTS = "archive_cohorts", "Archive completed cohorts"
    ANONYMISE_LEARNERS = "anonymise_learners", "Anonymise archived cohorts' learners"
    PURGE_SEALED_RECORDS = "purge_sealed_records", "Delete sealed records past retention"
    PURGE_ACCOUNTS = "purge_accounts", "Anonymise deleted accounts"


class JobRun(models.Model):
    """One run of a data protection job in this institution: what it found (a dry run stops
    there) or did."""

    kind = models.CharField(max_length=30, choices=JobKind.choices)
    dry_run = models.BooleanField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty for the scheduled runs.",
    )
    # What was (or would be) done, one entry per object: {"type", "id", "label", "action"}.
    # Labels never hold personal values (a cohort's name, "Learner 123").
    items = models.JSONField(default=list, blank=True)
    item_count = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["kind", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({'dry run' if self.dry_run else 'run'})"


class AccessRequestStatus(models.TextChoices):
    PENDING = "pending", "Being prepared"
    READY = "ready", "Ready to download"
    FAILED = "failed", "Failed"


class AccessRequest(models.Model):
    """A learner's request for everything held about them (POPIA section 23), fulfilled by a
    ZIP with a readable index, stored privately."""

    learner = models.ForeignKey(
        "learners.Learner", on_delete=models.CASCADE, related_name="access_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=AccessRequestStatus.choices, default=AccessRequestStatus.PENDING
    )
    result_file_path = models.CharField(max_length=300, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Access request #{self.pk}"
