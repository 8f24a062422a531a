"""A record's versions at the gateway: the gateway refuses a version older than the one it
holds, and we never send an older version after a newer one landed. Jobs of a record only the
gateway knows of ("gateway.record", no app checks it) against the fake gateway on loopback."""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from integrations.models import SyncAttemptOutcome, SyncJob, SyncJobStatus
from integrations.services import (
    reported_ids,
    sync_enqueue_many,
    sync_job_retry,
    sync_job_run,
    sync_jobs_sweep,
)
from integrations.signals import sync_jobs_recorded
from notifications.models import OutboundEmail
from tests.factories import CohortFactory
from tests.integrations.conftest import committed_connector
from tests.notifications.support import wait_for

RECORD = "gateway.record"


def version_job(record: str, version: int, *, job_type: str = "", **run: object) -> SyncJob:
    """Version `version` of a course run as the outbox queues it: a create for version 1."""
    return SyncJob.objects.create(
        job_type=job_type or ("course_run_create" if version == 1 else "course_run_update"),
        entity_type=RECORD,
        entity_id=record,
        idempotency_key=uuid.uuid4().hex + uuid.uuid4().hex,
        payload={"course": {"run": {"reference": record, **run}}},
        payload_hash=uuid.uuid4().hex,
        version=version,
    )


def accepted_run(gateway, record: str = "run-1") -> SyncJob:
    created = sync_job_run(job_id=version_job(record, 1, title="One").pk)
    assert created.status == SyncJobStatus.SUCCEEDED
    return created


@pytest.mark.django_db
def test_a_version_the_gateway_refuses_as_stale_is_superseded_without_retry_or_alarm(
    connected, admin
):
    accepted_run(connected)
    # Someone else's newer version reached the gateway (version 5 is held).
    connected.record("run", "run-1").version = 5
    stale = version_job("run-1", 2, title="Two")

    done = sync_job_run(job_id=stale.pk)

    assert done.status == SyncJobStatus.SUPERSEDED
    assert done.next_retry_at is None
    assert "newer version" in done.last_error
    assert done.attempt_log.get().outcome == SyncAttemptOutcome.STALE
    assert connected.stale_refusals == 1
    assert connected.record("run", "run-1").body["title"] == "One"
    assert sync_job_run(job_id=stale.pk) is None  # nothing left to send
    assert not OutboundEmail.objects.filter(template="sync_dead_letter").exists()


@pytest.mark.django_db
def test_a_queued_older_version_is_superseded_unsent_when_a_newer_one_is_accepted(connected):
    accepted_run(connected)
    older = version_job("run-1", 2, title="Two")
    SyncJob.objects.filter(pk=older.pk).update(
        next_retry_at=timezone.now() + timedelta(minutes=5)  # waiting for a retry
    )
    newer = version_job("run-1", 3, title="Three")

    assert sync_job_run(job_id=newer.pk).status == SyncJobStatus.SUCCEEDED

    older.refresh_from_db()
    assert older.status == SyncJobStatus.SUPERSEDED
    assert "version 3" in older.last_error
    assert not older.attempt_log.exists()
    assert connected.requests_for(older.idempotency_key) == []
    assert connected.record("run", "run-1").body["title"] == "Three"


@pytest.mark.django_db
def test_an_older_version_retried_after_a_newer_one_landed_is_superseded_not_sent(connected, admin):
    accepted_run(connected)
    older = version_job("run-1", 2, title="Two")
    connected.will("validation")
    assert sync_job_run(job_id=older.pk).status == SyncJobStatus.FAILED
    sync_job_run(job_id=version_job("run-1", 3, title="Three").pk)

    sync_job_retry(job=older, actor=admin)
    done = sync_job_run(job_id=older.pk)

    assert done.status == SyncJobStatus.SUPERSEDED
    assert len(connected.requests_for(older.idempotency_key)) == 1  # the first, refused try
    assert connected.record("run", "run-1").body["title"] == "Three"


@pytest.mark.django_db
def test_a_sweep_sends_a_records_versions_in_order(connected):
    accepted_run(connected)
    versions = [version_job("run-1", number, title=f"V{number}") for number in (2, 3, 4)]

    assert sync_jobs_sweep() == 3

    statuses = [SyncJob.objects.get(pk=job.pk).status for job in versions]
    assert statuses == [SyncJobStatus.SUCCEEDED] * 3
    held = connected.record("run", "run-1")
    assert (held.version, held.body["title"]) == (4, "V4")
    assert connected.stale_refusals == 0


