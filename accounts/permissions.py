"""Who may do what inside an institution. Refusals are audited and shown as 404 (see
config.views.permission_denied), so that ids of things a person may not see are not confirmed."""

from collections.abc import Callable, Iterable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from accounts.models import Role, User
from audit.services import audit_record

PEOPLE_MANAGERS = (Role.SUPER_ADMIN, Role.ADMIN)
AUDIT_READERS = (Role.SUPER_ADMIN, Role.ADMIN, Role.AUDITOR)
COHORT_MANAGERS = (Role.SUPER_ADMIN, Role.ADMIN)
# Only a super admin may hand out (or take away) the roles that manage people.
ROLES_ONLY_SUPER_ADMIN_GRANTS = frozenset({Role.SUPER_ADMIN, Role.ADMIN})


def permission_check(*, actor: User, allowed: bool, action: str) -> None:
    """Raise PermissionDenied, after auditing the refusal, unless `allowed`."""
    if allowed:
        return
    audit_record(
        actor=actor,
        action="permission.denied",
        entity_type="permission",
        entity_id=action,
    )
    raise PermissionDenied(action)


def can_grant_roles(actor: User, roles: Iterable[str]) -> bool:
    if actor.has_role(Role.SUPER_ADMIN):
        return True
    return actor.has_role(Role.ADMIN) and not (set(roles) & ROLES_ONLY_SUPER_ADMIN_GRANTS)


def role_required(*roles: str) -> Callable:
    """View decorator: anonymous visitors go to sign in; signed-in people without one of
    `roles` get the audited 404."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            permission_check(
                actor=request.user,
                allowed=request.user.has_role(*roles),
                action=f"view:{view.__module__}.{view.__name__}",
            )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
