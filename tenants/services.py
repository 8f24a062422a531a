"""Institutions: provisioning, suspension, their profile and the "find my institution" e-mail
(the directory itself is tenants.directory, the addresses tenants.sites)."""

import re
import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django_tenants.clone import CloneSchema
from django_tenants.utils import (
    get_public_schema_name,
    schema_context,
    schema_exists,
    tenant_context,
)

from audit.services import audit_record
from notifications.services import email_enqueue
from tenants.directory import email_directory_hash
from tenants.models import Domain, Institution
from tenants.options import choices_settings
from tenants.selectors import institutions_for_email_hash
from tenants.signals import institution_provisioned
from tenants.sites import institution_domain, institution_url, site_url

if TYPE_CHECKING:
    from accounts.models import User

CODE_PATTERN = re.compile(r"^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$")
RESERVED_CODES = frozenset(
    {
        "admin", "api", "app", "assets", "auth", "blog", "cdn", "cohortly", "dashboard",
        "demo-template", "docs", "ftp", "help", "imap", "login", "mail", "media", "operator",
        "platform", "pop", "public", "smtp", "static", "status", "support", "template", "test",
        "www",
    }
)  # fmt: skip


CODE_MAX_LENGTH = 40
# Characters a code cannot have, named as people call them.
CHARACTER_NAMES = {" ": "spaces", "_": "underscores", ".": "full stops"}


def _code_problem(code: str) -> str | None:
    """What is wrong with a normalised code, in one sentence, or None. The form shows the rules
    under the field: this says only which one the code breaks."""
    if not code:
        return "Enter a code."
    others = sorted(set(re.findall(r"[^a-z0-9-]", code)))
    if others:
        names = [CHARACTER_NAMES.get(character, f"“{character}”") for character in others]
        return f"A code cannot contain {' or '.join(names)}."
    if not code[0].isalpha():
        return "A code must start with a letter."
    if code.endswith("-"):
        return "A code cannot end with a hyphen."
    if len(code) > CODE_MAX_LENGTH:
        return f"A code has at most {CODE_MAX_LENGTH} characters; this one has {len(code)}."
    return None


def institution_code_validate(code: str) -> str:
    """Return the normalised code or raise ValidationError saying what is wrong with it."""
    code = (code or "").strip().lower()
    problem = _code_problem(code)
    if problem is not None or not CODE_PATTERN.match(code):
        raise ValidationError(problem or "This code cannot be used.", code="invalid")
    if code in RESERVED_CODES:
        raise ValidationError("“%(code)s” is reserved; choose another code.", code="reserved",
                              params={"code": code})  # fmt: skip
    if Institution.objects.filter(code=code).exists():
        raise ValidationError(
            "“%(code)s” is already taken by another institution.", code="taken",
            params={"code": code},
        )  # fmt: skip
    return code


def schema_name_for_code(code: str) -> str:
    return "inst_" + code.replace("-", "_")


def template_schema_migrate() -> None:
    """Create (if needed) and migrate the schema that new institutions are cloned from.
    Run after every deploy's migrations, or new institutions start out of date."""
    template = settings.TENANT_BASE_SCHEMA
    if not schema_exists(template):
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{template}"')
    call_command(
        "migrate_schemas", tenant=True, schema_name=template, interactive=False, verbosity=0
    )


def schema_clone_from_template(schema_name: str) -> None:
    """Copy the migrated template schema, its migration records included, into a new schema.

    Copying the `django_migrations` rows with the tables is what makes this fast: django-tenants'
    own path would then run a faked `migrate_schemas`, which costs most of what cloning saves.
    """
    if not schema_exists(settings.TENANT_BASE_SCHEMA):
        template_schema_migrate()
    CloneSchema().clone_schema(settings.TENANT_BASE_SCHEMA, schema_name, "DATA")


POOL_PREFIX = "pool_"


def _pool_schemas() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s) ORDER BY nspname",
            [POOL_PREFIX],
        )
        return [row[0] for row in cursor.fetchall()]


