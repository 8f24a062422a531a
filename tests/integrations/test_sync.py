"""Sync jobs against a fake training gateway on loopback: the outbox, exactly-once sending,
retries with backoff, permanent errors, dead letters and duplicates."""

import base64
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from cohorts.services import cohort_cancel, cohort_create, cohort_update
from enrolments.services import enrollment_invite, enrollment_withdraw
from integrations import services
from integrations.crypto import gateway_decrypt
from integrations.models import (
    ConnectorConfig,
    SyncAttempt,
    SyncAttemptOutcome,
    SyncJob,
    SyncJobStatus,
)
from integrations.payloads import GATEWAY_REFERENCE
from integrations.selectors import sync_state_for
from integrations.services import (
    sync_enqueue_for,
    sync_job_cancel,
    sync_job_retry,
    sync_job_run,
    sync_jobs_claim,
    sync_jobs_sweep,
)
from learners.models import ConsentKind
from notifications.models import OutboundEmail
from signing.models import AgreementTemplate
from tests.factories import CohortFactory, UserFactory
from tests.integrations.conftest import MAX_ATTEMPTS, invite_consenting
from tests.learners.support import consents_give

pytestmark = pytest.mark.django_db


def make_due(job: SyncJob) -> None:
    SyncJob.objects.filter(pk=job.pk).update(next_retry_at=timezone.now() - timedelta(seconds=1))


def cohort_fields(**overrides):
    return {
        "name": "Plumbing 2027",
        "program_type": "learnership",
        "start_date": "2027-02-01",
        "end_date": "2027-11-30",
        "student_count": 20,
        "main_template": AgreementTemplate.objects.order_by("pk").first(),
        **overrides,
    }


# --- The outbox ---------------------------------------------------------------------------


def test_without_a_connector_nothing_is_queued_and_no_query_is_made(
    institution, admin, django_assert_num_queries
):
    cohort = CohortFactory()
    with django_assert_num_queries(0):
        assert sync_enqueue_for(cohort) is None
    cohort_create(actor=admin, **cohort_fields())
    assert not SyncJob.objects.exists()


def test_a_created_cohort_queues_one_course_run_job_in_its_transaction(connected, admin):
    cohort = cohort_create(actor=admin, **cohort_fields())

    (job,) = SyncJob.objects.all()
    assert (job.job_type, job.entity_type, job.entity_id) == (
        "course_run_create",
        "cohorts.cohort",
        str(cohort.pk),
    )
    assert job.status == SyncJobStatus.QUEUED
    assert job.payload["course"]["run"]["title"] == "Plumbing 2027"
    assert job.payload["course"]["run"]["courseDates"] == {"start": "20270201", "end": "20271130"}
    assert len(job.idempotency_key) == 64


def test_an_unchanged_record_makes_no_job_and_the_same_change_twice_makes_one(connected, admin):
    cohort = cohort_create(actor=admin, **cohort_fields())
    sync_enqueue_for(cohort)  # saved again, unchanged
    assert SyncJob.objects.count() == 1

    cohort_update(cohort=cohort, actor=admin, changes={"student_count": 25})
    cohort = cohort_update(cohort=cohort, actor=admin, changes={"student_count": 25})
    sync_enqueue_for(cohort)

    jobs = list(SyncJob.objects.order_by("id"))
    assert [job.job_type for job in jobs] == ["course_run_create", "course_run_update"]
    assert jobs[1].payload["course"]["run"]["intakeSize"] == 25


def test_a_record_changed_back_to_an_earlier_version_makes_a_new_job(connected, admin):
    cohort = cohort_create(actor=admin, **cohort_fields())
    cohort_update(cohort=cohort, actor=admin, changes={"student_count": 25})
    cohort_update(cohort=cohort, actor=admin, changes={"student_count": 30})
    cohort_update(cohort=cohort, actor=admin, changes={"student_count": 25})

    keys = list(SyncJob.objects.values_list("idempotency_key", flat=True))
    assert len(keys) == len(set(keys)) == 4


def test_a_rolled_back_change_leaves_no_job(connected, admin):
    with pytest.raises(ValidationError):
        cohort_create(actor=admin, **cohort_fields(end_date="2026-01-01"))
    assert not SyncJob.objects.exists()


