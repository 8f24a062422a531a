from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from accounts.models import Invitation, Role, User, UserRole, normalise_email, token_hash
from accounts.permissions import registered_scopes
from accounts.roles import CatalogueEntry, catalogue_by_area, permission_code
from accounts.signals import account_purge_days_asked

# Why a deleted person's address cannot be enrolled, invited or given a role until restored.
DELETED_ACCOUNT_REFUSAL = "This person's account was deleted; restore it under People first."

# The seed's wait before a deleted account is anonymised, unless data protection says otherwise.
DEFAULT_ACCOUNT_PURGE_DAYS = 30


def account_purge_days() -> int:
    """How many days a deleted account can be restored before it is anonymised."""
    for _receiver, days in account_purge_days_asked.send(sender=User):
        if days:
            return int(days)
    return DEFAULT_ACCOUNT_PURGE_DAYS


def account_purge_date(user: User) -> datetime | None:
    """When a deleted account will be anonymised (None for one that is not deleted)."""
    if user.deleted_at is None:
        return None
    return user.deleted_at + timedelta(days=account_purge_days())


def accounts_due_for_purge() -> QuerySet[User]:
    """Deleted accounts whose time to be restored has passed, oldest deletion first."""
    cutoff = timezone.now() - timedelta(days=account_purge_days())
    return User.objects.filter(deleted_at__lte=cutoff, anonymised_at__isnull=True).order_by(
        "deleted_at", "pk"
    )


def deleted_accounts_refuse(users: Iterable[User]) -> None:
    """Refuse to go on with a deleted account (enrolling, inviting, giving a role): the person
    must be restored first, or their account would be picked up behind the purge's back."""
    deleted = sorted(user.email for user in users if user.deleted_at is not None)
    if len(deleted) == 1:
        raise ValidationError(DELETED_ACCOUNT_REFUSAL, code="account_deleted")
    if deleted:
        raise ValidationError(
            f"These people's accounts were deleted; restore them under People first: "
            f"{', '.join(deleted)}.",
            code="account_deleted",
        )


def user_for_email(email: str, *, lock: bool = False) -> User | None:
    """The account with `email` here (locked FOR UPDATE with `lock`, inside the caller's
    transaction), None when there is none; refused when it was deleted. Every path that finds a
    person by address goes through this, so that none of them revives a deleted account."""
    users = User.objects.select_for_update() if lock else User.objects
    user = users.filter(email=normalise_email(email)).first()
    if user is not None:
        deleted_accounts_refuse([user])
    return user


def users_with_permission(code: str) -> QuerySet[User]:
    """The active people whose roles give `code` ("app_label.codename")."""
    app_label, codename = code.split(".", 1)
    holders = User.objects.filter(
        roles__permissions__content_type__app_label=app_label,
        roles__permissions__codename=codename,
    )
    return User.objects.filter(
        is_active=True, deleted_at__isnull=True, pk__in=holders.values("pk")
    ).order_by("full_name", "email")


def users_holding(key: str) -> QuerySet[User]:
    """The people who hold a system role (a student, a sponsor contact), deleted ones left out."""
    return User.objects.filter(
        deleted_at__isnull=True, pk__in=User.objects.filter(roles__key=key).values("pk")
    )


def user_list(*, search: str = "", role: str = "", status: str = "") -> QuerySet[User]:
    """People for the People page; `role` is a system role's key or a custom role's id. Deleted
    people only under the "deleted" status, with when they will be anonymised (`purge_due_at`);
    anonymised accounts never."""
    # The rows' role names in the page's own query, not one more query for the page.
    users = User.objects.order_by("full_name", "email").annotate(
        held_role_names=ArraySubquery(
            UserRole.objects.filter(user=OuterRef("pk")).values("role__name")
        )
    )
    if search:
        users = users.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    if role:
        holding = Q(roles__pk=int(role)) if role.isdigit() else Q(roles__key=role)
        users = users.filter(pk__in=User.objects.filter(holding).values("pk"))
    if status == "deleted":
        return users.filter(deleted_at__isnull=False, anonymised_at__isnull=True).annotate(
            purge_due_at=ExpressionWrapper(
                F("deleted_at") + timedelta(days=account_purge_days()),
                output_field=DateTimeField(),
            )
        )
    users = users.filter(deleted_at__isnull=True)
    if status == "active":
        users = users.filter(is_active=True).exclude(password__startswith="!")
    elif status == "invited":
        users = users.filter(is_active=True, password__startswith="!")
    elif status == "inactive":
        users = users.filter(is_active=False)
    return users


