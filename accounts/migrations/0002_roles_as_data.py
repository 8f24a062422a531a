"""Roles become data: each person's role names (an array on the user) become holdings of the
institution's system roles. Their permissions are given after the migration, by
accounts.roles.catalogue_sync, which runs after every migrate."""

import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

SYSTEM_ROLES = {
    "super_admin": (
        "Super admin",
        "Runs the institution on Cohortly: everything an admin does, plus its settings, its "
        "roles, its signing certificate and the training gateway connection.",
    ),
    "admin": (
        "Admin",
        "Runs the programmes: cohorts, enrolments, sponsors, agreements, document review and "
        "the people who do the work.",
    ),
    "verifier": ("Verifier", "Reviews students' documents in the cohorts they are given."),
    "auditor": ("Auditor", "Reads the audit trail, and nothing else."),
    "trainer": ("Trainer", "Teaches the institution's programmes."),
    "student": (
        "Student",
        "Studies at the institution: sees their own enrolments, documents and agreements.",
    ),
    "sponsor_contact": (
        "Sponsor contact",
        "Speaks for a sponsor: signs its agreements and follows the cohorts it pays for.",
    ),
}


def role_names_to_holdings(apps, schema_editor) -> None:
    Role = apps.get_model("accounts", "Role")
    User = apps.get_model("accounts", "User")
    UserRole = apps.get_model("accounts", "UserRole")
    roles = {
        key: Role.objects.create(key=key, system_role=True, name=name, description=description)
        for key, (name, description) in SYSTEM_ROLES.items()
    }
    UserRole.objects.bulk_create(
        UserRole(user_id=user_id, role=roles[key], granted_at=joined)
        for user_id, names, joined in User.objects.values_list("pk", "roles", "date_joined")
        for key in names
        if key in roles
    )


def holdings_to_role_names(apps, schema_editor) -> None:
    User = apps.get_model("accounts", "User")
    UserRole = apps.get_model("accounts", "UserRole")
    names: dict[int, list[str]] = {}
    for user_id, key in UserRole.objects.filter(role__key__isnull=False).values_list(
        "user_id", "role__key"
    ):
        names.setdefault(user_id, []).append(key)
    for user_id, keys in names.items():
        User.objects.filter(pk=user_id).update(roles=keys)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name="Role",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, unique=True)),
                ("description", models.TextField(blank=True)),
                ("system_role", models.BooleanField(default=False)),
                (
                    "key",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("super_admin", "Super admin"),
                            ("admin", "Admin"),
                            ("verifier", "Verifier"),
                            ("auditor", "Auditor"),
                            ("trainer", "Trainer"),
                            ("student", "Student"),
                            ("sponsor_contact", "Sponsor contact"),
                        ],
                        help_text="Which system role this is; empty for a custom role.",
                        max_length=30,
                        null=True,
                        unique=True,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "permissions",
                    models.ManyToManyField(blank=True, related_name="roles", to="auth.permission"),
                ),
            ],
            options={
                "ordering": ["-system_role", "name"],
                "constraints": [
                    models.UniqueConstraint(
                        django.db.models.functions.text.Lower("name"),
                        name="role_name_unique_ci",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("key__isnull", False), ("system_role", True)),
                            models.Q(("key__isnull", True), ("system_role", False)),
                            _connector="OR",
                        ),
                        name="role_system_role_has_key",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="UserRole",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("granted_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "granted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "role",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="holdings",
                        to="accounts.role",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="role_holdings",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["role__name"],
                "constraints": [
                    models.UniqueConstraint(fields=("user", "role"), name="user_role_unique")
                ],
            },
        ),
        migrations.RunPython(role_names_to_holdings, holdings_to_role_names),
        migrations.RemoveField(model_name="user", name="roles"),
        migrations.AddField(
            model_name="user",
            name="roles",
            field=models.ManyToManyField(
                related_name="holders",
                through="accounts.UserRole",
                through_fields=("user", "role"),
                to="accounts.role",
            ),
        ),
    ]
