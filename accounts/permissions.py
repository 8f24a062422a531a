"""Who may do what inside an institution. `permission_check` is the one place that decides;
services and views call it with the roles (below) and any condition of their own. Refusals are
audited and shown as 404 (see config.views.permission_denied), so that ids of things a person
may not see are not confirmed."""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from accounts.models import Role, User
from audit.services import audit_record

PEOPLE_MANAGERS = (Role.SUPER_ADMIN, Role.ADMIN)
AUDIT_READERS = (Role.SUPER_ADMIN, Role.ADMIN, Role.AUDITOR)
COHORT_MANAGERS = (Role.SUPER_ADMIN, Role.ADMIN)
TEMPLATE_MANAGERS = (Role.SUPER_ADMIN, Role.ADMIN)
INSTITUTION_OWNERS = (Role.SUPER_ADMIN,)
# Only a super admin may hand out (or take away) the roles that manage people.
ROLES_ONLY_SUPER_ADMIN_GRANTS = frozenset({Role.SUPER_ADMIN, Role.ADMIN})


def permission_check(
    *,
    actor: User | None,
    action: str,
    roles: Iterable[str] | None = None,
    allowed: bool | None = None,
) -> None:
    """Let `actor` do `action` if they have one of `roles` (when given) and `allowed` (the
    caller's own condition: it is their enrolment, they may grant those roles ...) holds;
    otherwise audit the refusal and raise PermissionDenied. `actor=None` is the system (a task,
    a command, provisioning), which may do anything.

    Call it before the service's transaction opens: the refusal's event is committed in a
    transaction of its own, where a check inside the service's transaction would see it rolled
    back with the refused change."""
    if roles is None and allowed is None:
        raise TypeError("permission_check needs the `roles` allowed, a condition, or both.")
    if actor is None:
        return
    if (allowed is None or allowed) and (roles is None or actor.has_role(*roles)):
        return
    _refusal_record(actor, action)
    raise ActionRefused(actor=actor, action=action)


class ActionRefused(PermissionDenied):
    """What `permission_check` refused, and to whom."""

    def __init__(self, *, actor: User, action: str) -> None:
        super().__init__(action)
        self.actor = actor
        self.action = action


def _refusal_record(actor: User, action: str) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor, action="permission.denied", entity_type="permission", entity_id=action
        )


@contextmanager
def refusals_kept() -> Iterator[None]:
    """Around a transaction in which composed services check permission (a signing callback
    acting for the signer, who may have lost their role since): a refusal's event is rolled
    back with the refused change, so it is written again once the transaction has ended."""
    try:
        yield
    except ActionRefused as refusal:
        _refusal_record(refusal.actor, refusal.action)
        raise


def can_grant_roles(actor: User | None, roles: Iterable[str]) -> bool:
    """`actor=None` is the system (provisioning, commands), which may grant any role."""
    if actor is None or actor.has_role(Role.SUPER_ADMIN):
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
                actor=request.user, roles=roles, action=f"view:{view.__module__}.{view.__name__}"
            )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
