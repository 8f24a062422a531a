import hashlib
from collections.abc import Iterable
from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import Permission, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property
from guardian.mixins import GuardianUserMixin


class SystemRole(models.TextChoices):
    """The roles every institution has (accounts.roles says what each may do)."""

    SUPER_ADMIN = "super_admin", "Super admin"
    ADMIN = "admin", "Admin"
    VERIFIER = "verifier", "Verifier"
    AUDITOR = "auditor", "Auditor"
    TRAINER = "trainer", "Trainer"
    MODERATOR = "moderator", "Moderator"
    ASSESSOR = "assessor", "Assessor"
    OPS_ADMIN = "ops_admin", "Ops admin"
    FINANCE = "finance", "Finance"
    STUDENT = "student", "Student"
    SPONSOR_CONTACT = "sponsor_contact", "Sponsor contact"
    ORGANISATION_MEMBER = "organisation_member", "Organisation member"
    AGENT = "agent", "Agent"
    BROKER = "broker", "Broker"


def token_hash(token: str) -> str:
    """What is stored of a secret link's token (an invitation, a signing link): its hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """E-mail addresses are compared case-insensitively everywhere, so they are stored lower."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email=normalise_email(username or ""))

    def create_user(
        self, email: str, password: str | None = None, *, roles: Iterable[str] = (), **fields
    ) -> "User":
        """`roles`: the keys of the system roles the person holds (a command's or a test's
        account; people are otherwise invited through accounts.services)."""
        user = self.model(email=normalise_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        if roles:
            user.roles.set(Role.objects.filter(key__in=list(roles)))
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
    roles: "models.ManyToManyField[Role, UserRole]" = models.ManyToManyField(
        "Role", through="UserRole", through_fields=("user", "role"), related_name="holders"
    )
    is_active = models.BooleanField(
        default=True, help_text="Inactive people cannot sign in; their sessions end at once."
    )
    is_staff = models.BooleanField(
        default=False, help_text="May use the Django admin (platform operators in the public site)."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Deleted people cannot sign in and are hidden; they can be restored until "
        "their account is anonymised.",
    )
    deleted_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    anonymised_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the deleted account's personal values were replaced for good. The row "
        "stays: the audit trail points at it.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(anonymised_at__isnull=True) | models.Q(deleted_at__isnull=False),
                name="user_anonymised_only_when_deleted",
            ),
        ]
        indexes = [
            models.Index(
                fields=["deleted_at"],
                condition=models.Q(deleted_at__isnull=False, anonymised_at__isnull=True),
                name="user_deleted_awaiting_purge",
            ),
        ]
        permissions = [
            (
                "manage_people",
                "Invite people, give them the roles they may hand out, and deactivate or "
                "reactivate their accounts.",
            ),
            (
                "manage_roles",
                "Create and change custom roles, and give or take away any role, including "
                "the roles that manage people.",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs) -> None:
        self.email = normalise_email(self.email)
        super().save(*args, **kwargs)

    @cached_property
    def permission_codes(self) -> frozenset[str]:
        """What the person's roles allow ("app_label.codename"), read once per request: the
        sign-in backend loads it with the user (accounts.backends), otherwise one query."""
        return frozenset(
            f"{app_label}.{codename}"
            for app_label, codename in Permission.objects.filter(roles__holders=self).values_list(
                "content_type__app_label", "codename"
            )
        )

    @cached_property
    def role_keys(self) -> frozenset[str]:
        """The system roles the person holds (a student, a sponsor contact), read like
        `permission_codes`."""
        return frozenset(key for key in self.roles.values_list("key", flat=True) if key)

    def may(self, *codes: str) -> bool:
        """Whether the person's roles allow any of `codes` (a deactivated or deleted person:
        nothing)."""
        return (
            self.is_active
            and self.deleted_at is None
            and not self.permission_codes.isdisjoint(codes)
        )

    @property
    def is_in_service(self) -> bool:
        """Active and not deleted: the person may sign in, act and be e-mailed. Deleting keeps
        is_active as it was (restoring gives it back), so both are read."""
        return self.is_active and self.deleted_at is None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def role_labels(self) -> list[str]:
        """The names of the roles held: read with the person where `held_role_names` is loaded
        (the sign-in backend, the People list), else from `roles` (one query, or a prefetch)."""
        names = self.__dict__.get("held_role_names")
        if names is None:
            names = [role.name for role in self.roles.all()]
        return sorted(names)

    @property
    def has_accepted_invitation(self) -> bool:
        return self.has_usable_password()


class Role(models.Model):
    """A named set of permissions from the catalogue (Django's per-institution Permission rows,
    declared in each app's models). System roles are made by accounts.roles and keep at least
    the permissions the product needs; custom roles are the institution's own."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    system_role = models.BooleanField(default=False)
    key = models.CharField(
        max_length=30,
        choices=SystemRole.choices,
        null=True,
        blank=True,
        unique=True,
        help_text="Which system role this is; empty for a custom role.",
    )
    permissions = models.ManyToManyField(Permission, blank=True, related_name="roles")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-system_role", "name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="role_name_unique_ci"),
            models.CheckConstraint(
                condition=models.Q(system_role=True, key__isnull=False)
                | models.Q(system_role=False, key__isnull=True),
                name="role_system_role_has_key",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class UserRole(models.Model):
    """A person holds a role: who gave it to them and when."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_holdings")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="holdings")
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["role__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="user_role_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} holds {self.role}"


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
