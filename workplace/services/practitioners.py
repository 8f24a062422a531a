"""Assessors' and moderators' registrations: registering a person (who holds the role's
permission) with their number, the qualifications it covers and its expiry date; changing or
withdrawing it; and warning, once per expiry date, a month before it runs out.

Every change checks `workplace.manage_practitioners` before its transaction (the system,
`actor=None`, warns), runs in one transaction and writes its audit event. The registration
number is personal: events record that it changed, never its value."""

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from academics.models import Programme
from accounts.models import User
from accounts.permissions import permission_check
from accounts.selectors import users_with_permission
from audit.services import audit_record
from notifications.services import email_enqueue
from tenants.db import tenant_connection
from tenants.sites import institution_url
from workplace.access import ASSESS, MANAGE_PRACTITIONERS, MODERATE
from workplace.models import PractitionerRegistration, PractitionerRole

# How long before its expiry date a registration is warned about (once per date), and how far
# ahead the list's "expiring" filter looks.
EXPIRY_WARNING_DAYS = 30
# The permission a person needs to be registered in each role.
ROLE_PERMISSIONS = {PractitionerRole.ASSESSOR: ASSESS, PractitionerRole.MODERATOR: MODERATE}


def role_permission(role: str) -> str:
    return ROLE_PERMISSIONS[PractitionerRole(role)]


def expiry_warning_due(today: datetime.date) -> Q:
    """For a registration in a queryset: active, expiring within EXPIRY_WARNING_DAYS of `today`
    (not yet expired), and not yet warned about for its current expiry date."""
    return Q(
        is_active=True,
        expires_on__gte=today,
        expires_on__lte=today + datetime.timedelta(days=EXPIRY_WARNING_DAYS),
    ) & ~Q(expiry_warned_for=F("expires_on"))


def _date_text(value: datetime.date) -> str:
    return f"{value:%-d %B %Y}"


def _registration_clean(
    *,
    registration: PractitionerRegistration | None,
    user: User,
    role: str,
    registration_number: str,
    registered_on: datetime.date | None,
    expires_on: datetime.date | None,
    scope: list[Programme],
    is_active: bool,
    today: datetime.date,
) -> str:
    """Check a registration as it would be saved; the number, tidied. Each refusal is keyed by
    the form field it belongs to."""
    errors: dict[str, list[str]] = {}
    number = " ".join(registration_number.split())
    role_name = PractitionerRole(role).label.lower()
    if not number:
        errors["registration_number"] = ["Give the registration number."]
    else:
        taken = PractitionerRegistration.objects.filter(
            role=role, registration_number__iexact=number
        )
        if registration is not None:
            taken = taken.exclude(pk=registration.pk)
        if taken.exists():
            errors["registration_number"] = [
                f"Another {role_name} registration has this number: check it, or edit that one."
            ]
    if expires_on is None:
        errors["expires_on"] = ["Give the date the registration expires."]
    elif (registration is None or expires_on != registration.expires_on) and expires_on <= today:
        errors["expires_on"] = [
            "The expiry date must be in the future: an expired registration lets nobody assess "
            "or moderate."
        ]
    if registered_on is not None:
        if registered_on > today:
            errors["registered_on"] = ["The registration date cannot be in the future."]
        elif expires_on is not None and registered_on >= expires_on:
            errors["registered_on"] = ["The registration date must be before its expiry date."]
    if not scope:
        errors["scope"] = ["Choose at least one programme the registration covers."]
    if is_active:
        if not user.may(role_permission(role)):
            errors["user"] = [
                f"{user.full_name or user.email} does not hold the {role_name} role: give it to "
                f"them first (on the People page)."
            ]
        others = PractitionerRegistration.objects.filter(user=user, role=role, is_active=True)
        if registration is not None:
            others = others.exclude(pk=registration.pk)
        if others.exists():
            errors.setdefault("user", []).append(
                f"{user.full_name or user.email} already has an active {role_name} registration: "
                "edit it, or withdraw it first."
            )
    if errors:
        raise ValidationError(errors)
    return number


def _scope_ids(scope: Iterable[Programme]) -> list[int]:
    return sorted(programme.pk for programme in scope)


def _saved(registration: PractitionerRegistration, **kwargs: Any) -> None:
    """Save, turning a lost race on the unique constraints into the refusal the checks give."""
    try:
        with transaction.atomic():
            registration.save(**kwargs)
    except IntegrityError as error:
        raise ValidationError(
            "Another registration was saved with this number, or for this person and role, "
            "at the same moment: check the list and try again."
        ) from error


