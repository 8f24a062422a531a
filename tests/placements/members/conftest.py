"""Organisation members and their organisations, made through the services as an admin would."""

from collections.abc import Callable

import pytest

from accounts.models import User
from placements.models import Organisation, OrganisationMembership
from placements.services.memberships import membership_add
from tests.factories import UserFactory
from tests.placements.factories import OrganisationFactory, academic_year
from tests.placements.members.calendar_years import NEXT


@pytest.fixture
def add_member(admin) -> Callable[[Organisation, User], OrganisationMembership]:
    def add(organisation: Organisation, user: User) -> OrganisationMembership:
        return membership_add(actor=admin, organisation=organisation, email=user.email)

    return add


@pytest.fixture
def member(institution) -> User:
    """A person with an account and no role yet: memberships give them theirs."""
    return UserFactory(roles=[], full_name="Mia Member")


@pytest.fixture
def two_schools(member, add_member) -> tuple[Organisation, Organisation]:
    """Mia belongs to Acacia (current: her first) and Baobab."""
    acacia = OrganisationFactory(name="Acacia Primary", email_address="office@acacia.example")
    baobab = OrganisationFactory(name="Baobab High")
    add_member(acacia, member)
    add_member(baobab, member)
    return acacia, baobab


@pytest.fixture
def next_year(institution):
    return academic_year(str(NEXT))
