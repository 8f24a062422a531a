"""The finance overview and the finance start-page panel: what is owed and overdue, what came
in this month and what waits for a finance user; read-only for admins, the audited 404 for
everyone else, and a fixed number of queries however many invoices there are."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from finance.selectors.overview import finance_figures
from tests.factories import UserFactory
from tests.finance.support import finance_world
from tests.finance.support_payments import issued, received

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(admin):
    return finance_world(admin)


def test_the_figures_add_up_what_is_owed_overdue_and_received(world):
    today = timezone.localdate()
    overdue = issued(world, "1000.00", issued_on=today - datetime.timedelta(days=60))
    issued(world, "250.00", issued_on=today)
    received(world, "400.00", [(overdue, "400.00")], paid_on=today)

    figures = finance_figures(today=today)

    assert figures.outstanding == Decimal("850.00")
    assert figures.open_invoices == 2
    assert figures.overdue == Decimal("600.00")
    assert figures.overdue_invoices == 1
    assert figures.received_this_month == Decimal("400.00")
    assert figures.waiting == 0


def test_finance_sees_the_overview_and_what_waits(world, client_of):
    issued(world, "1000.00")
    response = client_of(world.finance).get("/finance/")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-figure="outstanding">R1' in text
    assert "Finance settings" in text
    assert 'data-testid="nothing-waiting"' in text


def test_admins_read_the_overview_without_the_settings(world, client_of):
    response = client_of(world.admin).get("/finance/")
    assert response.status_code == 200
    assert "only the Finance role changes it" in response.content.decode()
    assert "Finance settings" not in response.content.decode()


@pytest.mark.parametrize("role", [SystemRole.STUDENT, SystemRole.TRAINER, SystemRole.AGENT])
def test_others_get_the_audited_404(world, client_of, role):
    person = UserFactory(roles=[role])
    assert client_of(person).get("/finance/").status_code == 404
    assert AuditEvent.objects.filter(action="permission.denied", actor=person).exists()


def test_the_home_panel_is_for_finance_users_only(world, client_of):
    issued(world, "1000.00")
    assert 'data-panel="finance"' in client_of(world.finance).get("/").content.decode()
    assert 'data-panel="finance"' not in client_of(world.admin).get("/").content.decode()


def test_the_overview_makes_the_same_queries_however_many_invoices(world, client_of):
    client = client_of(world.finance)
    issued(world, "100.00")
    client.get("/finance/")
    with CaptureQueriesContext(connection) as few:
        client.get("/finance/")
    for _ in range(5):
        issued(world, "100.00")
    with CaptureQueriesContext(connection) as many:
        client.get("/finance/")
    assert len(many) == len(few)
