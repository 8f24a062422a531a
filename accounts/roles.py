"""The permission catalogue roles are made from, and the system roles every institution has.

The catalogue is Django's per-institution Permission rows: each app declares what a person may
do there in its models' `Meta.permissions` ("app_label.codename", with a sentence saying what it
allows). A later stage adds its permissions there and, when a system role needs them, to
SYSTEM_ROLES below; `catalogue_sync` (run after every migrate) brings each institution up to
date. Object grants (a cohort given to one person) use the same rows through django-guardian,
but are not for roles: apps register them as scopes (accounts.permissions.scope_register)."""

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Q

from accounts.models import Role, SystemRole
from accounts.permissions import object_grant_codes


@dataclass(frozen=True)
class SystemRoleSpec:
    name: str
    description: str
    # What the role may never lose; None: every permission in the catalogue.
    permissions: frozenset[str] | None


SYSTEM_ROLES: dict[str, SystemRoleSpec] = {
    SystemRole.SUPER_ADMIN: SystemRoleSpec(
        "Super admin",
        "Runs the institution on Cohortly: everything an admin does, plus its settings, its "
        "roles, its signing certificate and the training gateway connection.",
        None,
    ),
    SystemRole.ADMIN: SystemRoleSpec(
        "Admin",
        "Runs the programmes: cohorts, enrolments, sponsors, agreements, document review and "
        "the people who do the work.",
        frozenset(
            {
                "accounts.manage_people",
                "audit.view_audit_trail",
                "cohorts.manage_cohorts",
                "cohorts.access_all_cohorts",
                "enrolments.manage_enrolments",
                "enrolments.countersign_agreements",
                "verification.review_documents",
                "sponsors.manage_sponsors",
                "signing.manage_templates",
                "integrations.manage_sync",
                "learners.view_learners",
                "learners.manage_learners",
                "learners.view_national_id",
                "learners.merge_learners",
                "academics.manage_catalogue",
                "delivery.manage_delivery",
                "delivery.issue_certificates",
                "delivery.manage_fees",
                "placements.manage_organisations",
                "placements.manage_placements",
                "placements.manage_vetting",
                "workplace.manage_practitioners",
                # So that admins may give the trainer and moderator roles (accounts.permissions.
                # may_grant); who teaches or moderates a run is still said per run.
                "delivery.teach",
                "delivery.moderate_results",
                "workplace.assess_portfolios",
                "partners.view_partners",
                "finance.view_finance",
                "reports.view_reports",
                "reports.manage_reports",
                "privacy.export_personal_data",
                "projects.manage_projects",
                "projects.propose_projects",
            }
        ),
    ),
    SystemRole.VERIFIER: SystemRoleSpec(
        "Verifier",
        "Reviews students' documents in the cohorts they are given.",
        frozenset({"verification.review_documents"}),
    ),
    SystemRole.AUDITOR: SystemRoleSpec(
        "Auditor",
        "Reads the audit trail, and nothing else.",
        frozenset({"audit.view_audit_trail"}),
    ),
    SystemRole.TRAINER: SystemRoleSpec(
        "Trainer",
        "Teaches the institution's programmes: the registers and results of their own runs.",
        frozenset({"delivery.teach", "projects.propose_projects"}),
    ),
    SystemRole.MODERATOR: SystemRoleSpec(
        "Moderator",
        "Checks and signs off the results of the course runs they are given to moderate, and "
        "the samples of portfolio assessments their moderator registration covers.",
        frozenset({"delivery.moderate_results"}),
    ),
    SystemRole.ASSESSOR: SystemRoleSpec(
        "Assessor",
        "Assesses learners' portfolios of evidence in the qualifications their assessor "
        "registration covers.",
        frozenset({"workplace.assess_portfolios"}),
    ),
    SystemRole.OPS_ADMIN: SystemRoleSpec(
        "Ops admin",
        "Runs the sync to the training gateway: reads what was sent and what failed, re-drives "
        "dead letters and reconciles the gateway with the institution's records.",
        frozenset(
            {"integrations.manage_sync", "cohorts.access_all_cohorts", "reports.view_reports"}
        ),
    ),
    SystemRole.FINANCE: SystemRoleSpec(
        "Finance",
        "Accounts for every rand: fees and subsidies, invoices and credit notes, payments and "
        "bank statements, agents and brokers and their commissions, stipends and grant claims.",
        frozenset(
            {
                "delivery.manage_fees",
                "cohorts.access_all_cohorts",
                "partners.manage_partners",
                "partners.view_partners",
                "finance.manage_finance",
                "finance.view_finance",
                "reports.view_reports",
            }
        ),
    ),
    SystemRole.STUDENT: SystemRoleSpec(
        "Student",
        "Studies at the institution: sees their own enrolments, documents and agreements.",
        frozenset(),
    ),
    SystemRole.SPONSOR_CONTACT: SystemRoleSpec(
        "Sponsor contact",
        "Speaks for a sponsor: signs its agreements and follows the cohorts it pays for.",
        frozenset(),
    ),
    SystemRole.ORGANISATION_MEMBER: SystemRoleSpec(
        "Organisation member",
        "Speaks for a host organisation (a school, an employer): says each year which "
        "placements it offers, confirms or declines the learners proposed to it, and mentors "
        "the learners placed with it.",
        frozenset(),
    ),
    SystemRole.AGENT: SystemRoleSpec(
        "Agent",
        "Speaks for a recruiting agent: follows the progress of the candidates it brought and "
        "reads its commission statements.",
        frozenset(),
    ),
    SystemRole.BROKER: SystemRoleSpec(
        "Broker",
        "Speaks for a broker: follows the progress of the learners it places and reads its "
        "commission statements.",
        frozenset(),
    ),
}


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    area: str
    sentence: str


