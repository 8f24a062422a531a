"""Placement preferences (seed 003): an organisation's member, or an admin on its behalf, sets
what it offers in an academic year; the institution reminds those that have not answered."""

import datetime
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from academics.models import AcademicYear
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record, kept_out
from notifications.services import email_enqueue
from placements.access import current_organisation
from placements.models import (
    PLACES_TAKEN_STATUSES,
    Appetite,
    Organisation,
    OrganisationMembership,
    Placement,
    PlacementPreference,
    PlacementSubject,
    PreferenceReminder,
)
from placements.preferences import details_validate, offered_places
from placements.services.memberships import MANAGE_ORGANISATIONS
from tenants.db import tenant_connection
from tenants.sites import institution_url

# An organisation is reminded about a year at most once in this long.
REMINDER_INTERVAL = datetime.timedelta(hours=24)


def active_subject_phases() -> dict[str, str]:
    """Each subject in use, by code, with its phase: what a preference may offer places in."""
    return dict(PlacementSubject.objects.filter(is_active=True).values_list("code", "phase"))


def _validate(raw: dict[str, Any], *, appetite: str, year: AcademicYear) -> dict[str, Any]:
    return details_validate(
        raw,
        appetite=appetite,
        subject_phases=active_subject_phases(),
        year_starts_on=year.starts_on,
        year_ends_on=year.ends_on,
    )


def _messages(error: ValidationError) -> list[str]:
    return list(error.messages)


# The schema's path in front of a line's complaint: "places → 2 → places: ", "windows → 0: ".
_LINE_PATH = re.compile(r"^(?:(?:places|windows) → \d+(?: → \w+)?|notes): ")


def _strip_location(message: str) -> str:
    """A line's complaint without the schema's path: it is shown beside the line it is about
    (whose position in the list checked is not the row's on the page)."""
    return _LINE_PATH.sub("", message)


def details_errors_located(
    raw: dict[str, Any], *, appetite: str, year: AcademicYear
) -> dict[str, list[str]]:
    """What details_validate says about `raw`, keyed by where it belongs: "places-<i>" and
    "windows-<i>" (the i-th line of each list), "notes", "appetite", else "__all__". Each line
    is checked together with the good lines before it, so that a line repeating an earlier one
    carries the complaint."""
    try:
        _validate(raw, appetite=appetite, year=year)
    except ValidationError as whole:
        complaint = whole
    else:
        return {}
    errors: dict[str, list[str]] = {}
    for key in ("places", "windows"):
        good: list[Any] = []
        for index, line in enumerate(raw.get(key, [])):
            try:
                _validate({key: [*good, line]}, appetite=Appetite.INTERESTED, year=year)
            except ValidationError as error:
                errors[f"{key}-{index}"] = [_strip_location(m) for m in _messages(error)]
            else:
                good.append(line)
    try:
        _validate({"notes": raw.get("notes", "")}, appetite=Appetite.INTERESTED, year=year)
    except ValidationError as error:
        errors["notes"] = [_strip_location(m) for m in _messages(error)]
    if errors:
        return errors
    # Every line is good on its own terms: what is left is the appetite's.
    try:
        _validate(raw, appetite=Appetite.INTERESTED, year=year)
    except ValidationError:
        return {"__all__": _messages(complaint)}
    return {"appetite": _messages(complaint)}


def _audited(details: dict[str, Any]) -> dict[str, Any]:
    """The details as an audit event keeps them: the notes are typed free text, so only whether
    there were any."""
    return {**details, "notes": kept_out(details.get("notes", ""))}


def places_taken_refusals(
    *,
    organisation: Organisation,
    academic_year: AcademicYear,
    appetite: str,
    details: dict[str, Any],
) -> dict[str, list[str]]:
    """Why `details` (as stored) would offer fewer places in a subject than the organisation's
    placements already take in that year (confirmed, active or completed), keyed "appetite"
    when the answer is not interested, else "__all__"; empty when nothing is refused."""
    taken = Counter(
        Placement.objects.filter(
            organisation=organisation,
            academic_year=academic_year,
            status__in=PLACES_TAKEN_STATUSES,
        ).values_list("subject_id", flat=True)
    )
    if not taken:
        return {}
    messages = []
    for subject in PlacementSubject.objects.filter(pk__in=taken).order_by("name"):
        count = taken[subject.pk]
        offered = offered_places(details, subject=subject.code, phase=subject.phase)
        taken_by = (
            f"{subject.name} has {count} placement{'s' * (count != 1)} taken this year "
            "(confirmed, active or completed)"
        )
        if appetite == Appetite.NOT_INTERESTED:
            messages.append(f"{taken_by}: answer interested or unsure while they stand.")
        elif offered < count:
            messages.append(f"{taken_by}: offer at least {count} place{'s' * (count != 1)} in it.")
    if not messages:
        return {}
    return {"appetite" if appetite == Appetite.NOT_INTERESTED else "__all__": messages}


