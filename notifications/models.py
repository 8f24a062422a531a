from django.db import models
from django.utils import timezone


class OutboundEmail(models.Model):
    """An e-mail waiting to go out, written in the same transaction as the change that causes
    it: nothing is lost while Redis or the worker is down, and the status makes a redelivered
    task a no-op instead of a second message."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    recipient = models.EmailField()
    template = models.CharField(
        max_length=100, help_text="Name under templates/emails/: <name>_subject.txt, .txt, .html."
    )
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.template} to {self.recipient} ({self.status})"
