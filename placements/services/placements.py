"""Placements from proposal to their end (seed 001 `placements`). Every change checks the
permission, runs in one transaction and writes its audit event.

Who does what: the institution (`placements.manage_placements`) proposes, cancels, starts,
completes and terminates; the host organisation's member, acting for their current organisation
(placements.access), confirms or declines what was proposed to it; an admin may confirm on the
organisation's behalf. Confirming needs the learner cleared for placement on the start date and
a free place for the subject and year, checked under a lock on the organisation's preference
for that year (and on the urgent request's invite, for a placement linked to one), so that two
confirmations at once never take the same last place. Clearance is read under a lock on the
learner's row, which the vetting services take too when a clearance fails or lapses.

A placement belongs to a cohort the learner is enrolled in (not withdrawn): its programme says
which vetting the learner needs. Its subject is one the organisation offers places in for the
year, or the subject of an urgent request the organisation answered "can host"."""

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from academics.models import AcademicYear
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record, kept_out
from cohorts.models import Cohort
from enrolments.models import CohortEnrollment, EnrollmentState
from learners.models import Learner
from notifications.services import email_enqueue
from placements.access import current_organisation
from placements.models import (
    OPEN_PLACEMENT_STATUSES,
    Organisation,
    OrganisationContact,
    OrganisationMembership,
    Placement,
    PlacementPreference,
    PlacementStatus,
    PlacementSubject,
    UrgentAnswer,
    UrgentPlacementInvite,
    UrgentPlacementRequest,
)
from placements.preferences import offered_places
from placements.selectors.capacity import places_free, urgent_places_free
from placements.selectors.clearance import vetting_missing
from placements.signals import placement_confirmed
from tenants.db import tenant_connection
from tenants.sites import institution_url

MANAGE_PLACEMENTS = "placements.manage_placements"


@dataclass(frozen=True)
class Proposal:
    """What proposing a placement needs (one of a bulk proposal from the matching page)."""

    learner: Learner
    organisation: Organisation
    academic_year: AcademicYear
    subject: PlacementSubject
    starts_on: datetime.date
    ends_on: datetime.date
    cohort: Cohort | None = None
    supervisor: OrganisationContact | None = None
    urgent_request: UrgentPlacementRequest | None = None


def _day(day: datetime.date) -> str:
    return f"{day:%-d %b %Y}"


def _enrolment_error(learner: Learner, cohort: Cohort | None) -> str:
    """Why the placement cannot count towards `cohort` ("" when it can): the learner must have
    an enrolment in it that is not withdrawn."""
    if cohort is None:
        return (
            f"{learner.full_name}: choose the cohort whose workplace component this is: its "
            "programme decides the vetting the learner needs."
        )
    enrolled = (
        CohortEnrollment.objects.filter(cohort=cohort, learner=learner)
        .exclude(state=EnrollmentState.WITHDRAWN)
        .exists()
    )
    if not enrolled:
        return f"{learner.full_name} is not enrolled in {cohort} (or has withdrawn from it)."
    return ""


def _can_host(proposal: Proposal) -> UrgentPlacementInvite | None:
    """The organisation's can-host answer to the proposal's urgent request, when it has one."""
    if proposal.urgent_request is None:
        return None
    invite: UrgentPlacementInvite | None = UrgentPlacementInvite.objects.filter(
        request=proposal.urgent_request,
        organisation=proposal.organisation,
        answer=UrgentAnswer.CAN_HOST,
    ).first()
    return invite


