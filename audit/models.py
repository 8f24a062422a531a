from django.conf import settings
from django.db import models
from django.utils import timezone


class EventFormat(models.IntegerChoices):
    """What an event's hash covers (audit.chain)."""

    CLEAR = 1, "Clear values: the hash covers the actor's e-mail, IP address and user agent"
    DIGEST = 2, "Keyed digest: the hash covers an HMAC of them under the actor's key"


class AuditEvent(models.Model):
    """One thing that happened, append-only: the database refuses UPDATE, DELETE and TRUNCATE
    (migrations 0002 and 0005), except the one update that forgets a person (their e-mail, IP
    address and user agent blanked). Each event's `hash` covers its own content and the
    previous event's hash, so a row changed behind the application's back breaks the chain.
    The hash covers a keyed digest of the actor's personal values, never the values."""

    # The columns that forgetting a person blanks (audit.services.audit_actor_forget).
    FORGETTABLE_FIELDS = ("actor_email", "ip_address", "user_agent")

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
    # Database defaults (here and on actor_digest), so that a process still running the code
    # from before format 2 can insert during a deploy (its events are format 1 and verify so).
    format = models.PositiveSmallIntegerField(choices=EventFormat.choices, db_default=1)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="For an anonymous action (a signing link used, an invitation resent): the "
        "person it concerns, under whose key its IP address and user agent are digested.",
    )
    actor_digest = models.CharField(
        max_length=64,
        blank=True,
        db_default="",
        help_text="HMAC-SHA256 of the e-mail, IP address and user agent under the actor's key.",
    )
    digest_key_id = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="The ActorKey the digest was made under; gone once the person is forgotten.",
    )
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


class ActorKey(models.Model):
    """The secret under which a person's personal values in audit events are digested. Forgetting
    the person deletes it, so that the digests kept in the chain can no longer be tested against
    guesses. The one row without a person keys the events of visitors and of the system. The
    database refuses to change a key and to delete the shared one (migration 0007): only
    forgetting a person removes a key, and it records which."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    key = models.BinaryField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One key per person, and one for everyone not signed in.
            models.UniqueConstraint(
                fields=["user"], nulls_distinct=False, name="actor_key_one_per_actor"
            ),
        ]

    def __str__(self) -> str:
        return f"Audit key of {self.user_id or 'visitors and the system'}"