def test_enrolments_are_created_once_the_student_consents_and_cancelled_at_the_gateway(
    connected, admin
):
    cohort = CohortFactory()
    enrollment = enrollment_invite(
        cohort=cohort,
        actor=admin,
        email="thandi@example.org",
        full_name="Thandi Nkosi",
        id_number="9001015009087",
    )
    jobs = SyncJob.objects.filter(entity_type="enrolments.cohortenrollment")
    assert not jobs.exists()  # waits for the consent to sharing with the funding body
    consents_give(enrollment.learner, ConsentKind.DATA_PROCESSING)
    assert not jobs.exists()

    consents_give(enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)

    (create,) = jobs
    assert create.job_type == "enrolment_create"
    learner = enrollment.learner
    assert create.payload["enrolment"]["trainee"]["idNumber"] == {
        "$national_id": learner.pk,
        "digest": learner.national_id_hash[:16],
    }
    consents_give(enrollment.learner, ConsentKind.FUNDING_BODY_SHARING)  # again: no new job
    assert jobs.count() == 1

    enrollment_withdraw(enrollment=enrollment, actor=admin, reason="Moved away")

    cancel = SyncJob.objects.filter(entity_type="enrolments.cohortenrollment").latest("id")
    assert cancel.job_type == "enrolment_cancel"
    assert cancel.payload["enrolment"]["reason"] == "Moved away"


def test_credentials_are_stored_encrypted(connected):
    stored = ConnectorConfig.objects.get().credentials_encrypted
    assert connected.api_key not in stored
    assert connected.encryption_key not in stored


def test_only_a_super_admin_configures_the_connector(institution, gateway, admin):
    with pytest.raises(PermissionDenied):
        services.connector_config_save(
            actor=admin, connector="training_gateway", base_url=gateway.url, credentials={}
        )


# --- Sending ------------------------------------------------------------------------------


def test_a_job_is_sent_encrypted_with_the_api_key_and_its_reference_recorded(connected, admin):
    cohort = cohort_create(actor=admin, **cohort_fields())
    job = SyncJob.objects.get()

    done = sync_job_run(job_id=job.pk)

    assert done.status == SyncJobStatus.SUCCEEDED
    assert done.external_reference.startswith("RUN-")
    assert done.attempts == 1
    (submission,) = connected.submissions
    assert submission.path == "/courses/runs"
    assert submission.idempotency_key == job.idempotency_key
    # Decrypted by the gateway with the shared key; the record's version travels with it.
    assert submission.payload == {**job.payload, "syncVersion": 1}
    assert (
        sync_state_for(entity_type="cohorts.cohort", entity_id=cohort.pk).external_reference
        == done.external_reference
    )
    # A repeated task (acks_late) finds nothing to do.
    assert sync_job_run(job_id=job.pk) is None
    assert len(connected.submissions) == 1


def test_an_update_goes_to_the_reference_the_gateway_gave_the_course_run(connected, admin):
    cohort = cohort_create(actor=admin, **cohort_fields())
    created = sync_job_run(job_id=SyncJob.objects.get().pk)
    cohort_cancel(cohort=cohort, actor=admin, reason="No sponsor")
    update = SyncJob.objects.latest("id")

    sync_job_run(job_id=update.pk)

    assert connected.submissions[-1].path == f"/courses/runs/{created.external_reference}"
    assert connected.submissions[-1].payload["course"]["run"]["status"] == "cancelled"


def test_a_500_is_retried_with_growing_delays_then_succeeds(connected, admin, monkeypatch):
    monkeypatch.setattr(services.random, "uniform", lambda low, high: high)  # jitter's ceiling
    base = services.connector_load().retry_base_seconds
    cohort_create(actor=admin, **cohort_fields())
    job = SyncJob.objects.get()
    connected.will("error_500", times=2)
    connected.will("timeout", seconds=1.5)  # the connector's time-out is 0.5 s

    delays = []
    for _ in range(3):
        failed = sync_job_run(job_id=job.pk)
        assert failed.status == SyncJobStatus.QUEUED
        recorded_at = failed.attempt_log.last().finished_at
        delays.append((failed.next_retry_at - recorded_at).total_seconds())
        assert sync_job_run(job_id=job.pk) is None  # not due yet
        make_due(job)
    done = sync_job_run(job_id=job.pk)

    assert delays == [base * 2, base * 4, base * 8]
    assert done.status == SyncJobStatus.SUCCEEDED
    attempts = list(done.attempt_log.values_list("outcome", "http_status"))
    assert attempts == [
        ("retryable", 500),
        ("retryable", 500),
        ("retryable", None),
        ("succeeded", 200),
    ]
    assert "Timed out" in done.attempt_log.get(number=3).error
    assert len(connected.accepted) == 1


