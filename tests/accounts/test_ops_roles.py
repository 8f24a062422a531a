"""The Ops admin and Finance system roles: every institution has them with what they need, the
roles page lists them, an admin may give Ops admin and a super admin Finance, and each opens its
own pages and not the other's."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import Role, SystemRole
from accounts.roles import required_codes
from accounts.services import user_roles_set
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

OPS_AND_FINANCE = {
    SystemRole.OPS_ADMIN: {
        "integrations.manage_sync",
        "cohorts.access_all_cohorts",
        "reports.view_reports",
    },
    SystemRole.FINANCE: {
        "delivery.manage_fees",
        "cohorts.access_all_cohorts",
        "partners.manage_partners",
        "partners.view_partners",
        "finance.manage_finance",
        "finance.view_finance",
        "reports.view_reports",
    },
}


@pytest.mark.parametrize(("key", "codes"), OPS_AND_FINANCE.items())
def test_every_institution_has_the_role_with_what_it_needs(institution, key, codes):
    role = Role.objects.get(key=key)

    held = {f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.all()}
    assert role.system_role
    assert held >= codes
    assert required_codes(key) == codes


def test_the_roles_page_lists_ops_admin_and_finance(client_of, super_admin):
    page = client_of(super_admin).get(reverse("accounts:roles")).content.decode()

    assert "Ops admin" in page
    assert "Finance" in page


@pytest.mark.parametrize(
    ("key", "giver"), [(SystemRole.OPS_ADMIN, "admin"), (SystemRole.FINANCE, "super_admin")]
)
def test_who_may_give_the_role_and_a_verifier_may_not(institution, request, key, giver):
    person = UserFactory(roles=[SystemRole.VERIFIER])

    user_roles_set(user=person, roles=[key], actor=request.getfixturevalue(giver))

    assert person.role_holdings.get().role.key == key
    verifier = UserFactory(roles=[SystemRole.VERIFIER])
    with pytest.raises(PermissionDenied):
        user_roles_set(user=UserFactory(), roles=[key], actor=verifier)


def test_an_admin_may_not_give_the_finance_role_whose_money_they_only_read(institution, admin):
    """The Finance role invoices, pays and confirms bank details: things an admin may not do
    themselves, so only a super admin makes someone Finance."""
    with pytest.raises(PermissionDenied):
        user_roles_set(user=UserFactory(), roles=[SystemRole.FINANCE], actor=admin)


@pytest.mark.parametrize(
    ("key", "opens", "not_opens"),
    [
        (SystemRole.OPS_ADMIN, "integrations:job_list", "delivery:fees"),
        (SystemRole.FINANCE, "delivery:fees", "integrations:job_list"),
    ],
)
def test_each_role_opens_its_pages_and_not_the_others(client_of, key, opens, not_opens):
    client = client_of(UserFactory(roles=[key]))

    assert client.get(reverse(opens)).status_code == 200
    assert client.get(reverse(not_opens)).status_code == 404
