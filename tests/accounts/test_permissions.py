"""permission_check: the one place that decides who may do what."""

import contextlib

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts.models import SystemRole
from accounts.permissions import permission_check, refusals_kept
from audit.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _denials(actor) -> list[str]:
    return list(
        AuditEvent.objects.filter(action="permission.denied", actor=actor).values_list(
            "entity_id", flat=True
        )
    )


def test_a_role_among_the_allowed_ones_passes_without_an_event(institution):
    admin = UserFactory(roles=[SystemRole.ADMIN])
    permission_check(actor=admin, permission="cohorts.manage_cohorts", action="test.allowed")
    permission_check(
        actor=admin, permission="cohorts.manage_cohorts", allowed=True, action="test.allowed"
    )
    permission_check(actor=admin, allowed=True, action="test.allowed")
    assert _denials(admin) == []


@pytest.mark.parametrize(
    ("roles", "permission", "allowed"),
    [
        ([SystemRole.STUDENT], "cohorts.manage_cohorts", None),  # their roles do not allow it
        ([SystemRole.ADMIN], None, False),  # the caller's condition fails
        ([SystemRole.ADMIN], "cohorts.manage_cohorts", False),  # allowed, but the condition fails
    ],
)
def test_a_refusal_is_audited_and_raised(institution, roles, permission, allowed):
    student = UserFactory(roles=roles)
    with pytest.raises(PermissionDenied, match="test.refused"):
        permission_check(
            actor=student, permission=permission, allowed=allowed, action="test.refused"
        )
    assert _denials(student) == ["test.refused"]


def test_the_system_may_do_anything(institution):
    permission_check(
        actor=None, permission="cohorts.manage_cohorts", allowed=False, action="test.system"
    )
    assert not AuditEvent.objects.filter(entity_id="test.system").exists()


def test_a_check_without_roles_or_a_condition_is_a_mistake(institution):
    with pytest.raises(TypeError, match="permission"):
        permission_check(actor=UserFactory(), action="test.nothing")


def _refused_inside_a_transaction(actor, *, kept: bool) -> None:
    with refusals_kept() if kept else contextlib.nullcontext(), transaction.atomic():
        permission_check(actor=actor, permission="cohorts.manage_cohorts", action="test.inside")


@pytest.mark.parametrize("kept", [False, True], ids=["rolled back", "kept"])
def test_a_refusal_inside_a_transaction_is_kept_only_by_refusals_kept(institution, kept):
    student = UserFactory(roles=[SystemRole.STUDENT])

    with pytest.raises(PermissionDenied):
        _refused_inside_a_transaction(student, kept=kept)

    refusals = AuditEvent.objects.filter(action="permission.denied", entity_id="test.inside")
    assert refusals.count() == (1 if kept else 0)
