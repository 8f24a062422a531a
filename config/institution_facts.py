"""What the operator's institution page reads inside an institution (tenants.overview): kept
here, at the top of the layers, because the records belong to apps that stand on tenants.
Each reader runs in the institution's schema."""

from django.db.models import Max
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import SystemRole, User
from accounts.selectors import role_names_of
from audit.models import AuditEvent
from cohorts.models import Cohort
from enrolments.models import CohortEnrollment
from tenants.models import Institution
from tenants.overview import (
    InstitutionAdmin,
    InstitutionFacts,
    StatusChange,
    facts_reader_register,
)

ADMIN_ROLES = (SystemRole.SUPER_ADMIN, SystemRole.ADMIN)
STATUS_ACTIONS = {
    "institution.provisioned": "Created",
    "institution.suspended": "Suspended",
    "institution.reactivated": "Reactivated",
}


def people_read(institution: Institution, facts: InstitutionFacts) -> None:
    """People with an account that may sign in, the admins among them, the latest sign-in."""
    active = User.objects.filter(is_active=True, deleted_at__isnull=True)
    facts.counts["People"] = active.count()
    admins = list(
        active.filter(pk__in=User.objects.filter(roles__key__in=ADMIN_ROLES).values("pk"))
        .order_by("full_name", "email")
        .only("full_name", "email", "last_login", "password")
    )
    names = role_names_of([admin.pk for admin in admins])
    facts.admins = [
        InstitutionAdmin(
            name=admin.full_name,
            email=admin.email,
            roles=tuple(names.get(admin.pk, [])),
            last_login=admin.last_login,
            has_password=admin.has_usable_password(),
        )
        for admin in admins
    ]
    facts.activity_seen(User.objects.aggregate(latest=Max("last_login"))["latest"])


def cohorts_read(institution: Institution, facts: InstitutionFacts) -> None:
    facts.counts["Cohorts"] = Cohort.objects.count()


def students_read(institution: Institution, facts: InstitutionFacts) -> None:
    """Everyone enrolled in a cohort, once however many cohorts they are in."""
    facts.counts["Students"] = CohortEnrollment.objects.values("user_id").distinct().count()


def activity_read(institution: Institution, facts: InstitutionFacts) -> None:
    """The latest thing a person did there (the trail: sign-ins, changes, signatures), and the
    platform's own trail of the institution's creation, suspensions and reactivations."""
    latest = (
        AuditEvent.objects.filter(actor__isnull=False)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    facts.activity_seen(latest)
    with schema_context(get_public_schema_name()):
        events = AuditEvent.objects.filter(
            entity_type=Institution._meta.label_lower,
            entity_id=str(institution.pk),
            action__in=list(STATUS_ACTIONS),
        ).order_by("-created_at", "-pk")
        facts.status_history = [
            StatusChange(
                at=event.created_at,
                what=STATUS_ACTIONS[event.action],
                by=event.actor_email or "A command on the server",
                reason=str(event.new_values.get("reason", "")),
            )
            for event in events
        ]


def readers_register() -> None:
    for reader in (people_read, cohorts_read, students_read, activity_read):
        facts_reader_register(reader)