def role_names_of(user_ids: list[int]) -> dict[int, list[str]]:
    """The names of the roles each of these people holds, in one query."""
    names: dict[int, list[str]] = {}
    for user_id, name in (
        UserRole.objects.filter(user_id__in=user_ids)
        .order_by("role__name")
        .values_list("user_id", "role__name")
    ):
        names.setdefault(user_id, []).append(name)
    return names


def invitation_for_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("user").filter(token_hash=token_hash(token)).first()


def manager_emails_to_tell(responsible: User | None) -> list[str]:
    """Who hears about something `responsible` started (a cohort, an agreement sent): that
    person while they are an active admin, otherwise every active admin of the institution."""
    if responsible is not None and responsible.may("cohorts.manage_cohorts"):
        return [responsible.email]
    return list(
        users_with_permission("cohorts.manage_cohorts")
        .order_by("email")
        .values_list("email", flat=True)
    )


def role_list() -> QuerySet[Role]:
    """Every role with how many active people hold it and how much it allows."""
    return Role.objects.annotate(
        holder_count=Count("holdings", filter=Q(holdings__user__is_active=True), distinct=True),
        permission_count=Count("permissions", distinct=True),
    ).order_by("-system_role", "name")


def role_for_page(pk: int) -> Role:
    return Role.objects.prefetch_related(
        Prefetch("permissions", queryset=Permission.objects.select_related("content_type")),
        Prefetch(
            "holdings",
            queryset=UserRole.objects.select_related("user", "granted_by").order_by(
                "user__full_name", "user__email"
            ),
        ),
    ).get(pk=pk)


def role_permission_codes(role: Role) -> frozenset[str]:
    """What a role allows; `role` from role_for_page (its permissions prefetched)."""
    return frozenset(permission_code(permission) for permission in role.permissions.all())


@dataclass(frozen=True)
class AllowedBy:
    entry: CatalogueEntry
    roles: list[str]


@dataclass(frozen=True)
class ScopeAccess:
    """Where a person works among the objects of one kind: everywhere (and by which roles), or
    on the objects granted to them."""

    label: str
    everywhere_by: list[str]
    granted: list[Model]


@dataclass(frozen=True)
class PersonAccess:
    holdings: list[UserRole]
    allowed: list[tuple[str, list[AllowedBy]]]
    scopes: list[ScopeAccess]


def person_access(person: User) -> PersonAccess:
    """What a person may do and why: each permission with the roles that give it, and where
    they work (everywhere through a role, or the objects granted to them)."""
    holdings = list(
        person.role_holdings.select_related("role", "granted_by").prefetch_related(
            Prefetch(
                "role__permissions", queryset=Permission.objects.select_related("content_type")
            )
        )
    )
    given_by: dict[str, list[str]] = {}
    for holding in holdings:
        for permission in holding.role.permissions.all():
            given_by.setdefault(permission_code(permission), []).append(holding.role.name)
    allowed = [
        (
            area,
            [AllowedBy(entry, given_by[entry.code]) for entry in entries if entry.code in given_by],
        )
        for area, entries in catalogue_by_area()
    ]
    scopes = [
        ScopeAccess(
            label=str(model._meta.verbose_name_plural),
            everywhere_by=given_by.get(scope.everywhere, []),
            granted=[]
            if scope.everywhere in given_by
            else list(
                get_objects_for_user(person, scope.grant, klass=model, accept_global_perms=False)
            ),
        )
        for model, scope in registered_scopes()
    ]
    return PersonAccess(
        holdings=holdings,
        allowed=[(area, lines) for area, lines in allowed if lines],
        scopes=scopes,
    )
