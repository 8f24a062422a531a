"""Who may do what inside an institution. `permission_check` is the one place that decides: a
permission (from the person's roles, accounts.roles) says what they may do, an object grant
says on which objects, and the caller may add a condition of its own (it is their enrolment).
Refusals are audited and shown as 404 (see config.views.permission_denied), so that ids of
things a person may not see are not confirmed."""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, wraps
from typing import TypeVar

from django.apps import apps
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpRequest, HttpResponse
from guardian.core import ObjectPermissionChecker
from guardian.shortcuts import get_objects_for_user

from accounts.models import User
from audit.services import audit_record


@dataclass(frozen=True)
class Scope:
    """How a person reaches objects of one model: everywhere by a permission of their roles,
    or one object at a time by a grant (a django-guardian object permission)."""

    everywhere: str
    grant: str


_scopes: dict[type[models.Model], Scope] = {}
# Whoever holds one of these manages people: only those who manage roles may hand them out.
PEOPLE_MANAGING = frozenset({"accounts.manage_people", "accounts.manage_roles"})


@cache
def declared_codes() -> frozenset[str]:
    """Every permission the apps declare (Meta.permissions), object grants included."""
    return frozenset(
        f"{model._meta.app_label}.{codename}"
        for model in apps.get_models()
        for codename, _sentence in model._meta.permissions
    )


def scope_register(model: type[models.Model], *, everywhere: str, grant: str) -> None:
    """Called from an app's ready(): objects of `model` are reached through `grant`, or all of
    them through `everywhere`."""
    _scopes[model] = Scope(everywhere=everywhere, grant=grant)


def registered_scopes() -> list[tuple[type[models.Model], Scope]]:
    return list(_scopes.items())


def object_grant_codes() -> frozenset[str]:
    return frozenset(scope.grant for scope in _scopes.values())


def may_reach(user: User, obj: models.Model) -> bool:
    """Whether `user` works on `obj`: everywhere, or by a grant on it (cached per user object,
    so a page asking twice queries once)."""
    scope = _scopes[type(obj)]
    if user.may(scope.everywhere):
        return True
    if not user.is_active:
        return False
    checker = user.__dict__.setdefault("_grant_checker", ObjectPermissionChecker(user))
    return checker.has_perm(scope.grant.split(".", 1)[1], obj)


M = TypeVar("M", bound=models.Model)


def reachable(user: User, objects: models.QuerySet[M]) -> models.QuerySet[M]:
    """The objects of `objects` that `user` works on (every one, or those granted)."""
    scope = _scopes[objects.model]
    if user.may(scope.everywhere):
        return objects
    granted: models.QuerySet[M] = get_objects_for_user(
        user, scope.grant, klass=objects, accept_global_perms=False
    )
    return granted


def permission_check(
    *,
    actor: User | None,
    action: str,
    permission: str | tuple[str, ...] | None = None,
    obj: models.Model | None = None,
    allowed: bool | None = None,
) -> None:
    """Let `actor` do `action` if their roles give `permission` (one code, or any of several),
    they reach `obj` (when given: see Scope) and `allowed` (the caller's own condition) holds;
    otherwise audit the refusal and raise PermissionDenied. `actor=None` is the system (a task,
    a command, provisioning), which may do anything.

    Call it before the service's transaction opens: the refusal's event is committed in a
    transaction of its own, where a check inside the service's transaction would see it rolled
    back with the refused change."""
    if permission is None and allowed is None:
        raise TypeError("permission_check needs the `permission` needed, a condition, or both.")
    codes = (permission,) if isinstance(permission, str) else permission
    if codes is not None and not declared_codes().issuperset(codes):
        raise LookupError(f"Not a declared permission: {', '.join(codes)}.")
    if actor is None:
        return
    if (
        (allowed is None or allowed)
        and (codes is None or actor.may(*codes))
        and (obj is None or may_reach(actor, obj))
    ):
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


def may_grant(actor: User | None, role_codes: Iterable[frozenset[str]]) -> bool:
    """Whether `actor` may give (or take away) roles allowing `role_codes` (one set of
    permission codes per role). Anyone who manages roles may; anyone else who manages people
    only roles that do not manage people and allow nothing they may not do themselves.
    `actor=None` is the system (provisioning, commands)."""
    if actor is None or actor.may("accounts.manage_roles"):
        return True
    return all(
        codes.isdisjoint(PEOPLE_MANAGING) and codes <= actor.permission_codes
        for codes in role_codes
    )


def permission_required(*codes: str) -> Callable:
    """View decorator: anonymous visitors go to sign in; signed-in people whose roles give none
    of `codes` get the audited 404."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            permission_check(
                actor=request.user,
                permission=codes,
                action=f"view:{view.__module__}.{view.__name__}",
            )
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
