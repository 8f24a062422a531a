"""Observation reports: what a workplace mentor saw their learner do, for one outcome of the
programme the placement is for. The learner may then add the report to that outcome's
portfolio; the learner is told by e-mail when one is written."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from academics.models import Outcome
from accounts.models import User
from accounts.permissions import permission_check
from audit.services import audit_record
from notifications.services import email_enqueue
from placements.models import Placement
from tenants.db import tenant_connection
from tenants.sites import institution_url
from workplace.access import is_mentor
from workplace.models import ObservationReport
from workplace.selectors.outcomes import placement_outcomes


def observation_add(
    *,
    actor: User,
    placement: Placement,
    outcome: Outcome,
    observed_on: datetime.date,
    report: str,
) -> ObservationReport:
    """The placement's current mentor writes what they observed on `observed_on` (within the
    placement's dates, not in the future) for `outcome`."""
    permission_check(
        actor=actor, action="workplace.observation_add", allowed=is_mentor(actor, placement)
    )
    report = report.strip()
    errors: dict[str, str] = {}
    today = timezone.localdate()
    if observed_on > today:
        errors["observed_on"] = "The observation cannot be dated in the future."
    elif not placement.starts_on <= observed_on <= placement.ends_on:
        errors["observed_on"] = (
            f"The date must be within the placement, {placement.starts_on:%-d %b %Y} to "
            f"{placement.ends_on:%-d %b %Y}."
        )
    if not placement_outcomes(placement).filter(pk=outcome.pk).exists():
        errors["outcome"] = "Choose one of the outcomes of the learner's programme."
    if not report:
        errors["report"] = "Write what you observed."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(durable=True):
        observation = ObservationReport.objects.create(
            placement=placement,
            outcome=outcome,
            observed_on=observed_on,
            report=report,
            written_by=actor,
        )
        audit_record(
            actor=actor,
            action="workplace.observation_add",
            entity=observation,
            new_values={
                "placement": placement.pk,
                "outcome": outcome.pk,
                "observed_on": observed_on.isoformat(),
            },
        )
        learner_user = placement.learner.user
        if learner_user is not None and learner_user.is_in_service:
            email_enqueue(
                recipient=learner_user.email,
                template="workplace_observation_added",
                context={
                    "full_name": placement.learner.full_name,
                    "mentor_name": actor.full_name,
                    "outcome": f"{outcome.code} {outcome.title}",
                    "observed_on": f"{observed_on:%-d %B %Y}",
                    "url": institution_url(
                        tenant_connection.tenant,
                        reverse("workplace:observation", args=[observation.pk]),
                    ),
                },
            )
    return observation
