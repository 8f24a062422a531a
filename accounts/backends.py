"""Signing in and permissions: a person's permissions come from their roles (accounts.roles),
loaded with the person in the one query each request makes for them."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import F, Q, Value
from django.db.models.functions import Concat

from accounts.models import User


class RoleBackend(ModelBackend):
    """Django's ModelBackend, with roles in place of groups and per-user permissions."""

    def get_user(self, user_id) -> User | None:
        user = (
            User._default_manager.annotate(
                role_permission_codes=ArrayAgg(
                    Concat(
                        F("roles__permissions__content_type__app_label"),
                        Value("."),
                        F("roles__permissions__codename"),
                    ),
                    filter=Q(roles__permissions__isnull=False),
                    distinct=True,
                    default=Value([]),
                ),
                held_role_keys=ArrayAgg(
                    "roles__key",
                    filter=Q(roles__key__isnull=False),
                    distinct=True,
                    default=Value([]),
                ),
                held_role_names=ArrayAgg(
                    "roles__name",
                    filter=Q(roles__isnull=False),
                    distinct=True,
                    default=Value([]),
                ),
            )
            .filter(pk=user_id)
            .first()
        )
        if user is None or not self.user_can_authenticate(user):
            return None
        user.__dict__["permission_codes"] = frozenset(user.role_permission_codes)
        user.__dict__["role_keys"] = frozenset(user.held_role_keys)
        return user

    def get_user_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def get_group_permissions(self, user_obj, obj=None) -> set[str]:
        return set()

    def user_can_authenticate(self, user) -> bool:
        """Deactivated and deleted people cannot sign in, nor keep a session."""
        return super().user_can_authenticate(user) and getattr(user, "deleted_at", None) is None

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return set(user_obj.permission_codes)
