"""Two confirmations of the organisation's last place at the same moment, on two real database
connections with committed data: both wait on the preference's row lock, one takes the place,
the other is told there is none left. The organisation is never overbooked. And a clearance
failed while a placement is confirmed or started: the confirmation waits on the learner's row
lock, then reads the failed clearance."""

import secrets
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django_tenants.utils import tenant_context

from accounts.models import SystemRole, User
from learners.models import Learner
from placements.models import (
    Placement,
    PlacementPreference,
    PlacementStatus,
    VettingRecord,
    VettingStatus,
)
from placements.selectors.capacity import places_free
from placements.services.placements import placement_confirm, placement_start
from tenants.services import institution_provision
from tests.placements.factories import academic_year, subject

from .support import world


def _waiting_on_locks() -> int:
    """Connections to this test database blocked on a row lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def _institution_and_admin():
    unique = secrets.token_hex(4)
    institution = institution_provision(
        name="Concurrent Placements College",
        code=f"placing-{unique}",
        admin_email=f"head@placing-{unique}.example",
    )
    with tenant_context(institution):
        admin = User.objects.create_user(
            email=f"admin-{unique}@example.org", full_name="Ada Admin", roles=[SystemRole.ADMIN]
        )
    return institution, admin


def test_two_confirmations_of_the_last_place_one_wins(committed_db):
    institution, admin = _institution_and_admin()
    with tenant_context(institution):
        here = world(admin, places=1)
        placements = [here.propose(here.learner(f"Learner {n}")) for n in (1, 2)]

    outcomes: dict[int, object] = {}

    def confirm(placement: Placement, actor: User) -> None:
        try:
            connection.set_tenant(institution)
            outcomes[placement.pk] = placement_confirm(placement=placement, actor=actor)
        except ValidationError as refusal:
            outcomes[placement.pk] = refusal
        finally:
            connections.close_all()

    # One by the organisation's member, one by an admin on its behalf.
    threads = [
        threading.Thread(target=confirm, args=(placement, actor))
        for placement, actor in zip(placements, (here.member, admin), strict=True)
    ]
    with tenant_context(institution):
        # Hold the preference's lock until both confirmations wait for it.
        with transaction.atomic():
            PlacementPreference.objects.select_for_update().get(organisation=here.organisation)
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 20
            while _waiting_on_locks() < 2:
                assert time.monotonic() < deadline, "the confirmations never waited on the lock"
                time.sleep(0.05)
        for thread in threads:
            thread.join(timeout=20)
        assert not any(thread.is_alive() for thread in threads)

        confirmed = [v for v in outcomes.values() if isinstance(v, Placement)]
        refused = [v for v in outcomes.values() if isinstance(v, ValidationError)]
        assert len(confirmed) == 1, outcomes
        assert len(refused) == 1, outcomes
        assert refused[0].code == "no_capacity"
        statuses = sorted(
            Placement.objects.filter(pk__in=[p.pk for p in placements]).values_list(
                "status", flat=True
            )
        )
        assert statuses == [PlacementStatus.CONFIRMED, PlacementStatus.PROPOSED]
        assert places_free(here.organisation, academic_year("2027"), subject("MATH")) == 0


@pytest.mark.parametrize("move", ["confirm", "start"])
def test_a_clearance_failed_meanwhile_is_read_after_its_lock(committed_db, move):
    institution, admin = _institution_and_admin()
    with tenant_context(institution):
        here = world(admin, places=1)
        learner = here.learner("Ayanda Dube")
        placement = here.propose(learner)
        if move == "start":
            placement = placement_confirm(placement=placement, actor=admin)
    service = {"confirm": placement_confirm, "start": placement_start}[move]
    outcome: list[object] = []

    def run() -> None:
        try:
            connection.set_tenant(institution)
            outcome.append(service(placement=placement, actor=admin))
        except ValidationError as refusal:
            outcome.append(refusal)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    with tenant_context(institution):
        # As the vetting services do: lock the learner, then fail their clearance.
        with transaction.atomic():
            Learner.objects.select_for_update().get(pk=learner.pk)
            thread.start()
            deadline = time.monotonic() + 20
            while _waiting_on_locks() < 1:
                assert time.monotonic() < deadline, f"{move} never waited on the learner's lock"
                time.sleep(0.05)
            VettingRecord.objects.filter(learner=learner).update(
                status=VettingStatus.FAILED, reason="The certificate was forged."
            )
        thread.join(timeout=20)
        assert not thread.is_alive()

        [refusal] = outcome
        assert isinstance(refusal, ValidationError), refusal
        assert refusal.code == "not_cleared"