@pytest.mark.django_db
def test_a_record_waits_for_the_gateway_reference_of_the_record_it_belongs_to(
    connected, fast_retries
):
    enrolment = SyncJob.objects.create(
        job_type="enrolment_create",
        entity_type=RECORD,
        entity_id="enrolment-1",
        idempotency_key=uuid.uuid4().hex,
        payload={
            "enrolment": {
                "reference": "enrolment-1",
                "course": {"run": {"reference": {"$gateway_reference": RECORD, "id": "run-1"}}},
            }
        },
        payload_hash=uuid.uuid4().hex,
    )

    waiting = sync_job_run(job_id=enrolment.pk)
    assert waiting.status == SyncJobStatus.QUEUED
    assert waiting.last_error.startswith("Waiting: the gateway has not yet accepted")
    assert connected.requests_for(enrolment.idempotency_key) == []

    run = accepted_run(connected)
    SyncJob.objects.filter(pk=enrolment.pk).update(next_retry_at=timezone.now())
    done = sync_job_run(job_id=enrolment.pk)

    assert done.status == SyncJobStatus.SUCCEEDED
    (sent,) = connected.requests_for(enrolment.idempotency_key)
    assert sent.payload["enrolment"]["course"]["run"]["reference"] == run.external_reference
    assert connected.record("enrolment", "enrolment-1").run == run.external_reference
    # The job row keeps the placeholder, not the reference.
    assert done.payload["enrolment"]["course"]["run"]["reference"]["$gateway_reference"]


def test_a_record_whose_run_is_on_its_way_is_put_off_untried_until_after_it(connected):
    run = version_job("run-1", 1, title="One")
    run_due = timezone.now() + timedelta(minutes=5)
    SyncJob.objects.filter(pk=run.pk).update(next_retry_at=run_due)  # a retry, later
    enrolment = SyncJob.objects.create(
        job_type="enrolment_create",
        entity_type=RECORD,
        entity_id="enrolment-1",
        idempotency_key=uuid.uuid4().hex,
        payload={
            "enrolment": {
                "course": {"run": {"reference": {"$gateway_reference": RECORD, "id": "run-1"}}}
            }
        },
        payload_hash=uuid.uuid4().hex,
    )

    put_off = sync_job_run(job_id=enrolment.pk)

    assert put_off.status == SyncJobStatus.QUEUED
    assert put_off.next_retry_at > run_due  # due just after the run
    assert put_off.last_error.startswith("Waiting: the gateway has not yet accepted")
    assert (put_off.attempts, put_off.attempt_log.count()) == (0, 0)  # not a try
    assert connected.submissions == []


@pytest.mark.django_db
def test_the_apps_hear_of_every_step_of_a_job(connected):
    heard: list[tuple[int, str]] = []

    def listen(sender, jobs, **kwargs):
        heard.extend((job.pk, job.status) for job in jobs)

    sync_jobs_recorded.connect(listen)
    try:
        created = accepted_run(connected)
        connected.record("run", "run-1").version = 9
        refused = version_job("run-1", 2)
        connected.will("error_500")
        sync_job_run(job_id=refused.pk)
        SyncJob.objects.filter(pk=refused.pk).update(next_retry_at=timezone.now())
        sync_job_run(job_id=refused.pk)
        older = version_job("run-1", 3)
        SyncJob.objects.filter(pk=older.pk).update(next_retry_at=timezone.now() + timedelta(1))
        connected.record("run", "run-1").version = 1
        newer = sync_job_run(job_id=version_job("run-1", 4).pk)
    finally:
        sync_jobs_recorded.disconnect(listen)

    assert heard == [
        (created.pk, SyncJobStatus.SUCCEEDED),
        (refused.pk, SyncJobStatus.QUEUED),  # a 500: retried
        (refused.pk, SyncJobStatus.SUPERSEDED),  # refused as stale
        (newer.pk, SyncJobStatus.SUCCEEDED),
        (older.pk, SyncJobStatus.SUPERSEDED),  # queued behind an accepted newer version
    ]