def test_the_jitter_stays_under_the_exponential_ceiling(connected):
    connector = services.connector_load()
    for attempts in range(1, 12):
        ceiling = min(connector.retry_cap_seconds, connector.retry_base_seconds * 2**attempts)
        assert 0 <= services.retry_delay(connector, attempts) <= ceiling


def test_a_validation_error_fails_at_once_with_the_gateways_message(connected, admin):
    cohort_create(actor=admin, **cohort_fields())
    connected.will("validation")

    failed = sync_job_run(job_id=SyncJob.objects.get().pk)

    assert failed.status == SyncJobStatus.FAILED
    assert failed.attempts == 1
    assert "Course run dates are invalid" in failed.last_error
    assert "courseDates.end" in failed.last_error
    assert AuditEvent.objects.filter(action="sync_job.failed", entity_id=str(failed.pk)).exists()


def test_after_the_last_attempt_a_job_goes_to_the_dead_letter_and_admins_hear_once(
    connected, admin
):
    other_admin = UserFactory(roles=[SystemRole.SUPER_ADMIN])
    UserFactory(roles=[SystemRole.STUDENT])
    cohort_create(actor=admin, **cohort_fields())
    job = SyncJob.objects.get()
    connected.will("error_500", times=MAX_ATTEMPTS)

    for _ in range(MAX_ATTEMPTS):
        make_due(job)
        last = sync_job_run(job_id=job.pk)

    assert last.status == SyncJobStatus.DEAD_LETTER
    assert last.attempts == MAX_ATTEMPTS
    assert sync_job_run(job_id=job.pk) is None
    notices = OutboundEmail.objects.filter(template="sync_dead_letter")
    recipients = set(notices.values_list("recipient", flat=True))
    assert {admin.email, other_admin.email} <= recipients
    assert notices.count() == len(recipients)  # once each

    # Retried by an admin and dead again: a fresh notice for the fresh failure.
    sync_job_retry(job=last, actor=admin)
    assert SyncJob.objects.get(pk=job.pk).status == SyncJobStatus.QUEUED
    assert AuditEvent.objects.filter(action="sync_job.retried", entity_id=str(job.pk)).exists()


def test_a_duplicate_of_our_own_submission_counts_as_success(connected, admin):
    cohort_create(actor=admin, **cohort_fields())
    connected.will("duplicate")

    done = sync_job_run(job_id=SyncJob.objects.get().pk)

    assert done.status == SyncJobStatus.SUCCEEDED
    assert done.external_reference.startswith("RUN-")
    assert done.attempt_log.get().outcome == SyncAttemptOutcome.DUPLICATE


def test_a_lost_response_is_retried_and_the_gateway_accepts_the_submission_once(connected, admin):
    cohort_create(actor=admin, **cohort_fields())
    job = SyncJob.objects.get()
    connected.will("lost_response")

    assert sync_job_run(job_id=job.pk).status == SyncJobStatus.QUEUED
    make_due(job)
    done = sync_job_run(job_id=job.pk)

    assert done.status == SyncJobStatus.SUCCEEDED
    assert list(connected.accepted) == [job.idempotency_key]
    assert done.external_reference == connected.accepted[job.idempotency_key]


def test_a_job_whose_worker_died_is_finished_once_by_the_sweep(connected, admin):
    cohort_create(actor=admin, **cohort_fields())
    job = SyncJob.objects.get()
    # A worker claimed it and was killed before sending: running, with a lease.
    (claimed,) = sync_jobs_claim(connector=services.connector_load(), job_id=job.pk).jobs
    assert claimed.job.status == SyncJobStatus.RUNNING
    assert sync_jobs_sweep() == 0  # the lease still holds
    SyncJob.objects.filter(pk=job.pk).update(locked_until=timezone.now() - timedelta(seconds=1))

    assert sync_jobs_sweep() == 1

    job.refresh_from_db()
    assert job.status == SyncJobStatus.SUCCEEDED
    assert [a.outcome for a in job.attempt_log.all()] == ["abandoned", "succeeded"]
    assert len(connected.submissions) == 1
    assert sync_jobs_sweep() == 0


