"""Reports (seed 004: report_definitions, report_executions).

A definition saves one of the reports built in code (reports.registry; `query` holds its key)
with chosen parameters and columns, and may be scheduled to run weekly or monthly for its
recipients. An execution runs a report once in a Celery task and writes its result, privately,
as CSV, XLSX or PDF; the file expires. Written only by reports.services."""

from django.conf import settings
from django.db import models
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class ReportSchedule(models.TextChoices):
    NONE = "", "Not scheduled"
    WEEKLY = "weekly", "Every week (Monday)"
    MONTHLY = "monthly", "Every month (the 1st)"


class ReportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"
    PDF = "pdf", "PDF"


class ReportDefinition(models.Model):
    """A report saved with its parameters and columns by an admin, to run again or on a
    schedule."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    query = models.CharField(
        "report",
        max_length=60,
        help_text="The key of the built-in report this definition runs (reports.registry).",
    )
    parameters = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(
        default=list, blank=True, help_text="The columns chosen, in order; empty: all of them."
    )
    format = models.CharField(max_length=4, choices=ReportFormat.choices, default=ReportFormat.CSV)
    schedule = models.CharField(
        max_length=10, choices=ReportSchedule.choices, default=ReportSchedule.NONE, blank=True
    )
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="report_subscriptions",
        help_text="Who is e-mailed a link when a scheduled run is ready.",
    )
    next_run_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name"], name="report_definition_name_unique"),
        ]
        indexes = [models.Index(fields=["next_run_at"])]
        permissions = [
            (
                "view_reports",
                "Run the reports their other permissions allow and download the results.",
            ),
            (
                "manage_reports",
                "Save report definitions with their parameters and columns, and schedule them.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ExecutionStatus(models.TextChoices):
    PENDING = "pending", "Waiting to run"
    PROCESSING = "processing", "Running"
    COMPLETED = "completed", "Ready"
    FAILED = "failed", "Failed"


class ReportExecution(ConcurrentTransitionMixin, models.Model):
    """One run of a report: its parameters as run, its progress and its private result file."""

    definition = models.ForeignKey(
        ReportDefinition,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="executions",
    )
    report_key = models.CharField(max_length=60)
    parameters = models.JSONField(default=dict, blank=True)
    columns = models.JSONField(default=list, blank=True)
    format = models.CharField(max_length=4, choices=ReportFormat.choices, default=ReportFormat.CSV)
    status = FSMField(
        default=ExecutionStatus.PENDING, choices=ExecutionStatus.choices, protected=True
    )
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    result_file_path = models.CharField(max_length=300, blank=True)
    result_size = models.PositiveBigIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty for a scheduled run.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.report_key} #{self.pk}"

    @transition(status, source=ExecutionStatus.PENDING, target=ExecutionStatus.PROCESSING)
    def start(self) -> None:
        pass

    @transition(status, source=ExecutionStatus.PROCESSING, target=ExecutionStatus.COMPLETED)
    def complete(self) -> None:
        pass

    @transition(
        status,
        source=[ExecutionStatus.PENDING, ExecutionStatus.PROCESSING],
        target=ExecutionStatus.FAILED,
    )
    def fail(self) -> None:
        pass


def evidence_pack_path(instance: "EvidencePack", filename: str) -> str:
    return f"evidence-packs/{instance.cohort_id}/{filename}"


class EvidencePack(ConcurrentTransitionMixin, models.Model):
    """A completed cohort's evidence, as a ZIP built by a Celery task: its sealed agreements,
    verified documents, registers, results, certificates and audit events, with a sealed
    manifest listing each file's SHA-256. Written only by reports.evidence.services."""

    cohort = models.ForeignKey(
        "cohorts.Cohort", on_delete=models.PROTECT, related_name="evidence_packs"
    )
    status = FSMField(
        default=ExecutionStatus.PENDING, choices=ExecutionStatus.choices, protected=True
    )
    file = models.FileField(upload_to=evidence_pack_path, max_length=300, blank=True)
    file_size = models.PositiveBigIntegerField(null=True, blank=True)
    files_count = models.PositiveIntegerField(null=True, blank=True)
    manifest_sha256 = models.CharField(
        max_length=64, blank=True, help_text="Of the sealed manifest PDF inside the ZIP."
    )
    error_message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when the pack is built, as for report results: the data protection "
        "settings' report expiry days later. The daily expiry task then deletes the file (it "
        "holds identity documents); the row stays, and the pack can be built again.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["cohort", "-created_at"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self) -> str:
        return f"Evidence pack #{self.pk} of cohort {self.cohort_id}"

    @transition(status, source=ExecutionStatus.PENDING, target=ExecutionStatus.PROCESSING)
    def start(self) -> None:
        pass

    @transition(status, source=ExecutionStatus.PROCESSING, target=ExecutionStatus.COMPLETED)
    def complete(self) -> None:
        pass

    @transition(
        status,
        source=[ExecutionStatus.PENDING, ExecutionStatus.PROCESSING],
        target=ExecutionStatus.FAILED,
    )
    def fail(self) -> None:
        pass