def _offer_errors(proposal: Proposal) -> list[str]:
    """The organisation must offer places in the subject that year, on the proposal's dates
    when its preference lists windows; or have answered the urgent request "can host", the
    proposal being for that request's subject, year and dates."""
    name, organisation, subject = (
        proposal.learner.full_name,
        proposal.organisation,
        proposal.subject,
    )
    request = proposal.urgent_request
    if request is not None:
        if _can_host(proposal) is None:
            return [f'{name}: {organisation} has not answered the urgent request "can host".']
        errors = []
        if request.subject_id != subject.pk or request.academic_year_id != (
            proposal.academic_year.pk
        ):
            errors.append(
                f"{name}: the urgent request is for {request.subject} in "
                f"{request.academic_year}: propose that subject and year."
            )
        if proposal.starts_on < request.starts_on or proposal.ends_on > request.ends_on:
            errors.append(
                f"{name}: the dates are not within the urgent request's "
                f"({_day(request.starts_on)} to {_day(request.ends_on)})."
            )
        return errors
    preference = PlacementPreference.objects.filter(
        organisation=organisation, academic_year=proposal.academic_year
    ).first()
    details = preference.placement_details if preference else {}
    if not offered_places(details, subject=subject.code, phase=subject.phase):
        return [
            f"{name}: {organisation} offers no places in {subject} in {proposal.academic_year}."
        ]
    windows = details.get("windows", [])
    starts_on, ends_on = str(proposal.starts_on), str(proposal.ends_on)
    within = any(
        starts_on >= window["starts_on"] and ends_on <= window["ends_on"] for window in windows
    )
    if windows and not within:
        listed = "; ".join(
            f"{_day(datetime.date.fromisoformat(window['starts_on']))} to "
            f"{_day(datetime.date.fromisoformat(window['ends_on']))}"
            for window in windows
        )
        return [
            f"{name}: {organisation} hosts learners in {proposal.academic_year} only within "
            f"one of its windows: {listed}."
        ]
    return []


def _proposal_errors(proposal: Proposal) -> list[str]:
    name = proposal.learner.full_name
    errors = []
    if enrolment_error := _enrolment_error(proposal.learner, proposal.cohort):
        errors.append(enrolment_error)
    if proposal.ends_on < proposal.starts_on:
        errors.append(f"{name}: the placement cannot end before it starts.")
    year = proposal.academic_year
    if proposal.starts_on < year.starts_on or proposal.ends_on > year.ends_on:
        errors.append(f"{name}: the dates are not within the academic year {year}.")
    if not proposal.organisation.is_active:
        errors.append(f"{name}: {proposal.organisation} no longer hosts learners.")
    if not proposal.subject.is_active:
        errors.append(f"{name}: {proposal.subject} is no longer offered as a subject.")
    if proposal.supervisor and proposal.supervisor.organisation_id != proposal.organisation.pk:
        errors.append(f"{name}: the supervisor must be one of {proposal.organisation}'s contacts.")
    if not errors:
        errors.extend(_offer_errors(proposal))
    return errors


def placements_propose(*, actor: User | None, proposals: list[Proposal]) -> list[Placement]:
    """Propose placements, all or none: a learner may not have two open placements (proposed,
    confirmed or active) that overlap in time. Each is audited; the organisation's members are
    e-mailed (once per organisation) and answer from their own pages."""
    permission_check(actor=actor, permission=MANAGE_PLACEMENTS, action="placement.propose")
    errors = [error for proposal in proposals for error in _proposal_errors(proposal)]
    if errors:
        raise ValidationError(errors)
    made: list[Placement] = []
    with transaction.atomic(durable=True):
        # In learner order, so that two bulk proposals lock the same learners in the same order.
        learners = {
            learner.pk: learner
            for learner in Learner.objects.select_for_update()
            .filter(pk__in=sorted({p.learner.pk for p in proposals}))
            .order_by("pk")
        }
        for proposal in proposals:
            overlapping = Placement.objects.filter(
                learner=proposal.learner,
                status__in=OPEN_PLACEMENT_STATUSES,
                starts_on__lte=proposal.ends_on,
                ends_on__gte=proposal.starts_on,
            ).exists() or any(
                other.learner.pk == proposal.learner.pk
                and other.starts_on <= proposal.ends_on
                and other.ends_on >= proposal.starts_on
                for other in made
            )
            if overlapping:
                errors.append(
                    f"{learners[proposal.learner.pk].full_name} already has a placement "
                    "at that time."
                )
                continue
            placement = Placement.objects.create(
                learner=proposal.learner,
                organisation=proposal.organisation,
                cohort=proposal.cohort,
                academic_year=proposal.academic_year,
                subject=proposal.subject,
                starts_on=proposal.starts_on,
                ends_on=proposal.ends_on,
                supervisor=proposal.supervisor,
                urgent_request=proposal.urgent_request,
                proposed_by=actor,
            )
            audit_record(
                actor=actor,
                action="placement.propose",
                entity=placement,
                new_values={
                    "learner": placement.learner_id,
                    "organisation": placement.organisation_id,
                    "subject": proposal.subject.code,
                    "starts_on": str(placement.starts_on),
                    "ends_on": str(placement.ends_on),
                },
            )
            made.append(placement)
        if errors:
            raise ValidationError(errors)
        _members_notify(made)
    return made


