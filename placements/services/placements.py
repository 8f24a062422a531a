"""Placements from proposal to their end (seed 001 `placements`). Every change checks the
permission, runs in one transaction and writes its audit event."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from academics.models import AcademicYear
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from cohorts.models import Cohort
from learners.models import Learner
from placements.models import (
    OPEN_PLACEMENT_STATUSES,
    Organisation,
    OrganisationContact,
    Placement,
    PlacementSubject,
    UrgentPlacementRequest,
)

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


def _proposal_errors(proposal: Proposal) -> list[str]:
    name = proposal.learner.full_name
    errors = []
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
    return errors


def placements_propose(*, actor: User | None, proposals: list[Proposal]) -> list[Placement]:
    """Propose placements, all or none: a learner may not have two open placements (proposed,
    confirmed or active) that overlap in time. Each is audited; the organisation's members
    answer it from their own pages."""
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
    return made