def catalogue_entries() -> list[CatalogueEntry]:
    """Every permission a role may hold, as the code declares it, in app order."""
    grants = object_grant_codes()
    entries = []
    for app_config in apps.get_app_configs():
        for model in app_config.get_models():
            for codename, sentence in model._meta.permissions:
                code = f"{app_config.label}.{codename}"
                if code not in grants:
                    entries.append(CatalogueEntry(code, str(app_config.verbose_name), sentence))
    return entries


def catalogue_codes() -> frozenset[str]:
    return frozenset(entry.code for entry in catalogue_entries())


def catalogue_by_area() -> list[tuple[str, list[CatalogueEntry]]]:
    """The catalogue grouped by area, for the role form and the per-person page."""
    return [(area, list(group)) for area, group in groupby(catalogue_entries(), lambda e: e.area)]


def permissions_for(codes: Iterable[str]) -> list[Permission]:
    """The Permission rows for "app_label.codename" codes (unknown codes are a mistake)."""
    codes = set(codes)
    if not codes:
        return []
    wanted = Q()
    for code in codes:
        app_label, codename = code.split(".", 1)
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(wanted).select_related("content_type"))
    missing = codes - {permission_code(permission) for permission in found}
    if missing:
        raise LookupError(f"Not in the permission catalogue: {', '.join(sorted(missing))}.")
    return found


def permission_code(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def required_codes(key: str) -> frozenset[str]:
    """What a system role may never lose."""
    required = SYSTEM_ROLES[key].permissions
    return catalogue_codes() if required is None else required


def catalogue_sync() -> None:
    """Bring the current institution's catalogue and system roles up to date with the code:
    missing permissions are created and renamed ones get their new sentence; missing system
    roles are created and every system role gains what it needs (nothing is taken away: an
    institution may have given a system role more)."""
    if Role._meta.db_table not in connection.introspection.table_names():
        return
    for app_config in apps.get_app_configs():
        if app_config.models_module is not None:
            create_permissions(app_config, verbosity=0)
    for entry in catalogue_entries():
        app_label, codename = entry.code.split(".", 1)
        Permission.objects.filter(content_type__app_label=app_label, codename=codename).exclude(
            name=entry.sentence
        ).update(name=entry.sentence)
    for key, spec in SYSTEM_ROLES.items():
        role = Role.objects.filter(key=key).first()
        if role is None:
            name_taken = Role.objects.filter(name__iexact=spec.name).exists()
            role = Role.objects.create(
                key=key,
                system_role=True,
                name=f"{spec.name} (system)" if name_taken else spec.name,
                description=spec.description,
            )
        role.permissions.add(*permissions_for(required_codes(key)))
