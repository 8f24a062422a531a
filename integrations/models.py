"""Outbound sync to external systems (a government training gateway first): the connector an
institution uses, and the outbox of sync jobs with their attempts."""

from django.db import models


class ConnectorConfig(models.Model):
    """The one external system an institution reports to. Credentials are stored encrypted
    (integrations.crypto); `connector` is a key of settings.SYNC_CONNECTORS."""

    connector = models.CharField(max_length=50)
    base_url = models.URLField(max_length=300)
    credentials_encrypted = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    max_attempts = models.PositiveSmallIntegerField(
        default=6, help_text="Attempts before a job goes to the dead letter."
    )
    timeout_seconds = models.FloatField(default=20.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # One per institution schema: the services always write row 1.
            models.CheckConstraint(condition=models.Q(id=1), name="connector_config_singleton")
        ]

    def __str__(self) -> str:
        return f"{self.connector} at {self.base_url}"


class SyncJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    DEAD_LETTER = "dead_letter", "Dead letter"
    CANCELLED = "cancelled", "Cancelled"
    # The gateway holds a newer version of the record than this job's: nothing to send.
    SUPERSEDED = "superseded", "Superseded"


class SyncJobType(models.TextChoices):
    """What a job does at the gateway. A type ending in `_create` registers the record there;
    the others change a record the gateway has registered (they wait for its reference)."""

    COURSE_RUN_CREATE = "course_run_create", "Course run: create"
    COURSE_RUN_UPDATE = "course_run_update", "Course run: update"
    COURSE_RUN_CANCEL = "course_run_cancel", "Course run: cancel"
    ENROLMENT_CREATE = "enrolment_create", "Enrolment: create"
    ENROLMENT_UPDATE = "enrolment_update", "Enrolment: update"
    ENROLMENT_CANCEL = "enrolment_cancel", "Enrolment: cancel"
    ATTENDANCE_CREATE = "attendance_create", "Attendance: create"
    ATTENDANCE_UPDATE = "attendance_update", "Attendance: correction"
    ASSESSMENT_CREATE = "assessment_create", "Assessment: create"
    ASSESSMENT_UPDATE = "assessment_update", "Assessment: correction"
    ASSESSMENT_VOID = "assessment_void", "Assessment: void"


class SyncStatus(models.TextChoices):
    """A record's standing at the gateway (seed 002 `sync_status`), kept on the record by its
    app from the jobs' outcomes (integrations.signals.sync_jobs_recorded)."""

    NOT_SENT = "", "Not sent"
    WITHHELD = "withheld", "Withheld"
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class SyncJob(models.Model):
    """One submission of one version of one record to the external system. Written in the
    transaction of the change (a transactional outbox); `idempotency_key` is derived from the
    record and the payload, so the same change saved twice makes one job."""

    job_type = models.CharField(max_length=40, choices=SyncJobType.choices)
    entity_type = models.CharField(max_length=100)
    entity_id = models.CharField(max_length=64)
    correlation_id = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=20, choices=SyncJobStatus.choices, default=SyncJobStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="Lease of the worker running the job."
    )
    payload = models.JSONField(default=dict)
    version = models.PositiveIntegerField(
        default=1,
        help_text="The record's version this job sends (1 for its first job, then one more "
        "per job): the gateway refuses a version older than the one it holds.",
    )
    payload_hash = models.CharField(max_length=64)
    response = models.JSONField(default=dict, blank=True)
    external_reference = models.CharField(max_length=200, blank=True)
    dead_letter_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "next_retry_at"]),
            models.Index(fields=["entity_type", "entity_id", "-id"]),
        ]
        constraints = [
            # One job per version of a record: two changes queued at once never share a version
            # (the gateway would take whichever came last, the older payload included).
            models.UniqueConstraint(
                fields=["entity_type", "entity_id", "version"], name="sync_job_unique_version"
            )
        ]
        permissions = [
            (
                "manage_sync",
                "See what was sent to the training gateway, and retry or cancel sync jobs.",
            ),
            (
                "configure_gateway",
                "Change the training gateway's address and credentials.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_job_type_display()} {self.entity_type}#{self.entity_id}"

    @property
    def can_retry(self) -> bool:
        return self.status in (SyncJobStatus.FAILED, SyncJobStatus.DEAD_LETTER)

    @property
    def can_cancel(self) -> bool:
        return self.status == SyncJobStatus.QUEUED


class SyncAttemptOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Accepted"
    DUPLICATE = "duplicate", "Already accepted (duplicate)"
    RETRYABLE = "retryable", "Failed, will retry"
    PERMANENT = "permanent", "Rejected"
    STALE = "stale", "Refused: the gateway holds a newer version"
    ABANDONED = "abandoned", "Worker stopped"


class SyncAttempt(models.Model):
    """One try at sending a job: what happened, for the job page."""

    job = models.ForeignKey(SyncJob, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    outcome = models.CharField(
        max_length=20, choices=SyncAttemptOutcome.choices, default=SyncAttemptOutcome.RUNNING
    )
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="sync_attempt_unique_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of job {self.job_id}: {self.outcome}"


class SyncReceipt(models.Model):
    """What the gateway answered when it accepted a submission (seed 002 "MISSING INFO": keep
    the receipt): its reference and its acknowledgement as received, encrypted at rest because
    a gateway may quote the personal data it was sent. A duplicate acknowledgement (a re-send
    the gateway already had) is kept too, marked so."""

    job = models.ForeignKey(SyncJob, on_delete=models.CASCADE, related_name="receipts")
    attempt = models.OneToOneField(
        SyncAttempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="receipt"
    )
    external_reference = models.CharField(max_length=200, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duplicate = models.BooleanField(default=False)
    acknowledgement_encrypted = models.TextField(
        blank=True, help_text="The gateway's answer as received (integrations.crypto)."
    )
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["job", "received_at"]

    def __str__(self) -> str:
        return f"receipt {self.external_reference or '(no reference)'} for job {self.job_id}"
