"""Who mentors a learner on a placement. The institution (placements.manage_placements) or a
member of the placement's organisation, acting for it as their current organisation, names one
of that organisation's members; a change ends the current mentorship (kept, with its end) and
starts another. The new mentor is e-mailed the way to the learner's logbook."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole, User
from accounts.permissions import permission_check
from audit.services import audit_record
from notifications.services import email_enqueue
from placements.models import OrganisationMembership, Placement, PlacementStatus
from placements.services.placements import may_answer_for
from tenants.db import tenant_connection
from tenants.sites import institution_url
from workplace.access import MANAGE_PLACEMENTS
from workplace.models import Mentorship

# A mentor is named once the organisation has agreed to host the learner, until they leave.
MENTORED_STATUSES = (PlacementStatus.CONFIRMED, PlacementStatus.ACTIVE)


def may_assign_mentor(user: User, placement: Placement) -> bool:
    """Staff who manage placements, or a member acting for the placement's organisation."""
    return user.may(MANAGE_PLACEMENTS) or may_answer_for(user, placement)


def mentor_refusal(placement: Placement, mentor: User) -> str:
    """Why `mentor` cannot mentor the placement's learner ("" when they can): an active person
    holding the organisation member role, a member of the placement's organisation, not the
    learner themself."""
    if not mentor.is_in_service or SystemRole.ORGANISATION_MEMBER not in mentor.role_keys:
        return f"{mentor.full_name or mentor.email} is not an organisation member."
    if not OrganisationMembership.objects.filter(
        user=mentor, organisation_id=placement.organisation_id
    ).exists():
        return f"{mentor.full_name or mentor.email} does not belong to {placement.organisation}."
    if placement.learner.user_id == mentor.pk:
        return "A learner cannot mentor themself."
    return ""


def mentor_assign(*, actor: User, placement: Placement, mentor: User) -> Mentorship:
    """Make `mentor` the placement's mentor: the current mentorship, if any, ends now."""
    permission_check(
        actor=actor, action="mentorship.assign", allowed=may_assign_mentor(actor, placement)
    )
    with transaction.atomic(durable=True):
        placement = (
            Placement.objects.select_for_update(of=("self",))
            .select_related("learner", "organisation")
            .get(pk=placement.pk)
        )
        if placement.status not in MENTORED_STATUSES:
            raise ValidationError(
                f"This placement is {placement.get_status_display().lower()}: a mentor is named "
                "for a confirmed or active placement."
            )
        if refusal := mentor_refusal(placement, mentor):
            raise ValidationError({"mentor": [refusal]})
        current = (
            Mentorship.objects.select_for_update()
            .filter(placement=placement, ended_at__isnull=True)
            .first()
        )
        if current is not None and current.mentor_id == mentor.pk:
            raise ValidationError({"mentor": [f"{mentor.full_name} already mentors this learner."]})
        if current is not None:
            current.ended_at = timezone.now()
            current.save(update_fields=["ended_at"])
        mentorship: Mentorship = Mentorship.objects.create(
            placement=placement, mentor=mentor, assigned_by=actor
        )
        audit_record(
            actor=actor,
            action="mentorship.assign",
            entity=mentorship,
            old_values={"mentor": current.mentor_id if current else None},
            new_values={"placement": placement.pk, "mentor": mentor.pk},
        )
        email_enqueue(
            recipient=mentor.email,
            template="mentor_assigned",
            context={
                "full_name": mentor.full_name,
                "learner_name": placement.learner.full_name,
                "organisation_name": placement.organisation.name,
                "starts_on": f"{placement.starts_on:%-d %B %Y}",
                "ends_on": f"{placement.ends_on:%-d %B %Y}",
                "url": institution_url(
                    tenant_connection.tenant, reverse("workplace:logbook", args=[placement.pk])
                ),
            },
        )
    return mentorship
