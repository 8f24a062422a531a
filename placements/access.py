"""Which organisation an organisation member is acting for. A member sees only their current
organisation's data: member pages look everything up through `current_organisation` and answer
404 for any other organisation's ids (placements.views)."""

from django.http import Http404

from accounts.models import SystemRole, User
from placements.models import Organisation, OrganisationMembership


def current_membership(user: User) -> OrganisationMembership | None:
    """The membership marked current, else the person's first one (by organisation name) until
    they choose; None for someone who belongs to no organisation, or who no longer holds the
    organisation member role (taken on the People page while the membership rows stay)."""
    if not user.is_authenticated or SystemRole.ORGANISATION_MEMBER not in user.role_keys:
        return None
    memberships = OrganisationMembership.objects.filter(
        user=user, organisation__is_active=True
    ).select_related("organisation")
    return memberships.order_by("-is_current", "organisation__name", "pk").first()


def current_organisation(user: User) -> Organisation | None:
    membership = current_membership(user)
    return membership.organisation if membership else None


def current_organisation_or_404(user: User) -> Organisation:
    organisation = current_organisation(user)
    if organisation is None:
        raise Http404("You do not belong to an organisation.")
    return organisation
