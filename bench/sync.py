"""Sync benchmark: 2,000 enrolment jobs sent to the fake training gateway (a real HTTP server on
loopback, integrations.testing) with 10% of requests failing with a 500, by several workers
sweeping at once, as the beat's sweeps do.

    .venv/bin/python bench/sync.py [--jobs 2000] [--workers 4] [--failure-ratio 0.1]

Runs in a scratch database of its own (see scratch.py). The jobs are written by the outbox
(`sync_enqueue_many`, as an import writes them); the workers are threads, each with its own
database connection, each calling `sync_jobs_sweep` until no job is left to run. Retries are
made due within milliseconds so that the run measures the machinery, not the backoff. stdout
ends with:

    jobs_per_s: <jobs finished per second of sending>
    duplicates: <submissions the gateway processed more than once; target 0>
    lost: <jobs neither accepted nor dead-lettered; target 0>
"""

import argparse
import sys
import threading
import time

from scratch import log, run_benchmark

DEADLINE_SECONDS = 600


def enrol(count: int):
    """Bulk set-up (not what is measured): a cohort, its students and their enrolments."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import SystemRole, User
    from accounts.services import system_role_give
    from cohorts.models import Cohort
    from enrolments.models import CohortEnrollment
    from learners.consents import WORDINGS
    from learners.models import ConsentKind, ConsentMethod, IdentityType, Learner
    from learners.services import national_id_fields

    cohort = Cohort.objects.create(
        name="Bench run",
        program_type="learnership",
        start_date="2027-02-01",
        end_date="2027-11-30",
        student_count=count,
    )
    unusable = make_password(None)
    students = User.objects.bulk_create(
        User(
            email=f"student{index}@sync.example",
            full_name=f"Student {index:05d}",
            password=unusable,
        )
        for index in range(count)
    )
    system_role_give(users=students, key=SystemRole.STUDENT, granted_by=None)
    learners = Learner.objects.bulk_create(
        Learner(
            user=student,
            first_name="Student",
            last_name=f"{index:05d}",
            email=student.email,
            # What the gateway sync needs: their consent to sharing with the funding body.
            consent_flags={
                ConsentKind.FUNDING_BODY_SHARING: {
                    "given": True,
                    "version": WORDINGS[ConsentKind.FUNDING_BODY_SHARING].version,
                    "method": ConsentMethod.PORTAL,
                }
            },
            **national_id_fields(kind=IdentityType.SA_ID, country="ZA", number=f"{index:013d}"),
        )
        for index, student in enumerate(students)
    )
    return CohortEnrollment.objects.bulk_create(
        CohortEnrollment(cohort=cohort, user=student, learner=learner)
        for student, learner in zip(students, learners, strict=True)
    )


def measure(jobs: int, workers: int, failure_ratio: float) -> dict[str, float | int]:
    from django.db import connections, transaction
    from django.db.models import Count

    from integrations.connectors.training_gateway import TrainingGatewayConnector
    from integrations.models import SyncJob, SyncJobStatus
    from integrations.services import connector_config_save, sync_enqueue_many, sync_jobs_sweep
    from integrations.testing import FakeGateway
    from tenants.db import tenant_connection
    from tenants.services import institution_provision

    institution = institution_provision(
        name="Bench Sync", code="benchsync", admin_email="admin@benchsync.example"
    )
    tenant_connection.set_tenant(institution)
    gateway = FakeGateway().start()
    TrainingGatewayConnector.retry_base_seconds = 0.002
    TrainingGatewayConnector.retry_cap_seconds = 0.02
    connector_config_save(
        actor=None,
        connector="training_gateway",
        base_url=gateway.url,
        credentials=gateway.credentials,
        max_attempts=8,
        timeout_seconds=5,
    )
    enrollments = enrol(jobs)
    with transaction.atomic():
        queued = sync_enqueue_many(enrollments)
    log(f"{len(queued)} jobs queued by the outbox; {workers} workers sweeping")
    gateway.failure_ratio = failure_ratio

    errors: list[BaseException] = []
    deadline = time.monotonic() + DEADLINE_SECONDS

    def worker() -> None:
        try:
            tenant_connection.set_tenant(institution)
            unfinished = SyncJob.objects.filter(
                status__in=[SyncJobStatus.QUEUED, SyncJobStatus.RUNNING]
            )
            while time.monotonic() < deadline:
                if sync_jobs_sweep() == 0:
                    if not unfinished.exists():
                        return
                    time.sleep(0.005)  # retries not yet due, or held by another worker
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    gateway.stop()
    if errors:
        raise errors[0]

    counts = dict(SyncJob.objects.order_by().values_list("status").annotate(n=Count("id")))
    failures = sum(1 for item in gateway.submissions if item.behaviour == "error_500")
    log(
        f"sent in {elapsed:.1f} s: {counts}; {len(gateway.submissions)} requests, "
        f"{failures} failed by injection"
    )
    finished = counts.get(SyncJobStatus.SUCCEEDED, 0) + counts.get(SyncJobStatus.DEAD_LETTER, 0)
    return {
        "jobs_per_s": finished / elapsed,
        "duplicates": gateway.seen_twice(),
        "lost": len(queued) - finished,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--failure-ratio", type=float, default=0.1)
    args = parser.parse_args()
    return run_benchmark("sync", lambda: measure(args.jobs, args.workers, args.failure_ratio))


if __name__ == "__main__":
    sys.exit(main())
