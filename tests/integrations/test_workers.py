"""Sync jobs under real failures: a worker process killed mid-job, the broker unreachable
while an admin enrols students, two workers sweeping at once. Committed data, real threads
and processes, the fake gateway on loopback."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import uuid

from django.db import connection, connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import SystemRole
from enrolments.models import CohortEnrollment
from integrations.models import SyncAttemptOutcome, SyncJob, SyncJobStatus
from integrations.services import sync_jobs_sweep
from integrations.tasks import sync_jobs_sweep_task
from tests.factories import CohortFactory, UserFactory
from tests.integrations.conftest import committed_connector, invite_consenting
from tests.notifications.support import wait_for

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def unique(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


def queued_jobs(count: int) -> list[SyncJob]:
    """Jobs as the outbox writes them, for records that exist only at the gateway's end: of a
    type no app checks before it is sent (enrolments checks its students' consent)."""
    run = unique("run")
    return SyncJob.objects.bulk_create(
        SyncJob(
            job_type="enrolment_create",
            entity_type="gateway.record",
            entity_id=f"{run}-{index}",
            idempotency_key=uuid.uuid4().hex + uuid.uuid4().hex,
            payload={"enrolment": {"reference": f"{run}-{index}"}},
            payload_hash=uuid.uuid4().hex,
        )
        for index in range(count)
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the socket is


@contextlib.contextmanager
def broker_unreachable():
    """Point this process's Celery producer at a port nobody listens on (the shared Redis
    server stays up for everyone else), then back."""
    from config.celery import app

    def reset_pools() -> None:
        # Forget, never close: kombu shares the pools process-wide, keyed by broker URL.
        app._pool = None
        app.amqp._producer_pool = None

    original = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{closed_port()}/0"
    reset_pools()
    try:
        yield
    finally:
        app.conf.broker_url = original
        reset_pools()


def test_a_worker_killed_mid_job_leaves_a_job_the_sweep_finishes_once(committed_db, gateway):
    with committed_connector(gateway, timeout_seconds=30) as alpha:
        with tenant_context(alpha):
            (job,) = queued_jobs(1)
        # The gateway holds the request (and never processes it) while the worker is killed.
        gateway.will("timeout", seconds=60)
        database = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}",
        }
        script = (
            "import django; django.setup()\n"
            "from django_tenants.utils import schema_context\n"
            "from integrations.services import sync_job_run\n"
            f"with schema_context({alpha.schema_name!r}):\n"
            f"    sync_job_run(job_id={job.pk})\n"
        )
        worker = subprocess.Popen([sys.executable, "-c", script], cwd=REPO_ROOT, env=env)  # noqa: S603
        try:
            wait_for(lambda: gateway.requests_for(job.idempotency_key), timeout=60)
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(10)
        assert worker.returncode == -signal.SIGKILL

        with tenant_context(alpha):
            job.refresh_from_db()
            assert job.status == SyncJobStatus.RUNNING  # as the dead worker left it
            assert sync_jobs_sweep() == 0  # its lease has not run out
            # Time passes: the lease (4 x time-out + 30 s) runs out.
            SyncJob.objects.filter(pk=job.pk).update(locked_until=timezone.now())
            assert sync_jobs_sweep() == 1
            job.refresh_from_db()
            outcomes = list(job.attempt_log.values_list("outcome", flat=True))

        assert job.status == SyncJobStatus.SUCCEEDED
        assert outcomes == [SyncAttemptOutcome.ABANDONED, SyncAttemptOutcome.SUCCEEDED]
        assert gateway.processed[job.idempotency_key] == 1
        assert list(gateway.accepted) == [job.idempotency_key]


def test_enrolments_saved_while_the_broker_is_down_are_sent_when_it_is_back(celery_worker, gateway):
    with committed_connector(gateway) as alpha:
        with tenant_context(alpha):
            admin = UserFactory(roles=[SystemRole.ADMIN], email=f"{unique('admin')}@example.org")
            cohort = CohortFactory(name=unique("Broker down"))

        with broker_unreachable(), tenant_context(alpha):
            enrollments = [
                invite_consenting(
                    cohort=cohort,
                    actor=admin,
                    email=f"{unique('student')}@example.org",
                    full_name=f"Student {index}",
                )
                for index in range(3)
            ]
            # Saved, with their jobs waiting in the table; nothing reached the gateway.
            assert CohortEnrollment.objects.filter(cohort=cohort).count() == 3
            jobs = SyncJob.objects.filter(
                entity_type="enrolments.cohortenrollment",
                entity_id__in=[str(enrollment.pk) for enrollment in enrollments],
            )
            assert sorted(jobs.values_list("status", flat=True)) == ["queued"] * 3
        assert gateway.submissions == []

        # The broker is back: the beat's sweep sends them through the worker.
        with tenant_context(alpha):
            sync_jobs_sweep_task.delay()

        def all_sent():
            """the three jobs accepted"""
            with tenant_context(alpha):
                return set(jobs.values_list("status", flat=True)) == {"succeeded"}

        wait_for(all_sent)
        assert len(gateway.accepted) == 3
        assert gateway.seen_twice() == 0


def test_two_workers_sweeping_at_once_send_each_job_once(committed_db, gateway):
    count = 40
    gateway.will("slow", times=count, seconds=0.01)
    with committed_connector(gateway) as alpha:
        with tenant_context(alpha):
            jobs = queued_jobs(count)
        start = threading.Barrier(2)
        ran: list[int] = []
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                connection.set_tenant(alpha)
                start.wait(10)
                ran.append(sync_jobs_sweep())
            except BaseException as error:
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        assert errors == []
        assert sum(ran) == count
        assert all(ran), "both workers took part"
        with tenant_context(alpha):
            statuses = SyncJob.objects.filter(pk__in=[job.pk for job in jobs]).values_list(
                "status", flat=True
            )
            assert set(statuses) == {"succeeded"}
        assert len(gateway.accepted) == count
        assert gateway.seen_twice() == 0
        assert len(gateway.submissions) == count