def test_two_versions_raced_by_two_workers_leave_the_newer_one_at_the_gateway(
    committed_db, gateway
):
    record = f"run-{uuid.uuid4().hex[:8]}"
    with committed_connector(gateway, timeout_seconds=5) as alpha:
        with tenant_context(alpha):
            accepted_run(gateway, record)
            older = version_job(record, 2, title="Older")
            newer = version_job(record, 3, title="Newer")
        # The older version reaches the gateway first, but is processed late (a slow answer).
        gateway.will("slow", seconds=1.0)
        errors: list[BaseException] = []

        def slow_worker() -> None:
            try:
                connection.set_tenant(alpha)
                sync_job_run(job_id=older.pk)
            except BaseException as error:
                errors.append(error)
            finally:
                connections.close_all()

        thread = threading.Thread(target=slow_worker)
        thread.start()
        wait_for(lambda: gateway.requests_for(older.idempotency_key), timeout=10)
        with tenant_context(alpha):
            assert sync_job_run(job_id=newer.pk).status == SyncJobStatus.SUCCEEDED
        thread.join(30)

        assert errors == []
        held = gateway.record("run", record)
        assert (held.version, held.body["title"]) == (3, "Newer")
        assert gateway.stale_refusals == 1
        with tenant_context(alpha):
            older.refresh_from_db()
            newer.refresh_from_db()
        assert older.status == SyncJobStatus.SUPERSEDED
        assert newer.status == SyncJobStatus.SUCCEEDED


def test_two_changes_of_a_record_queued_at_once_take_one_version_each(committed_db, gateway):
    """The first change holds its transaction open while the second is queued: the second
    waits for it and takes the next version, never the same one."""
    with committed_connector(gateway) as alpha:
        with tenant_context(alpha):
            cohort = CohortFactory(name=f"Raced {uuid.uuid4().hex[:8]}")
        first_queued, second_started = threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def change(intake: int, *, first: bool) -> None:
            try:
                connection.set_tenant(alpha)
                if not first:
                    first_queued.wait(10)
                    second_started.set()
                with transaction.atomic():
                    cohort.student_count = intake
                    assert len(sync_enqueue_many([cohort])) == 1
                    if first:
                        first_queued.set()
                        second_started.wait(10)
                        time.sleep(0.3)  # the second change is queued meanwhile
            except BaseException as error:
                errors.append(error)
            finally:
                connections.close_all()

        threads = [
            threading.Thread(target=change, args=(21,), kwargs={"first": True}),
            threading.Thread(target=change, args=(22,), kwargs={"first": False}),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

        assert errors == []
        with tenant_context(alpha):
            jobs = list(
                SyncJob.objects.filter(entity_type="cohorts.cohort", entity_id=str(cohort.pk))
                .order_by("version")
                .values_list("version", "payload__course__run__intakeSize")
            )
        assert jobs == [(1, 21), (2, 22)]


@pytest.mark.django_db
def test_a_change_whose_version_is_taken_fails_rather_than_being_dropped(connected):
    cohort = CohortFactory()
    # Jobs written without the outbox: the record's last job has version 1, an earlier one 2.
    for version in (2, 1):
        SyncJob.objects.filter(pk=version_job(f"taken-{version}", version).pk).update(
            entity_type="cohorts.cohort", entity_id=str(cohort.pk)
        )
    with pytest.raises(IntegrityError, match="version is taken"), transaction.atomic():
        sync_enqueue_many([cohort])
    assert SyncJob.objects.filter(entity_id=str(cohort.pk)).count() == 2


@pytest.mark.django_db
def test_a_record_is_reported_once_its_creation_is_accepted_or_on_its_way(connected):
    for record, status in (
        ("accepted", SyncJobStatus.SUCCEEDED),
        ("on-its-way", SyncJobStatus.QUEUED),
        ("refused", SyncJobStatus.FAILED),
        ("cancelled", SyncJobStatus.CANCELLED),
    ):
        SyncJob.objects.filter(pk=version_job(record, 1).pk).update(status=status)
    version_job("changed-only", 2)  # an update without a create of its own

    names = ["accepted", "on-its-way", "refused", "cancelled", "changed-only", "unknown"]
    assert reported_ids(RECORD, names) == {"accepted", "on-its-way"}
