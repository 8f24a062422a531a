"""Urgent placement requests: an admin broadcasts a need to the organisations within a radius
that said they are interested or unsure that year; their members answer for their current
organisation; the admin reads the answers on one page and closes the request. Every change
checks the permission, runs in one transaction and writes its audit event; e-mails leave only
if it commits."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from academics.models import AcademicYear
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from notifications.services import email_enqueue
from placements.access import current_organisation
from placements.models import (
    OrganisationMembership,
    PlacementSubject,
    UrgentAnswer,
    UrgentPlacementInvite,
    UrgentPlacementRequest,
    UrgentRequestStatus,
)
from placements.selectors.distance import Point, organisations_near
from placements.selectors.search import WILLING
from placements.services.placements import MANAGE_PLACEMENTS
from tenants.db import tenant_connection
from tenants.sites import institution_url


@dataclass(frozen=True)
class UrgentNeed:
    """What an urgent request asks for, and where."""

    subject: PlacementSubject
    phase: str
    academic_year: AcademicYear
    starts_on: datetime.date
    ends_on: datetime.date
    places: int
    centre: Point
    radius_km: int
    centre_label: str = ""
    message: str = ""


def _need_errors(need: UrgentNeed) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    year = need.academic_year
    if need.ends_on < need.starts_on:
        errors.setdefault("ends_on", []).append("The placement cannot end before it starts.")
    elif need.starts_on < year.starts_on or need.ends_on > year.ends_on:
        errors.setdefault("starts_on", []).append(
            f"The dates must be within the academic year {year} "
            f"({year.starts_on:%-d %b %Y} to {year.ends_on:%-d %b %Y})."
        )
    if not need.subject.is_active:
        errors.setdefault("subject", []).append(f"{need.subject} is no longer offered.")
    if need.phase != need.subject.phase:
        errors.setdefault("phase", []).append(
            f"{need.subject.name} is a {need.subject.get_phase_display().lower()} subject."
        )
    if not 1 <= need.places <= 500:
        errors.setdefault("places", []).append("Ask for 1 to 500 places.")
    if not 1 <= need.radius_km <= 500:
        errors.setdefault("radius_km", []).append("The radius must be 1 to 500 km.")
    return errors


def _recipients(organisation_ids: list[int]) -> dict[int, list[str]]:
    """Each organisation's members' addresses; the organisation's own address when it has no
    member (none when it has neither)."""
    members: dict[int, list[str]] = {}
    for organisation_id, email in (
        OrganisationMembership.objects.filter(
            organisation_id__in=organisation_ids,
            user__is_active=True,
            user__deleted_at__isnull=True,
        )
        .order_by("organisation_id", "user__email")
        .values_list("organisation_id", "user__email")
    ):
        members.setdefault(organisation_id, []).append(email)
    return members


def urgent_request_broadcast(*, actor: User | None, need: UrgentNeed) -> UrgentPlacementRequest:
    """Record the request and invite every active organisation within the radius whose
    preference for the year is interested or unsure, e-mailing its members (or its own
    address). A need that reaches nobody is refused and nothing is written."""
    permission_check(actor=actor, permission=MANAGE_PLACEMENTS, action="urgent_request.create")
    errors = _need_errors(need)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(durable=True):
        reached = list(
            organisations_near(
                need.centre,
                need.radius_km,
                academic_year=need.academic_year,
                appetites=WILLING,
            )
        )
        if not reached:
            raise ValidationError(
                f"No active organisation within {need.radius_km} km said it is interested or "
                f"unsure about placements in {need.academic_year}: widen the radius or choose "
                "another centre. Nothing was sent."
            )
        request = UrgentPlacementRequest.objects.create(
            subject=need.subject,
            phase=need.phase,
            academic_year=need.academic_year,
            starts_on=need.starts_on,
            ends_on=need.ends_on,
            places=need.places,
            latitude=need.centre.latitude,
            longitude=need.centre.longitude,
            radius_km=need.radius_km,
            centre_label=need.centre_label,
            message=need.message,
            created_by=actor,
        )
        invites = UrgentPlacementInvite.objects.bulk_create(
            UrgentPlacementInvite(
                request=request,
                organisation=organisation,
                distance_km=organisation.distance_km,  # type: ignore[attr-defined]
            )
            for organisation in reached
        )
        members = _recipients([organisation.pk for organisation in reached])
        sent = 0
        for invite, organisation in zip(invites, reached, strict=True):
            addresses = members.get(organisation.pk) or (
                [organisation.email_address] if organisation.email_address else []
            )
            url = institution_url(
                tenant_connection.tenant,
                reverse("placements:member_urgent_answer", args=[invite.pk]),
            )
            for address in addresses:
                email_enqueue(
                    recipient=address,
                    template="urgent_placement_request",
                    context={
                        "organisation_name": organisation.name,
                        "subject": str(need.subject),
                        "places": need.places,
                        "starts_on": f"{need.starts_on:%-d %b %Y}",
                        "ends_on": f"{need.ends_on:%-d %b %Y}",
                        "distance_km": f"{invite.distance_km:.1f}",
                        "message": need.message,
                        "url": url,
                    },
                )
                sent += 1
        audit_record(
            actor=actor,
            action="urgent_request.create",
            entity=request,
            new_values={
                "subject": need.subject.code,
                "phase": need.phase,
                "academic_year": need.academic_year.pk,
                "starts_on": str(need.starts_on),
                "ends_on": str(need.ends_on),
                "places": need.places,
                "radius_km": need.radius_km,
                "invited": len(invites),
                "emails": sent,
            },
        )
    return request


def urgent_invite_answer(
    *,
    actor: User,
    invite: UrgentPlacementInvite,
    answer: str,
    places_offered: int | None,
    note: str,
) -> UrgentPlacementInvite:
    """A member's answer for their current organisation, while the request is open; it may
    be changed until the request is closed."""
    organisation = current_organisation(actor)
    permission_check(
        actor=actor,
        action="urgent_invite.answer",
        allowed=organisation is not None and organisation.pk == invite.organisation_id,
    )
    if answer not in (UrgentAnswer.CAN_HOST, UrgentAnswer.CANNOT_HOST):
        raise ValidationError({"answer": "Say whether you can host."})
    with transaction.atomic(durable=True):
        request = UrgentPlacementRequest.objects.select_for_update().get(pk=invite.request_id)
        locked = UrgentPlacementInvite.objects.select_for_update().get(pk=invite.pk)
        if request.status != UrgentRequestStatus.OPEN:
            raise ValidationError("This request is closed: it can no longer be answered.")
        if answer == UrgentAnswer.CAN_HOST:
            if places_offered is None or not 1 <= places_offered <= request.places:
                raise ValidationError({"places_offered": f"Offer 1 to {request.places} places."})
        else:
            places_offered = None
        old = {"answer": locked.answer, "places_offered": locked.places_offered}
        locked.answer = answer
        locked.places_offered = places_offered
        locked.note = note.strip()
        locked.answered_by = actor
        locked.answered_at = timezone.now()
        locked.save(
            update_fields=["answer", "places_offered", "note", "answered_by", "answered_at"]
        )
        audit_record(
            actor=actor,
            action="urgent_invite.answer",
            entity=locked,
            old_values=old,
            new_values={"answer": answer, "places_offered": places_offered},
        )
    return locked


def urgent_request_close(*, actor: User | None, request: UrgentPlacementRequest) -> None:
    """No more answers: the request stays on record with its invites."""
    permission_check(actor=actor, permission=MANAGE_PLACEMENTS, action="urgent_request.close")
    with transaction.atomic(durable=True):
        locked = UrgentPlacementRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status == UrgentRequestStatus.CLOSED:
            raise ValidationError("This request is already closed.")
        locked.status = UrgentRequestStatus.CLOSED
        locked.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="urgent_request.close",
            entity=locked,
            old_values={"status": UrgentRequestStatus.OPEN},
            new_values={"status": UrgentRequestStatus.CLOSED},
        )
    request.status = UrgentRequestStatus.CLOSED
