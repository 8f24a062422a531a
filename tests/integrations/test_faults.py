"""Delivery records sent to a misbehaving gateway (the fake gateway on loopback, real HTTP):
500s, time-outs, slow answers, duplicate acknowledgements and 409s for stale versions. Nothing
is lost, nothing is applied twice, and an older version of a record never wins over a newer
one, also when two workers race its versions."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_tenants.utils import tenant_context

from delivery.gateway import enrolment_reference, run_reference
from delivery.models import CourseRun
from integrations.models import SyncAttemptOutcome, SyncJob, SyncJobStatus
from integrations.services import sync_enqueue_many, sync_job_run, sync_jobs_sweep
from learners.models import ConsentKind
from notifications.models import OutboundEmail
from tests.delivery.results_support import learners_enrol
from tests.factories import CourseRunFactory
from tests.integrations.conftest import committed_connector
from tests.learners.support import consents_give
from tests.notifications.support import wait_for

VENUES = ("Room 1", "Room 2", "Room 3")


def versions_queued(run: CourseRun) -> list[SyncJob]:
    """The run's creation and two changes, queued one behind the other before any is sent."""
    jobs = []
    for venue in VENUES:
        run.venue = venue
        run.save(update_fields=["venue"])
        jobs.extend(sync_enqueue_many([run]))
    assert [job.version for job in jobs] == [1, 2, 3]
    return jobs


def sweep_until_done(*, timeout: float = 30.0) -> None:
    """Sweep (as the beat does) until no job is queued or running; retries come due within
    milliseconds (fast_retries)."""
    unfinished = SyncJob.objects.filter(status__in=[SyncJobStatus.QUEUED, SyncJobStatus.RUNNING])
    deadline = time.monotonic() + timeout
    while unfinished.exists():
        assert time.monotonic() < deadline, f"jobs left: {list(unfinished.values('pk', 'status'))}"
        if sync_jobs_sweep() == 0:
            time.sleep(0.01)


def outcomes(job: SyncJob) -> list[str]:
    return list(job.attempt_log.order_by("number").values_list("outcome", flat=True))


def make_due(job: SyncJob) -> None:
    SyncJob.objects.filter(pk=job.pk).update(next_retry_at=timezone.now() - timedelta(seconds=1))


@pytest.fixture
def run(connected) -> CourseRun:
    return CourseRunFactory(venue="Room 1")


# --- Failures the gateway never processed -------------------------------------------------


@pytest.mark.django_db
def test_500s_are_retried_until_each_record_is_accepted_once(connected, fast_retries):
    runs = CourseRunFactory.create_batch(3)
    jobs = sync_enqueue_many(runs)
    connected.will("error_500", times=4)

    sweep_until_done()

    assert set(SyncJob.objects.values_list("status", flat=True)) == {SyncJobStatus.SUCCEEDED}
    assert sum(len(connected.requests_for(job.idempotency_key)) for job in jobs) == 3 + 4
    assert all(connected.processed[job.idempotency_key] == 1 for job in jobs)
    for job in SyncJob.objects.all():
        held = connected.record("run", run_reference(int(job.entity_id)))
        assert held is not None
        assert held.gateway_reference == job.external_reference


@pytest.mark.django_db
def test_a_request_that_timed_out_unprocessed_is_sent_again_and_processed_once(
    run, connected, fast_retries
):
    (job,) = sync_enqueue_many([run])
    connected.will("timeout", seconds=1.5)  # the connector gives up after 0.5 s

    sweep_until_done()

    job.refresh_from_db()
    assert job.status == SyncJobStatus.SUCCEEDED
    assert outcomes(job) == [SyncAttemptOutcome.RETRYABLE, SyncAttemptOutcome.SUCCEEDED]
    assert "Timed out" in job.attempt_log.get(number=1).error
    assert len(connected.requests_for(job.idempotency_key)) == 2
    assert connected.processed[job.idempotency_key] == 1


# --- Failures after the gateway processed the request ------------------------------------


@pytest.mark.django_db
def test_a_slow_answer_the_gateway_processed_is_not_applied_again_when_retried(
    run, connected, fast_retries
):
    (job,) = sync_enqueue_many([run])
    connected.will("slow", seconds=1.5)  # processed after 1.5 s; the connector waits 0.5 s

    assert sync_job_run(job_id=job.pk).status == SyncJobStatus.QUEUED  # timed out
    wait_for(lambda: connected.processed[job.idempotency_key], timeout=5)
    make_due(job)
    sweep_until_done()

    job.refresh_from_db()
    held = connected.record("run", run_reference(run.pk))
    assert job.status == SyncJobStatus.SUCCEEDED
    assert outcomes(job) == [SyncAttemptOutcome.RETRYABLE, SyncAttemptOutcome.DUPLICATE]
    assert held is not None
    assert job.external_reference == held.gateway_reference
    assert list(connected.accepted) == [job.idempotency_key]  # applied once
    assert [item.kind for item in connected.records.values()] == ["run"]