def test_an_enrolment_cancellation_waits_for_its_creation_to_be_accepted(
    connected, admin, fast_retries
):
    enrollment = invite_consenting(
        cohort=CohortFactory(), actor=admin, email="sipho@example.org", full_name="Sipho"
    )
    enrollment_withdraw(enrollment=enrollment, actor=admin, reason="Found a job")
    create, cancel = SyncJob.objects.order_by("id")

    waiting = sync_job_run(job_id=cancel.pk)
    assert waiting.status == SyncJobStatus.QUEUED
    assert "creation first" in waiting.last_error
    assert waiting.attempts == 0  # waiting for its creation is not a failed try
    assert connected.submissions == []
    sync_job_run(job_id=create.pk)
    make_due(cancel)
    done = sync_job_run(job_id=cancel.pk)

    assert done.status == SyncJobStatus.SUCCEEDED
    assert connected.submissions[-1].path.startswith("/tpg/enrolments/details/ENR-")


def test_an_admin_cancels_a_queued_job_and_it_is_never_sent(connected, admin):
    cohort_create(actor=admin, **cohort_fields())
    job = SyncJob.objects.get()

    sync_job_cancel(job=job, actor=admin)

    assert sync_job_run(job_id=job.pk) is None
    assert connected.submissions == []
    assert AuditEvent.objects.filter(action="sync_job.cancelled", entity_id=str(job.pk)).exists()
    with pytest.raises(ValidationError):
        sync_job_cancel(job=job, actor=admin)


def test_a_cancelled_job_stays_cancelled_when_its_record_is_saved_again(connected, admin):
    cohort = cohort_create(actor=admin, **cohort_fields())
    job = SyncJob.objects.get()
    sync_job_cancel(job=job, actor=admin)

    with transaction.atomic():
        sync_enqueue_for(cohort)

    assert list(SyncJob.objects.values_list("status", flat=True)) == [SyncJobStatus.CANCELLED]


def test_a_student_may_not_retry_or_cancel(connected, admin):
    cohort_create(actor=admin, **cohort_fields())
    student = UserFactory(roles=[SystemRole.STUDENT])
    with pytest.raises(PermissionDenied):
        sync_job_cancel(job=SyncJob.objects.get(), actor=student)


def test_the_gateway_payload_is_aes_256_ciphertext(connected):
    from integrations.crypto import gateway_encrypt

    text = gateway_encrypt({"a": 1}, key_b64=connected.encryption_key)
    raw = base64.b64decode(text)
    assert len(base64.b64decode(connected.encryption_key)) == 32  # a 256-bit key
    assert len(raw) % 16 == 0  # whole AES blocks
    assert b'"a"' not in raw
    assert gateway_decrypt(text, key_b64=connected.encryption_key) == {"a": 1}
    fixed = gateway_encrypt({"a": 1}, key_b64=connected.encryption_key, iv=b"SSGAPIInitVector")
    assert fixed == gateway_encrypt(
        {"a": 1}, key_b64=connected.encryption_key, iv=b"SSGAPIInitVector"
    )


def test_a_slow_answer_within_the_time_out_is_accepted(connected, admin):
    cohort_create(actor=admin, **cohort_fields())
    connected.will("slow", seconds=0.3)  # the connector waits 0.5 s

    done = sync_job_run(job_id=SyncJob.objects.get().pk)

    assert done.status == SyncJobStatus.SUCCEEDED
    assert done.attempts == 1


