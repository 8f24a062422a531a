"""Institutions asked for from the operator's page under real failures: the test's own Redis
(the broker) stopped while the operator sends the form, and the worker process killed by
SIGKILL in the middle of provisioning. Committed data, real worker processes; the operator gets
an answer, nothing stays stuck and the institution is created once."""

import contextlib
import uuid

import psycopg
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from tenants.models import Institution, ProvisioningRequest, ProvisioningRequestStatus
from tenants.provisioning import provisioning_requests_sweep
from tests.factories import UserFactory
from tests.processes import wait_for


def _operator_client(client_for):
    operator = UserFactory(
        email=f"ops-{uuid.uuid4().hex[:10]}@cohortly.example", roles=[], is_staff=True
    )
    client = client_for(None)
    client.force_login(operator, backend="accounts.backends.RoleBackend")
    return client


def _ask_for(client, code: str):
    return client.post(
        "/operator/institutions/new/",
        {
            "name": f"Fault Institute {code}",
            "code": code,
            "admin_email": f"head@{code}.example",
            "admin_name": "Fay Head",
        },
    )


def _finished(provisioning_request: ProvisioningRequest):
    def finished() -> bool:
        """the worker to finish the provisioning request"""
        provisioning_request.refresh_from_db()
        return not provisioning_request.is_in_progress

    return finished


def _created_once(provisioning_request: ProvisioningRequest) -> None:
    assert provisioning_request.status == ProvisioningRequestStatus.DONE
    assert provisioning_request.admin_email == ""
    institution = Institution.objects.get(code=provisioning_request.code)
    assert provisioning_request.institution == institution
    with tenant_context(institution):
        admin = User.objects.get()
    assert (admin.email, admin.full_name) == (f"head@{institution.code}.example", "Fay Head")


@contextlib.contextmanager
def _provisioning_held():
    """Another connection holds provisioning's lock (as a long pool refill would), so that a
    worker stops inside institution_provision's transaction, after taking the request."""
    database = connection.settings_dict
    with psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"],
        dbname=database["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_advisory_lock(hashtext('cohortly:provisioning'))")
        try:
            yield
        finally:
            other.execute("SELECT pg_advisory_unlock(hashtext('cohortly:provisioning'))")


def test_asking_while_redis_is_down_creates_the_institution_once_it_is_back(
    committed_db, own_redis, start_worker, client_for
):
    code = f"fault-{uuid.uuid4().hex[:8]}"
    client = _operator_client(client_for)

    own_redis.stop()
    response = _ask_for(client, code)

    assert response.status_code == 302
    assert response["Location"] == "/operator/"
    provisioning_request = ProvisioningRequest.objects.get(code=code)
    # Saved and waiting in its row to be queued; nothing lost, nothing half-written.
    assert provisioning_request.status == ProvisioningRequestStatus.QUEUED
    assert provisioning_request.dispatched_at is None
    assert not Institution.objects.filter(code=code).exists()
    page = client.get("/operator/").content.decode()
    assert f"Fault Institute {code} is being created" in page
    assert "Waiting to start" in page

    own_redis.start()
    start_worker()
    assert provisioning_requests_sweep() >= 1
    provisioning_request.refresh_from_db()
    assert provisioning_request.dispatched_at is not None

    wait_for(_finished(provisioning_request))
    _created_once(provisioning_request)
    assert provisioning_request.attempts == 1


def test_a_request_whose_worker_is_killed_is_finished_once_after_the_sweep(
    committed_db, own_redis, start_worker, client_for
):
    code = f"fault-{uuid.uuid4().hex[:8]}"
    client = _operator_client(client_for)

    first = start_worker()
    with _provisioning_held():
        assert _ask_for(client, code).status_code == 302
        provisioning_request = ProvisioningRequest.objects.get(code=code)

        def provisioning() -> bool:
            """the worker to take the request and wait inside provisioning"""
            provisioning_request.refresh_from_db()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
                )
                waiting = cursor.fetchone()[0]
            return provisioning_request.attempts == 1 and bool(waiting)

        wait_for(provisioning)
        assert provisioning_request.status == ProvisioningRequestStatus.RUNNING
        first.kill()

    # The dead worker's transaction ended with its connection, leaving nothing behind.
    provisioning_request.refresh_from_db()
    assert provisioning_request.status == ProvisioningRequestStatus.RUNNING
    assert not Institution.objects.filter(code=code).exists()
    held_until = provisioning_request.lease_expires_at
    provisioning_requests_sweep()
    provisioning_request.refresh_from_db()
    assert provisioning_request.lease_expires_at == held_until  # its lease runs yet

    # Time passes: the lease runs out; the sweep takes it back and queues it again.
    ProvisioningRequest.objects.filter(pk=provisioning_request.pk).update(
        lease_expires_at=timezone.now()
    )
    first_queued = provisioning_request.dispatched_at
    provisioning_requests_sweep()
    provisioning_request.refresh_from_db()
    assert provisioning_request.lease_expires_at is None
    assert provisioning_request.dispatched_at > first_queued

    start_worker()  # the worker is back
    wait_for(_finished(provisioning_request))
    _created_once(provisioning_request)
    assert provisioning_request.attempts == 2
