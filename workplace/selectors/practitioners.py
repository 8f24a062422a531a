"""What the registrations' pages and the expiry warning read: registrations with their people
and scopes (a fixed number of queries whatever the list's length), who may be registered in
each role, and the registrations due a warning."""

import datetime

from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.utils import timezone

from academics.models import Programme
from accounts.models import User
from accounts.selectors import users_with_permission
from workplace.models import PractitionerRegistration
from workplace.services.practitioners import (
    EXPIRY_WARNING_DAYS,
    ROLE_PERMISSIONS,
    expiry_warning_due,
    role_permission,
)

# The list's standing filter: what each choice keeps.
STANDING_CHOICES = [
    ("current", "Current"),
    ("expiring", f"Expiring within {EXPIRY_WARNING_DAYS} days"),
    ("expired", "Expired"),
    ("withdrawn", "Withdrawn"),
]


def practitioner_candidates(role: str = "") -> QuerySet[User]:
    """The active people who may be registered as `role` (either role when not given): those
    whose roles give its permission."""
    if role:
        return users_with_permission(role_permission(role))
    either = Q()
    for permission in ROLE_PERMISSIONS.values():
        either |= Q(pk__in=users_with_permission(permission).values("pk"))
    return User.objects.filter(either).order_by("full_name", "email")


def registration_list(
    *,
    search: str = "",
    role: str = "",
    standing: str = "",
    today: datetime.date | None = None,
) -> QuerySet[PractitionerRegistration]:
    """Registrations with their person and scope, soonest expiry first. `standing` keeps the
    current (active, not expired), those expiring within EXPIRY_WARNING_DAYS, the expired
    (still active, past their date) or the withdrawn; `search` matches the person's name or
    e-mail address or the body that registered them. Each row's `standing` is one of those
    four words."""
    today = today or timezone.localdate()
    soon = today + datetime.timedelta(days=EXPIRY_WARNING_DAYS)
    registrations = (
        PractitionerRegistration.objects.select_related("user")
        .prefetch_related("scope")
        .annotate(
            standing=Case(
                When(is_active=False, then=Value("withdrawn")),
                When(expires_on__lt=today, then=Value("expired")),
                When(expires_on__lte=soon, then=Value("expiring")),
                default=Value("current"),
                output_field=CharField(),
            )
        )
    )
    if role:
        registrations = registrations.filter(role=role)
    if standing == "current":
        registrations = registrations.filter(is_active=True, expires_on__gte=today)
    elif standing == "expiring":
        registrations = registrations.filter(
            is_active=True, expires_on__gte=today, expires_on__lte=soon
        )
    elif standing == "expired":
        registrations = registrations.filter(is_active=True, expires_on__lt=today)
    elif standing == "withdrawn":
        registrations = registrations.filter(is_active=False)
    if search:
        term = " ".join(search.split())
        registrations = registrations.filter(
            Q(user__full_name__icontains=term)
            | Q(user__email__icontains=term)
            | Q(registered_with__icontains=term)
        )
    return registrations.order_by("-is_active", "expires_on", "user__full_name", "pk")


def registration_for_edit(*, pk: int) -> PractitionerRegistration:
    """One registration with its person and scope (DoesNotExist if there is none)."""
    registration: PractitionerRegistration = (
        PractitionerRegistration.objects.select_related("user").prefetch_related("scope").get(pk=pk)
    )
    return registration


def scope_choices(registration: PractitionerRegistration | None = None) -> QuerySet[Programme]:
    """The programmes a registration may cover: the active ones, and those it covers already."""
    programmes = Q(is_active=True)
    if registration is not None:
        programmes |= Q(pk__in=registration.scope.values("pk"))
    return Programme.objects.filter(programmes).order_by("name", "code")


def registrations_due_warning(today: datetime.date) -> list[int]:
    """The ids of the registrations to warn about today (see expiry_warning_due)."""
    return list(
        PractitionerRegistration.objects.filter(expiry_warning_due(today))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