@pytest.mark.django_db
@pytest.mark.parametrize("behaviour", ["duplicate", "lost_response"])
def test_a_duplicate_acknowledgement_counts_as_accepted_with_the_gateways_reference(
    run, connected, fast_retries, behaviour
):
    (job,) = sync_enqueue_many([run])
    connected.will(behaviour)

    sweep_until_done()

    job.refresh_from_db()
    held = connected.record("run", run_reference(run.pk))
    assert job.status == SyncJobStatus.SUCCEEDED
    assert outcomes(job)[-1] == SyncAttemptOutcome.DUPLICATE
    assert held is not None
    assert job.external_reference == held.gateway_reference
    receipts = job.receipts.values_list("external_reference", "duplicate")
    assert list(receipts) == [(held.gateway_reference, True)]
    assert list(connected.accepted) == [job.idempotency_key]
    assert len(connected.records) == 1


@pytest.mark.django_db
def test_records_waiting_for_their_run_are_sent_once_it_is_accepted_through_failures(
    connected, fast_retries
):
    run = CourseRunFactory()
    enrolments = learners_enrol(run, 3)
    for enrolment in enrolments:
        consents_give(enrolment.enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)
    # The enrolments are queued first: they wait for the run, whose creation fails twice.
    waiting = sync_enqueue_many(enrolments)
    (creation,) = sync_enqueue_many([run])
    connected.will("error_500", times=2)

    sweep_until_done()

    assert SyncJob.objects.get(pk=creation.pk).status == SyncJobStatus.SUCCEEDED
    run_held = connected.record("run", run_reference(run.pk))
    assert run_held is not None
    for job in waiting:
        job.refresh_from_db()
        assert job.status == SyncJobStatus.SUCCEEDED
        held = connected.record("enrolment", enrolment_reference(int(job.entity_id)))
        assert held is not None
        assert held.run == run_held.gateway_reference
        assert connected.processed[job.idempotency_key] == 1


# --- Stale versions ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_version_the_gateway_refuses_as_stale_is_superseded_without_retry_or_alarm(
    run, connected, fast_retries
):
    first, second, third = versions_queued(run)
    assert sync_job_run(job_id=first.pk).status == SyncJobStatus.SUCCEEDED
    # The third version lands at the gateway, but its answer is lost on the way back: as far
    # as we know, no newer version than the first is there when the second is sent.
    connected.will("lost_response")
    assert sync_job_run(job_id=third.pk).status == SyncJobStatus.QUEUED

    second = sync_job_run(job_id=second.pk)

    assert second.status == SyncJobStatus.SUPERSEDED
    assert second.next_retry_at is None
    assert outcomes(second) == [SyncAttemptOutcome.STALE]
    assert "newer version" in second.last_error
    assert connected.stale_refusals == 1
    assert not OutboundEmail.objects.filter(template="sync_dead_letter").exists()
    make_due(third)
    assert sync_job_run(job_id=third.pk).status == SyncJobStatus.SUCCEEDED
    held = connected.record("run", run_reference(run.pk))
    assert held is not None
    assert (held.version, held.body["venue"]) == (3, "Room 3")


@pytest.mark.django_db
def test_an_older_version_still_queued_is_never_sent_after_a_newer_one_was_accepted(
    run, connected, fast_retries
):
    first, second, third = versions_queued(run)
    sync_job_run(job_id=first.pk)
    sync_job_run(job_id=third.pk)

    sync_job_run(job_id=second.pk)  # superseded when the third was accepted, if not here

    second.refresh_from_db()
    assert second.status == SyncJobStatus.SUPERSEDED
    assert connected.requests_for(second.idempotency_key) == []
    held = connected.record("run", run_reference(run.pk))
    assert held is not None
    assert (held.version, held.body["venue"]) == (3, "Room 3")


def test_versions_raced_by_two_workers_through_failures_leave_the_newest_at_the_gateway(
    committed_db, gateway, fast_retries
):
    gateway.failure_ratio = 0.3
    # Waiting for the run's creation takes attempts too: enough that none is dead-lettered.
    with committed_connector(gateway, max_attempts=25) as alpha:
        with tenant_context(alpha):
            runs = CourseRunFactory.create_batch(8)
            jobs = [job for run in runs for job in versions_queued(run)]
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def worker() -> None:
            try:
                connection.set_tenant(alpha)
                start.wait(10)
                sweep_until_done(timeout=60)
            except BaseException as error:
                errors.append(error)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)

        assert errors == []
        with tenant_context(alpha):
            statuses = SyncJob.objects.filter(pk__in=[job.pk for job in jobs]).values_list(
                "version", "status"
            )
            # The creation and the newest version are accepted; the middle one may have been
            # overtaken by the newest (superseded), never the other way round.
            assert {status for version, status in statuses if version != 2} == {
                SyncJobStatus.SUCCEEDED
            }
            assert {status for version, status in statuses if version == 2} <= {
                SyncJobStatus.SUCCEEDED,
                SyncJobStatus.SUPERSEDED,
            }
        assert gateway.seen_twice() == 0
        for run in runs:
            held = gateway.record("run", run_reference(run.pk))
            assert held is not None
            assert (held.version, held.body["venue"]) == (3, "Room 3")
