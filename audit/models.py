from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One thing that happened, append-only: the database refuses UPDATE, DELETE and TRUNCATE
    (migration 0002). Each event's `hash` covers its own content and the previous event's hash,
    so a row changed behind the application's back breaks the chain."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Empty for the system (tasks, commands) and for anonymous visitors.",
    )
    actor_email = models.EmailField(blank=True)
    action = models.CharField(max_length=100)
    entity_type = models.CharField(max_length=100)
    entity_id = models.CharField(max_length=100, blank=True)
    old_values = models.JSONField(default=dict, blank=True)
    new_values = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    correlation_id = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["entity_type", "entity_id"]),
            models.Index(fields=["action", "-created_at"]),
            models.Index(fields=["actor", "-created_at"]),
            models.Index(fields=["-created_at"]),
        ]
        permissions = [
            (
                "view_audit_trail",
                "Read the audit trail: who did what in the institution, when and from where.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.entity_type}:{self.entity_id}"