def preference_set(
    *,
    actor: User,
    organisation: Organisation,
    academic_year: AcademicYear,
    appetite: str,
    details: dict[str, Any],
) -> PlacementPreference:
    """Create or replace `organisation`'s preference for `academic_year`. A member may set
    their current organisation's (not another they belong to), an admin (manage_organisations)
    any organisation's. Refused for a year that has ended, and for fewer places in a subject
    than its placements already take (see places_taken_refusals); the details are stored only
    as placements.preferences accepts them, and a refusal says where each complaint belongs
    (see details_errors_located)."""
    current = current_organisation(actor)
    permission_check(
        actor=actor,
        allowed=(current is not None and current.pk == organisation.pk)
        or actor.may(MANAGE_ORGANISATIONS),
        action="placement_preference.set",
    )
    if appetite not in Appetite.values:
        raise ValidationError({"appetite": "Choose whether the organisation is interested."})
    if academic_year.ends_on < timezone.localdate():
        raise ValidationError(f"The academic year {academic_year} has ended: its preference stays.")
    errors = details_errors_located(details, appetite=appetite, year=academic_year)
    if errors:
        raise ValidationError(errors)
    stored = _validate(details, appetite=appetite, year=academic_year)
    with transaction.atomic(durable=True):
        preference = (
            PlacementPreference.objects.select_for_update()
            .filter(organisation=organisation, academic_year=academic_year)
            .first()
        )
        # Confirming a placement re-reads the free places under this same lock.
        refusals = places_taken_refusals(
            organisation=organisation,
            academic_year=academic_year,
            appetite=appetite,
            details=stored,
        )
        if refusals:
            raise ValidationError(refusals)
        old_values: dict[str, Any] = {}
        if preference is None:
            preference = PlacementPreference(
                organisation=organisation, academic_year=academic_year, created_by=actor
            )
        else:
            old_values = {
                "appetite": preference.appetite,
                "placement_details": _audited(preference.placement_details),
            }
        preference.appetite = appetite
        preference.placement_details = stored
        preference.updated_by = actor
        preference.full_clean()
        preference.save()
        audit_record(
            actor=actor,
            action="placement_preference.set",
            entity=preference,
            old_values=old_values,
            new_values={
                "organisation": organisation.pk,
                "academic_year": academic_year.pk,
                "appetite": appetite,
                "placement_details": _audited(stored),
            },
        )
    return preference


@dataclass
class RemindersSent:
    """What a round of reminders did, organisation by organisation."""

    sent: list[Organisation] = field(default_factory=list)
    too_soon: list[Organisation] = field(default_factory=list)
    answered: list[Organisation] = field(default_factory=list)
    no_address: list[Organisation] = field(default_factory=list)


def reminder_recipients(organisation: Organisation) -> list[str]:
    """Who hears about an unanswered preference: the organisation's active members; without
    any, its own e-mail address and its placement leads'."""
    members = list(
        OrganisationMembership.objects.filter(
            organisation=organisation, user__is_active=True, user__deleted_at__isnull=True
        )
        .order_by("user__email")
        .values_list("user__email", flat=True)
    )
    if members:
        return members
    leads = organisation.contacts.filter(role__icontains="placement lead").exclude(email_address="")
    addresses = [organisation.email_address, *leads.values_list("email_address", flat=True)]
    return list(dict.fromkeys(address for address in addresses if address))


def preference_reminders_send(
    *, actor: User | None, academic_year: AcademicYear, organisations: list[Organisation]
) -> RemindersSent:
    """E-mail each of `organisations` that has not answered for `academic_year` a reminder
    (through the outbox, after commit) and record it. An organisation reminded less than
    REMINDER_INTERVAL ago is not reminded again; one that answered meanwhile, or has no
    address, is left out: the result says which."""
    permission_check(
        actor=actor, permission=MANAGE_ORGANISATIONS, action="placement_preference.remind"
    )
    outcome = RemindersSent()
    now = timezone.now()
    institution = tenant_connection.tenant
    member_url = institution_url(
        institution, reverse("placements:member_preference", args=[academic_year.pk])
    )
    with transaction.atomic(durable=True):
        # In pk order, so that two rounds at once lock the organisations in the same order.
        locked = list(
            Organisation.objects.select_for_update()
            .filter(pk__in=sorted(o.pk for o in organisations), is_active=True)
            .order_by("pk")
        )
        answered = set(
            PlacementPreference.objects.filter(
                academic_year=academic_year, organisation__in=locked
            ).values_list("organisation_id", flat=True)
        )
        recent = set(
            PreferenceReminder.objects.filter(
                academic_year=academic_year,
                organisation__in=locked,
                sent_at__gt=now - REMINDER_INTERVAL,
            ).values_list("organisation_id", flat=True)
        )
        for organisation in sorted(locked, key=lambda o: o.name):
            if organisation.pk in answered:
                outcome.answered.append(organisation)
                continue
            if organisation.pk in recent:
                outcome.too_soon.append(organisation)
                continue
            has_members = OrganisationMembership.objects.filter(
                organisation=organisation, user__is_active=True, user__deleted_at__isnull=True
            ).exists()
            recipients = reminder_recipients(organisation)
            if not recipients:
                outcome.no_address.append(organisation)
                continue
            for recipient in recipients:
                email_enqueue(
                    recipient=recipient,
                    template="preference_reminder",
                    context={
                        "organisation_name": organisation.name,
                        "academic_year": academic_year.name,
                        "starts_on": f"{academic_year.starts_on:%-d %B %Y}",
                        "url": member_url if has_members else "",
                    },
                )
            reminder = PreferenceReminder.objects.create(
                organisation=organisation, academic_year=academic_year, sent_by=actor
            )
            audit_record(
                actor=actor,
                action="placement_preference.reminded",
                entity=reminder,
                new_values={
                    "organisation": organisation.pk,
                    "academic_year": academic_year.pk,
                    "recipients": len(recipients),
                },
            )
            outcome.sent.append(organisation)
    return outcome