def registration_create(
    *,
    actor: User | None,
    user: User,
    role: str,
    registration_number: str,
    expires_on: datetime.date | None,
    scope: Iterable[Programme],
    registered_with: str = "",
    registered_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> PractitionerRegistration:
    """Register `user` as an assessor or a moderator of the programmes of `scope`."""
    permission_check(
        actor=actor, permission=MANAGE_PRACTITIONERS, action="workplace.registration_create"
    )
    today = today or timezone.localdate()
    programmes = list(scope)
    with transaction.atomic(durable=True):
        number = _registration_clean(
            registration=None,
            user=user,
            role=role,
            registration_number=registration_number,
            registered_on=registered_on,
            expires_on=expires_on,
            scope=programmes,
            is_active=True,
            today=today,
        )
        assert expires_on is not None  # noqa: S101 (checked above; for mypy)
        registration = PractitionerRegistration(
            user=user,
            role=role,
            registration_number=number,
            registered_with=" ".join(registered_with.split()),
            registered_on=registered_on,
            expires_on=expires_on,
        )
        _saved(registration)
        registration.scope.set(programmes)
        audit_record(
            actor=actor,
            action="practitioner_registration.created",
            entity=registration,
            new_values={
                "user": user.pk,
                "role": registration.role,
                "registration_number": registration.registration_number,  # recorded as changed
                "registered_with": registration.registered_with,
                "registered_on": registered_on.isoformat() if registered_on else None,
                "expires_on": expires_on.isoformat(),
                "scope": _scope_ids(programmes),
            },
        )
    return registration


def registration_update(
    *,
    actor: User | None,
    registration: PractitionerRegistration,
    registration_number: str,
    expires_on: datetime.date | None,
    scope: Iterable[Programme],
    is_active: bool,
    registered_with: str = "",
    registered_on: datetime.date | None = None,
    today: datetime.date | None = None,
) -> PractitionerRegistration:
    """Change a registration (its person and role stay); `is_active=False` withdraws it. A new
    expiry date is warned about again when it comes near."""
    permission_check(
        actor=actor, permission=MANAGE_PRACTITIONERS, action="workplace.registration_update"
    )
    today = today or timezone.localdate()
    programmes = list(scope)
    with transaction.atomic(durable=True):
        locked = (
            PractitionerRegistration.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=registration.pk)
        )
        number = _registration_clean(
            registration=locked,
            user=locked.user,
            role=locked.role,
            registration_number=registration_number,
            registered_on=registered_on,
            expires_on=expires_on,
            scope=programmes,
            is_active=is_active,
            today=today,
        )
        new: dict[str, Any] = {
            "registration_number": number,
            "registered_with": " ".join(registered_with.split()),
            "registered_on": registered_on,
            "expires_on": expires_on,
            "is_active": is_active,
        }
        old_values: dict[str, Any] = {}
        new_values: dict[str, Any] = {}
        for name, value in new.items():
            current = getattr(locked, name)
            if current != value:
                old_values[name], new_values[name] = current, value
                setattr(locked, name, value)
        old_scope = _scope_ids(locked.scope.all())
        new_scope = _scope_ids(programmes)
        if old_scope != new_scope:
            old_values["scope"], new_values["scope"] = old_scope, new_scope
            locked.scope.set(programmes)
        if not new_values:
            return locked
        fields = [name for name in new_values if name != "scope"]
        if fields:
            _saved(locked, update_fields=[*fields, "updated_at"])
        audit_record(
            actor=actor,
            action="practitioner_registration.changed",
            entity=locked,
            old_values={name: _audit_value(value) for name, value in old_values.items()},
            new_values={name: _audit_value(value) for name, value in new_values.items()},
        )
    return locked


def _audit_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


def registration_expiry_warn(*, registration_id: int, today: datetime.date) -> bool:
    """E-mail, once per expiry date, that a registration expires within EXPIRY_WARNING_DAYS: to
    the practitioner and to the people who manage practitioners. The row's lock and
    `expiry_warned_for` make a second (or concurrent) run send nothing; a registration given a
    new expiry date is warned about again. False when not due."""
    with transaction.atomic(durable=True):
        registration = (
            PractitionerRegistration.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(expiry_warning_due(today), pk=registration_id)
            .first()
        )
        if registration is None:
            return False
        registration.expiry_warned_for = registration.expires_on
        registration.save(update_fields=["expiry_warned_for"])
        practitioner = registration.user
        context = {
            "practitioner_name": practitioner.full_name or practitioner.email,
            "role": registration.get_role_display().lower(),
            "registered_with": registration.registered_with,
            "expires_on": _date_text(registration.expires_on),
        }
        recipients = 0
        if practitioner.is_active:
            email_enqueue(
                recipient=practitioner.email,
                template="registration_expiring_practitioner",
                context={**context, "full_name": practitioner.full_name},
            )
            recipients += 1
        staff_url = institution_url(tenant_connection.tenant, registration.get_absolute_url())
        for person in users_with_permission(MANAGE_PRACTITIONERS).exclude(pk=practitioner.pk):
            email_enqueue(
                recipient=person.email,
                template="registration_expiring",
                context={**context, "full_name": person.full_name, "url": staff_url},
            )
            recipients += 1
        audit_record(
            action="practitioner_registration.expiry_warned",
            entity=registration,
            new_values={
                "expiry_warned_for": registration.expires_on.isoformat(),
                "recipients": recipients,
            },
        )
    return True
