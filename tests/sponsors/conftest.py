"""Sponsor fixtures: a sponsor, its contact's address typed in mixed case, and a cohort whose
main agreement the admin has signed, sponsored by it."""

import pytest

from cohorts.models import Cohort
from sponsors.models import Sponsor
from sponsors.services import cohort_sponsor_set, sponsor_create
from tests.enrolments.conftest import _media, enrol  # noqa: F401 (fixtures)
from tests.factories import CohortFactory


@pytest.fixture
def sponsor(admin) -> Sponsor:
    return sponsor_create(
        actor=admin,
        company_name="Ubuntu Mining",
        contact_name="Sipho Dlamini",
        contact_email="Sipho@Ubuntu.example",
        contact_phone="+27 11 555 0100",
        tax_number="9012345678",
    )


@pytest.fixture
def cohort(sponsor, admin) -> Cohort:
    return cohort_sponsor_set(cohort=CohortFactory(signed=True), sponsor=sponsor, actor=admin)
