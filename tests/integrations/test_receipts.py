"""Receipts: what the gateway answered each time it accepted a submission, kept encrypted at
rest, duplicates marked, listed on the job page (acknowledgements only for sync managers)."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole
from integrations.crypto import at_rest_decrypt, at_rest_encrypt
from integrations.models import SyncJob, SyncJobStatus, SyncReceipt
from integrations.selectors import sync_job_detail, sync_job_receipts
from integrations.services import sync_job_run
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run_job(record: str = "run-1") -> SyncJob:
    return SyncJob.objects.create(
        job_type="course_run_create",
        entity_type="gateway.record",
        entity_id=record,
        idempotency_key=uuid.uuid4().hex,
        payload={"course": {"run": {"reference": record, "title": "Welding"}}},
        payload_hash=uuid.uuid4().hex,
    )


def test_an_accepted_submission_keeps_its_acknowledgement_encrypted(connected):
    done = sync_job_run(job_id=run_job().pk)

    (receipt,) = SyncReceipt.objects.filter(job=done)
    assert receipt.external_reference == done.external_reference
    assert receipt.external_reference.startswith("RUN-")
    assert (receipt.http_status, receipt.duplicate) == (200, False)
    assert receipt.attempt == done.attempt_log.get()
    assert receipt.external_reference not in receipt.acknowledgement_encrypted
    assert at_rest_decrypt(receipt.acknowledgement_encrypted) == {
        "status": 200,
        "data": {"reference": receipt.external_reference},
    }


def test_an_accepted_job_keeps_only_the_reference_in_clear_and_a_failed_one_the_answer(
    connected,
):
    done = sync_job_run(job_id=run_job().pk)
    connected.will("validation")
    failed = sync_job_run(job_id=run_job("run-2").pk)

    done.refresh_from_db()
    assert done.response == {"reference": done.external_reference}
    assert failed.status == SyncJobStatus.FAILED
    assert failed.response["error"]


def test_a_duplicate_acknowledgement_is_kept_and_marked(connected):
    job = run_job()
    connected.will("lost_response")  # the gateway accepted it, but the answer was lost
    assert sync_job_run(job_id=job.pk).status == SyncJobStatus.QUEUED
    SyncJob.objects.filter(pk=job.pk).update(next_retry_at=timezone.now() - timedelta(seconds=1))

    done = sync_job_run(job_id=job.pk)

    (receipt,) = SyncReceipt.objects.filter(job=done)
    assert receipt.duplicate
    assert receipt.http_status == 409
    assert receipt.attempt.number == 2
    assert receipt.external_reference == done.external_reference
    acknowledgement = at_rest_decrypt(receipt.acknowledgement_encrypted)
    assert acknowledgement["error"]["code"] == "DUPLICATE"


def test_refusals_and_failures_leave_no_receipt(connected):
    connected.will("validation")
    failed = sync_job_run(job_id=run_job().pk)

    assert failed.status == SyncJobStatus.FAILED
    assert not SyncReceipt.objects.exists()


def test_the_job_page_lists_receipts_with_acknowledgements_redacted(
    connected, institution, client_for
):
    done = sync_job_run(job_id=run_job().pk)
    SyncReceipt.objects.create(
        job=done,
        external_reference=done.external_reference,
        http_status=409,
        duplicate=True,
        acknowledgement_encrypted=at_rest_encrypt(
            {"error": {"code": "DUPLICATE"}, "request": {"idNumber": "9001015009087"}}
        ),
        received_at=timezone.now(),
    )
    ops = UserFactory(roles=[SystemRole.OPS_ADMIN])
    client = client_for(institution)
    client.force_login(ops)

    page = client.get(reverse("integrations:job_detail", args=[done.pk])).content.decode()

    assert "Receipts" in page
    assert page.count(done.external_reference) >= 3  # the job's and each receipt's
    assert "Duplicate" in page
    assert "&quot;reference&quot;: &quot;RUN-" in page  # the first acknowledgement
    assert "9001015009087" not in page
    assert "•••" in page


def test_people_without_sync_rights_never_get_an_acknowledgement(connected):
    done = sync_job_run(job_id=run_job().pk)
    job = sync_job_detail(job_id=done.pk)

    (shown,) = sync_job_receipts(job=job, user=UserFactory(roles=[SystemRole.FINANCE]))
    assert shown.receipt.external_reference == done.external_reference
    assert shown.acknowledgement == ""
    (shown,) = sync_job_receipts(job=job, user=UserFactory(roles=[SystemRole.OPS_ADMIN]))
    assert done.external_reference in shown.acknowledgement


def test_a_job_without_receipts_says_so(connected, institution, client_for, admin):
    job = run_job()
    client = client_for(institution)
    client.force_login(admin)

    page = client.get(reverse("integrations:job_detail", args=[job.pk])).content.decode()

    assert "No receipt yet" in page