def test_states_for_a_list_come_in_constant_queries(connected, admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integrations.selectors import sync_states_for

    cohorts = [cohort_create(actor=admin, **cohort_fields(name=f"C{n}")) for n in range(3)]
    sync_job_run(job_id=SyncJob.objects.get(entity_id=str(cohorts[0].pk)).pk)

    with CaptureQueriesContext(connection) as queries:
        states = sync_states_for(
            entity_type="cohorts.cohort", entity_ids=[cohort.pk for cohort in cohorts]
        )

    assert len([q for q in queries if q["sql"].startswith("SELECT")]) == 2

    assert states[str(cohorts[0].pk)].external_reference.startswith("RUN-")
    assert states[str(cohorts[1].pk)].status == SyncJobStatus.QUEUED


def test_a_sweep_stops_at_its_limits_and_leaves_the_rest_for_the_next(connected, admin):
    for index in range(3):
        cohort_create(actor=admin, **cohort_fields(name=f"Run {index}"))

    assert sync_jobs_sweep(seconds=0) == 0
    assert sync_jobs_sweep(limit=2) == 2
    assert sync_jobs_sweep() == 1
    assert set(SyncJob.objects.values_list("status", flat=True)) == {SyncJobStatus.SUCCEEDED}


def test_the_cohort_and_enrolment_pages_show_their_sync_status(
    connected, admin, institution, client_for
):
    from django.urls import reverse

    from cohorts.services import cohort_activate, cohort_record_admin_signature
    from enrolments.models import CohortEnrollment

    cohort = CohortFactory()
    cohort_record_admin_signature(cohort=cohort, actor=admin, signature="Ada")
    cohort = cohort_activate(cohort=cohort, actor=admin)
    enrollment_invite(cohort=cohort, actor=admin, email="synced@example.org", full_name="S")
    for job in SyncJob.objects.order_by("id"):
        sync_job_run(job_id=job.pk)
    client = client_for(institution)
    client.force_login(admin)

    dashboard = client.get(reverse("cohorts:dashboard", args=[cohort.pk])).content.decode()
    reference = sync_state_for(entity_type="cohorts.cohort", entity_id=cohort.pk)
    assert "Gateway:" in dashboard
    assert reference.external_reference in dashboard

    enrollment = CohortEnrollment.objects.get(user__email="synced@example.org")
    page = client.get(reverse("verification:enrollment", args=[enrollment.pk])).content.decode()
    assert "Gateway:" in page


# --- Batches ------------------------------------------------------------------------------


def gateway_records(count: int, *, first: int = 0) -> list[SyncJob]:
    """Create jobs of records no app checks or fills in before sending: nothing per job but
    the send itself."""
    return SyncJob.objects.bulk_create(
        SyncJob(
            job_type="course_run_create",
            entity_type="gateway.record",
            entity_id=f"run-{index}",
            idempotency_key=f"{index:064d}",
            payload={"course": {"run": {"reference": f"run-{index}"}}},
            payload_hash=f"{index:064d}",
        )
        for index in range(first, first + count)
    )


def test_a_batch_is_claimed_and_recorded_in_as_many_queries_for_many_jobs_as_for_few(connected):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connector = services.connector_load()
    counts = []
    for first, size in ((0, 2), (2, 8)):
        jobs = gateway_records(size, first=first)
        with CaptureQueriesContext(connection) as queries:
            done = services.sync_jobs_run(connector=connector, limit=size)
        assert [job.status for job in done] == [SyncJobStatus.SUCCEEDED] * size
        assert [job.pk for job in done] == [job.pk for job in jobs]
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert len(connected.accepted) == 10


def test_a_batch_reads_the_gateway_references_its_jobs_need_in_as_many_queries_for_many(
    connected,
):
    """Updates go to the reference the gateway gave their record, and name another record by
    its reference: read for the whole batch at once, not per job."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connector = services.connector_load()
    counts = []
    for first, size in ((0, 2), (2, 8)):
        created = gateway_records(size, first=first)
        services.sync_jobs_run(connector=connector, limit=size)
        updates = SyncJob.objects.bulk_create(
            SyncJob(
                job_type="course_run_update",
                entity_type="gateway.record",
                entity_id=job.entity_id,
                idempotency_key=f"update-{job.entity_id}",
                payload={
                    "course": {"run": {"reference": job.entity_id, "title": "Changed"}},
                    "previous": {GATEWAY_REFERENCE: "gateway.record", "id": job.entity_id},
                },
                payload_hash=f"update-{job.entity_id}",
                version=2,
            )
            for job in created
        )
        with CaptureQueriesContext(connection) as queries:
            done = services.sync_jobs_run(connector=connector, limit=size)
        assert [job.pk for job in done] == [job.pk for job in updates]
        assert {job.status for job in done} == {SyncJobStatus.SUCCEEDED}
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_jobs_a_batch_has_no_time_left_to_send_go_back_to_the_queue_untried(connected):
    jobs = gateway_records(5)
    connector = services.connector_load()
    connector.timeout = 1.0  # sends may start during the batch's first second only
    connected.will("timeout", seconds=1.5)  # the first send uses it all up

    done = services.sync_jobs_run(connector=connector, limit=5)

    assert [(job.pk, job.status) for job in done] == [(jobs[0].pk, SyncJobStatus.QUEUED)]
    assert "Timed out" in done[0].last_error
    rest = SyncJob.objects.filter(pk__in=[job.pk for job in jobs[1:]])
    assert set(rest.values_list("status", "attempts", "locked_until")) == {
        (SyncJobStatus.QUEUED, 0, None)
    }
    assert not SyncAttempt.objects.filter(job__in=rest).exists()
    assert sync_jobs_sweep() == 4  # the first waits for its retry
    assert len(connected.submissions) == 5