def _lock_provisioning() -> None:
    """Provisioning and pool changes take turns: one clone or rename at a time."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('cohortly:provisioning'))")


def schema_pool_refill(*, size: int | None = None) -> int:
    """Clone the template until `size` ready schemas wait in the pool; returns how many were
    made. Each clone commits on its own, so a waiting provisioning is never held for long."""
    size = settings.TENANT_SCHEMA_POOL_SIZE if size is None else size
    made = 0
    while True:
        with transaction.atomic(durable=True):
            _lock_provisioning()
            if len(_pool_schemas()) >= size:
                return made
            schema_clone_from_template(f"{POOL_PREFIX}{secrets.token_hex(6)}")
        made += 1


def schema_pool_drain() -> int:
    """Drop every pooled schema: after migrations they are out of date."""
    with transaction.atomic(durable=True):
        _lock_provisioning()
        pooled = _pool_schemas()
        with connection.cursor() as cursor:
            for schema_name in pooled:
                cursor.execute(f'DROP SCHEMA "{schema_name}" CASCADE')
    return len(pooled)


def _schema_create_for(schema_name: str) -> None:
    """Give a new institution its schema: a ready one from the pool, renamed (milliseconds),
    or a fresh clone of the template when the pool is empty (about a second)."""
    pooled = _pool_schemas()
    if not pooled:
        schema_clone_from_template(schema_name)
        return
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER SCHEMA "{pooled[0]}" RENAME TO "{schema_name}"')


def institution_provision(
    *,
    name: str,
    code: str,
    admin_email: str,
    admin_name: str = "",
    actor: "User | None" = None,
) -> Institution:
    """Create an institution with its schema, domain and super admin, who is e-mailed an
    invitation. Everything happens in one transaction: a bad code creates nothing."""
    from accounts.models import SystemRole
    from accounts.services import user_invite_in_transaction
    from signing.services.certificates import certificate_for_institution
    from tenants.tasks import refill_schema_pool

    code = institution_code_validate(code)
    with transaction.atomic(durable=True):
        _lock_provisioning()
        institution = Institution(
            name=name.strip(),
            code=code,
            schema_name=schema_name_for_code(code),
            contact_email=admin_email,
        )
        institution.full_clean()
        institution.save()
        Domain.objects.create(domain=institution_domain(code), tenant=institution, is_primary=True)
        _schema_create_for(institution.schema_name)
        audit_record(
            actor=actor,
            action="institution.provisioned",
            entity=institution,
            new_values={"name": institution.name, "code": code, "contact_email": admin_email},
        )
        with tenant_context(institution):
            user_invite_in_transaction(
                email=admin_email, full_name=admin_name, roles=[SystemRole.SUPER_ADMIN], actor=None
            )
            certificate_for_institution()  # the key pair that seals its signed agreements
            institution_provisioned.send(sender=Institution, institution=institution)
        refill_schema_pool.delay_on_commit()
    return institution


def _institution_set_status(
    *, institution: Institution, status: str, actor: "User | None", action: str, reason: str = ""
) -> bool:
    """Set the status, audited in the platform's trail with the reason given; False, with
    nothing recorded, when it already had that status (a second click, another operator)."""
    with transaction.atomic(durable=True):
        locked = Institution.objects.select_for_update().get(pk=institution.pk)
        old_status = locked.status
        institution.status = status
        if old_status == status:
            return False
        locked.status = status
        locked.save(update_fields=["status"])
        with schema_context(get_public_schema_name()):
            audit_record(
                actor=actor,
                action=action,
                entity=locked,
                old_values={"status": old_status},
                new_values={"status": status, **({"reason": reason} if reason else {})},
            )
    return True


def institution_suspend(
    *, institution: Institution, actor: "User | None" = None, reason: str = ""
) -> bool:
    """Suspended institutions show a notice on every page and nobody can sign in. Returns
    whether it was active until now."""
    return _institution_set_status(
        institution=institution, status=Institution.Status.SUSPENDED, actor=actor,
        action="institution.suspended", reason=reason.strip(),
    )  # fmt: skip


def institution_reactivate(
    *, institution: Institution, actor: "User | None" = None, reason: str = ""
) -> bool:
    """Returns whether it was suspended until now."""
    return _institution_set_status(
        institution=institution, status=Institution.Status.ACTIVE, actor=actor,
        action="institution.reactivated", reason=reason.strip(),
    )  # fmt: skip


PROFILE_FIELDS = [
    "name", "registration_number", "address", "contact_email", "contact_phone", "brand_colour",
    "signing_link_days", "time_zone",
]  # fmt: skip
# Uploaded PDFs with active content: stored as a copy without it, instead of refused.
REMOVE_PDF_ACTIVE_CONTENT = "remove_pdf_active_content"
# Yes/no choices kept in Institution.settings that the profile form sets; absent means no.
PROFILE_SETTINGS = [REMOVE_PDF_ACTIVE_CONTENT]


def institution_profile_update(
    *, institution: Institution, actor: "User", changes: dict[str, Any]
) -> Institution:
    """Apply a super admin's changes to the profile, branding and signing settings (`logo`: a
    new image, or False to remove it); audited in the institution's own trail."""
    from accounts.permissions import permission_check

    permission_check(
        actor=actor,
        permission="tenants.manage_institution",
        action="tenants.institution_profile_update",
    )
    with transaction.atomic(durable=True):
        institution = Institution.objects.select_for_update().get(pk=institution.pk)
        old_values, new_values = {}, {}
        for field in PROFILE_FIELDS:
            if field in changes and changes[field] != getattr(institution, field):
                old_values[field], new_values[field] = getattr(institution, field), changes[field]
                setattr(institution, field, changes[field])
        for key in PROFILE_SETTINGS:
            old = institution.settings.get(key, False)
            if key in changes and changes[key] != old:
                old_values[key], new_values[key] = old, changes[key]
                institution.settings = {**institution.settings, key: changes[key]}
        for setting in choices_settings():
            if setting.key not in changes:
                continue
            chosen = sorted(set(changes[setting.key]) | setting.always)
            old = institution.settings.get(setting.key, sorted(setting.always))
            if chosen != old:
                old_values[setting.key], new_values[setting.key] = old, chosen
                institution.settings = {**institution.settings, setting.key: chosen}
        logo = changes.get("logo")
        if logo is False and institution.logo:
            old_values["logo"], new_values["logo"] = institution.logo.name, ""
            institution.logo = None
        elif logo:
            institution.logo.save(f"logo-{secrets.token_hex(8)}.{logo.image.format.lower()}", logo,
                                  save=False)  # fmt: skip
            new_values["logo"] = institution.logo.name
        institution.full_clean()
        institution.save()
        audit_record(
            actor=actor,
            action="institution.profile_updated",
            entity=institution,
            old_values=old_values,
            new_values=new_values,
        )
    return institution


def institution_finder_send(*, email: str) -> None:
    """E-mail `email` the sign-in links of every active institution where it has an account.
    The answer goes only to the mailbox, never to the screen."""
    with schema_context(get_public_schema_name()), transaction.atomic(durable=True):
        institutions = institutions_for_email_hash(email_directory_hash(email))
        links = [
            {"name": institution.name, "url": institution_url(institution, "/accounts/login/")}
            for institution in institutions
        ]
        email_enqueue(
            recipient=email.strip().lower(),
            template="find_institution",
            context={"institutions": links, "platform_url": site_url(settings.PLATFORM_DOMAIN)},
        )
