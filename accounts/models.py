from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from guardian.mixins import GuardianUserMixin


class Role(models.TextChoices):
    SUPER_ADMIN = "super_admin", "Super admin"
    ADMIN = "admin", "Admin"
    VERIFIER = "verifier", "Verifier"
    AUDITOR = "auditor", "Auditor"
    TRAINER = "trainer", "Trainer"
    STUDENT = "student", "Student"
    SPONSOR_CONTACT = "sponsor_contact", "Sponsor contact"


def normalise_email(email: str) -> str:
    """E-mail addresses are compared case-insensitively everywhere, so they are stored lower."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email=normalise_email(username or ""))

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        user = self.model(email=normalise_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(GuardianUserMixin, AbstractBaseUser, PermissionsMixin):
    """A person's account in one institution (or, in the public schema, a platform operator).
    The same address at two institutions is two accounts, by design."""

    # Audit events record that these changed, never their values (audit.services).
    PERSONAL_FIELDS = frozenset({"email", "full_name", "password"})

    email = models.EmailField("e-mail address", unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    roles = ArrayField(
        models.CharField(max_length=20, choices=Role.choices), default=list, blank=True
    )
    is_active = models.BooleanField(
        default=True, help_text="Inactive people cannot sign in; their sessions end at once."
    )
    is_staff = models.BooleanField(
        default=False, help_text="May use the Django admin (platform operators in the public site)."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs) -> None:
        self.email = normalise_email(self.email)
        super().save(*args, **kwargs)

    def has_role(self, *roles: str) -> bool:
        return bool(set(self.roles) & set(roles))

    @property
    def role_labels(self) -> list[str]:
        return [Role(role).label for role in Role.values if role in self.roles]

    @property
    def has_accepted_invitation(self) -> bool:
        return self.has_usable_password()


class Invitation(models.Model):
    """A single-use link that lets an invited person set their password. Only the SHA-256 of
    the token is stored; the token itself exists only in the e-mail."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.user.email}"

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.revoked_at is None and not self.is_expired
