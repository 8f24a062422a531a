from django.db.models import Q, QuerySet

from accounts.models import Invitation, User
from accounts.permissions import COHORT_MANAGERS
from accounts.services import token_hash


def user_list(*, search: str = "", role: str = "", status: str = "") -> QuerySet[User]:
    users = User.objects.order_by("full_name", "email")
    if search:
        users = users.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    if role:
        users = users.filter(roles__contains=[role])
    if status == "active":
        users = users.filter(is_active=True).exclude(password__startswith="!")
    elif status == "invited":
        users = users.filter(is_active=True, password__startswith="!")
    elif status == "inactive":
        users = users.filter(is_active=False)
    return users


def invitation_for_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("user").filter(token_hash=token_hash(token)).first()


def manager_emails_to_tell(responsible: User | None) -> list[str]:
    """Who hears about something `responsible` started (a cohort, an agreement sent): that
    person while they are an active admin, otherwise every active admin of the institution."""
    if responsible is not None and responsible.is_active and responsible.has_role(*COHORT_MANAGERS):
        return [responsible.email]
    return list(
        User.objects.filter(is_active=True, roles__overlap=list(COHORT_MANAGERS))
        .order_by("email")
        .values_list("email", flat=True)
    )