def _members_notify(placements: list[Placement]) -> None:
    """E-mail each member of each organisation the learners proposed to it, one message per
    organisation (a bulk proposal may put several learners at one school)."""
    by_organisation: dict[Organisation, list[Placement]] = defaultdict(list)
    for placement in placements:
        by_organisation[placement.organisation].append(placement)
    url = institution_url(tenant_connection.tenant, reverse("placements:member_placements"))
    for organisation, proposed in by_organisation.items():
        members = OrganisationMembership.objects.filter(
            organisation=organisation, user__is_active=True
        ).select_related("user")
        for membership in members:
            email_enqueue(
                recipient=membership.user.email,
                template="placement_proposed",
                context={
                    "full_name": membership.user.full_name,
                    "organisation_name": organisation.name,
                    "placements": [
                        {
                            "learner": placement.learner.full_name,
                            "subject": placement.subject.name,
                            "starts_on": f"{placement.starts_on:%-d %B %Y}",
                            "ends_on": f"{placement.ends_on:%-d %B %Y}",
                        }
                        for placement in proposed
                    ],
                    "url": url,
                },
            )


def _lock(placement: Placement) -> Placement:
    """The placement re-read under its row lock: its status is the committed one, so the FSM
    transition starts from it and ConcurrentTransitionMixin's save finds the same status."""
    locked: Placement = (
        Placement.objects.select_for_update(of=("self",))
        .select_related(
            "learner",
            "organisation",
            "academic_year",
            "subject",
            "cohort__programme",
            "urgent_request__subject",
            "urgent_request__academic_year",
        )
        .get(pk=placement.pk)
    )
    return locked


def _transition(placement: Placement, move: Callable[[], None], verb: str) -> None:
    try:
        move()
    except TransitionNotAllowed as refused:
        raise ValidationError(
            f"Cannot {verb} this placement: it is {placement.get_status_display().lower()}.",
            code="wrong_status",
        ) from refused


def _reason(reason: str, field: str, message: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({field: message}, code="required")
    return reason


def may_answer_for(user: User, placement: Placement) -> bool:
    """Whether `user` speaks for the placement's organisation: it is their current one."""
    organisation = current_organisation(user)
    return organisation is not None and organisation.pk == placement.organisation_id


def _clearance_check(placement: Placement, *, on: datetime.date) -> None:
    """Under a lock on the learner's row (vetting services lock it to fail, withdraw or expire a
    clearance): the learner is still enrolled in the placement's cohort and cleared on `on`
    for every vetting its programme requires."""
    Learner.objects.select_for_update().filter(pk=placement.learner_id).get()
    if enrolment_error := _enrolment_error(placement.learner, placement.cohort):
        raise ValidationError(enrolment_error, code="not_enrolled")
    assert placement.cohort is not None  # _enrolment_error refuses a placement without one
    missing = vetting_missing(placement.learner, placement.cohort.programme, on=on)
    if missing:
        names = ", ".join(vetting_type.name for vetting_type in missing)
        raise ValidationError(
            f"{placement.learner.full_name} is not cleared for placement on "
            f"{on:%-d %B %Y}: {names} not cleared.",
            code="not_cleared",
        )


def _hosting_check(placement: Placement) -> None:
    """The organisation still hosts learners and the subject is still offered."""
    if not placement.organisation.is_active:
        raise ValidationError(
            f"{placement.organisation} no longer hosts learners.", code="inactive_organisation"
        )
    if not placement.subject.is_active:
        raise ValidationError(
            f"{placement.subject} is no longer offered as a subject.", code="inactive_subject"
        )


def _capacity_check(placement: Placement) -> None:
    """Under a lock on the organisation's preference for the year: whoever confirms next waits
    here until this transaction ends, then counts this placement among the places taken. A
    placement linked to an urgent request also locks the organisation's answer to it, whose
    places count on top of the preference's."""
    preference = (
        PlacementPreference.objects.select_for_update()
        .filter(organisation=placement.organisation, academic_year=placement.academic_year)
        .first()
    )
    where = f"{placement.organisation} in {placement.academic_year}"
    request = placement.urgent_request
    if request is not None:
        invite = (
            UrgentPlacementInvite.objects.select_for_update()
            .filter(
                request=request, organisation=placement.organisation, answer=UrgentAnswer.CAN_HOST
            )
            .first()
        )
        if invite is None:
            raise ValidationError(
                f"{placement.organisation} no longer says it can host for the urgent request.",
                code="no_capacity",
            )
        if urgent_places_free(placement.organisation, request, invite) < 1:
            raise ValidationError(
                f"{where} has no free place for {placement.subject}: the places it offered "
                "for the urgent request and those of its preference are taken.",
                code="no_capacity",
            )
        return
    if preference is None:
        raise ValidationError(
            f"{where} has not said which placements it offers: it has no places to fill. "
            "Ask the organisation to set its preference for the year first.",
            code="no_capacity",
        )
    if places_free(placement.organisation, placement.academic_year, placement.subject) < 1:
        subject = placement.subject
        offered = offered_places(
            preference.placement_details, subject=subject.code, phase=subject.phase
        )
        raise ValidationError(
            f"{where} has no free place for {subject}: "
            + (
                f"the {offered} place{'s' if offered != 1 else ''} it offers "
                f"{'are' if offered != 1 else 'is'} taken."
                if offered
                else "it offers none in this subject."
            ),
            code="no_capacity",
        )


def placement_confirm(*, placement: Placement, actor: User) -> Placement:
    """Confirm a proposed placement, for the organisation (its member, for their current
    organisation) or on its behalf (an admin). Refused unless the learner is cleared on the
    start date and the organisation has a free place. `placement_confirmed` is sent inside
    the transaction: what a receiver writes rolls back with a failed confirmation. The learner
    is e-mailed."""
    permission_check(
        actor=actor,
        action="placement.confirm",
        allowed=actor.may(MANAGE_PLACEMENTS) or may_answer_for(actor, placement),
    )
    with transaction.atomic(durable=True):
        placement = _lock(placement)
        _transition(placement, placement.confirm, "confirm")
        _hosting_check(placement)
        _clearance_check(placement, on=placement.starts_on)
        _capacity_check(placement)
        placement.confirmed_by = actor
        placement.confirmed_at = timezone.now()
        placement.save()
        audit_record(
            actor=actor,
            action="placement.confirm",
            entity=placement,
            old_values={"status": PlacementStatus.PROPOSED},
            new_values={"status": PlacementStatus.CONFIRMED},
        )
        placement_confirmed.send(sender=Placement, placement=placement, actor=actor)
        _learner_notify(placement)
    return placement


def _learner_notify(placement: Placement) -> None:
    learner = placement.learner
    recipient = learner.user.email if learner.user else learner.email
    if not recipient:
        return
    supervisor = placement.supervisor
    email_enqueue(
        recipient=recipient,
        template="placement_confirmed",
        context={
            "full_name": learner.full_name,
            "organisation_name": placement.organisation.name,
            "subject": placement.subject.name,
            "starts_on": f"{placement.starts_on:%-d %B %Y}",
            "ends_on": f"{placement.ends_on:%-d %B %Y}",
            "supervisor": supervisor.full_name if supervisor else "",
            "url": institution_url(tenant_connection.tenant, reverse("placements:my_placements")),
        },
    )


def placement_decline(*, placement: Placement, actor: User, reason: str) -> Placement:
    """The organisation says no to a proposed placement (its member, for their current
    organisation): it is cancelled, marked as declined by the organisation, with the reason
    the institution reads."""
    permission_check(
        actor=actor, action="placement.decline", allowed=may_answer_for(actor, placement)
    )
    reason = _reason(reason, "reason", "Say why the organisation cannot host this learner.")
    with transaction.atomic(durable=True):
        placement = _lock(placement)
        _transition(placement, placement.cancel, "decline")
        placement.declined_by_organisation = True
        placement.end_reason = reason
        placement.ended_at = timezone.now()
        placement.save()
        audit_record(
            actor=actor,
            action="placement.decline",
            entity=placement,
            old_values={"status": PlacementStatus.PROPOSED},
            new_values={"status": PlacementStatus.CANCELLED, "reason": kept_out(reason)},
        )
    return placement


def _admin_change(
    *,
    placement: Placement,
    actor: User,
    verb: str,
    move: Callable[[Placement], Callable[[], None]],
    fields: dict[str, str],
    check: Callable[[Placement], None] | None = None,
) -> Placement:
    """One of the institution's transitions: lock, move, `check` the moved placement, set
    `fields` (free text typed by staff: the audit event records only that it was given),
    save, audit."""
    permission_check(actor=actor, permission=MANAGE_PLACEMENTS, action=f"placement.{verb}")
    with transaction.atomic(durable=True):
        placement = _lock(placement)
        old_status = placement.status
        _transition(placement, move(placement), verb)
        if check is not None:
            check(placement)
        for name, value in fields.items():
            setattr(placement, name, value)
        if placement.status in (PlacementStatus.TERMINATED, PlacementStatus.CANCELLED):
            placement.ended_at = timezone.now()
        placement.save()
        audit_record(
            actor=actor,
            action=f"placement.{verb}",
            entity=placement,
            old_values={"status": old_status},
            new_values={
                "status": placement.status,
                **{name: kept_out(value) for name, value in fields.items()},
            },
        )
    return placement


def placement_cancel(*, placement: Placement, actor: User, reason: str) -> Placement:
    """The institution withdraws a proposed placement."""
    reason = _reason(reason, "reason", "Say why the placement is cancelled.")
    return _admin_change(
        placement=placement,
        actor=actor,
        verb="cancel",
        move=lambda locked: locked.cancel,
        fields={"end_reason": reason},
    )


def placement_start(*, placement: Placement, actor: User) -> Placement:
    """The learner started at the organisation: refused unless they are cleared today (a
    clearance may have lapsed or failed since the placement was confirmed)."""
    return _admin_change(
        placement=placement,
        actor=actor,
        verb="start",
        move=lambda locked: locked.start,
        fields={},
        check=lambda locked: _clearance_check(locked, on=timezone.localdate()),
    )


def placement_complete(*, placement: Placement, actor: User, outcome_notes: str) -> Placement:
    """The placement ran its course; the outcome notes say how it went."""
    notes = _reason(outcome_notes, "outcome_notes", "Say how the placement went.")
    return _admin_change(
        placement=placement,
        actor=actor,
        verb="complete",
        move=lambda locked: locked.complete,
        fields={"outcome_notes": notes},
    )


def placement_terminate(*, placement: Placement, actor: User, reason: str) -> Placement:
    """End a confirmed or active placement early; the reason is required (the database
    refuses a terminated placement without one, too)."""
    reason = _reason(reason, "reason", "Say why the placement ends early.")
    return _admin_change(
        placement=placement,
        actor=actor,
        verb="terminate",
        move=lambda locked: locked.terminate,
        fields={"end_reason": reason},
    )
