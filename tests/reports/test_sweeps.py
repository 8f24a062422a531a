"""Runs and evidence packs whose task never reached a worker are queued again, those whose
worker died are failed with their partial files removed (and no longer block a new pack), and
packs expire like report results."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from reports.evidence.services import (
    PACK_TIME_LIMIT,
    evidence_pack_build,
    evidence_pack_request,
    evidence_packs_sweep,
)
from reports.models import EvidencePack, ExecutionStatus, ReportExecution
from reports.services import EXECUTION_TIME_LIMIT, REQUEUE_AFTER, report_execution_request
from reports.tasks import report_executions_expire_all_institutions, reports_sweep_all_institutions
from tests.reports.registered import ROSTER

pytestmark = pytest.mark.django_db


def _sweep(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        reports_sweep_all_institutions()


def _requested(admin) -> ReportExecution:
    """A run whose task was never handed to a worker (the broker was down)."""
    return report_execution_request(actor=admin, report_key=ROSTER.key, parameters={"size": 3})


def test_a_run_whose_task_was_lost_is_queued_again_after_a_while(
    admin, eager, media, django_capture_on_commit_callbacks
):
    lost = _requested(admin)
    recent = _requested(admin)
    ReportExecution.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - REQUEUE_AFTER - timedelta(seconds=1)
    )

    _sweep(django_capture_on_commit_callbacks)

    lost.refresh_from_db()
    recent.refresh_from_db()
    assert lost.status == ExecutionStatus.COMPLETED
    assert default_storage.exists(lost.result_file_path)
    assert recent.status == ExecutionStatus.PENDING


def test_a_run_whose_worker_died_fails_and_its_partial_file_is_removed(
    admin, eager, media, django_capture_on_commit_callbacks
):
    dead, alive = _requested(admin), _requested(admin)
    for execution, started in (
        (dead, timezone.now() - EXECUTION_TIME_LIMIT - timedelta(minutes=1)),
        (alive, timezone.now() - timedelta(minutes=1)),
    ):
        ReportExecution.objects.filter(pk=execution.pk).update(
            status=ExecutionStatus.PROCESSING, started_at=started
        )
    partial = default_storage.save(f"reports/{dead.pk}/partial.csv", ContentFile(b"Learner,"))

    _sweep(django_capture_on_commit_callbacks)

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == ExecutionStatus.FAILED
    assert "stopped before it finished" in dead.error_message
    assert not default_storage.exists(partial)
    assert alive.status == ExecutionStatus.PROCESSING
    assert AuditEvent.objects.filter(action="reports.execution_fail").count() == 1


def test_a_pack_whose_task_was_lost_is_built_by_the_sweep(evidence_world, admin, eager):
    pack = evidence_pack_request(cohort=evidence_world.cohort, actor=admin)  # never queued
    EvidencePack.objects.filter(pk=pack.pk).update(
        created_at=timezone.now() - REQUEUE_AFTER - timedelta(seconds=1)
    )

    assert evidence_packs_sweep() == 1  # in the institution, as its worker runs it

    pack.refresh_from_db()
    assert pack.status == ExecutionStatus.COMPLETED
    assert pack.file


def test_a_pack_whose_worker_died_fails_and_no_longer_blocks_a_new_one(
    evidence_world, admin, admin_client, eager, django_capture_on_commit_callbacks
):
    stuck = evidence_pack_request(cohort=evidence_world.cohort, actor=admin)
    EvidencePack.objects.filter(pk=stuck.pk).update(
        status=ExecutionStatus.PROCESSING,
        started_at=timezone.now() - PACK_TIME_LIMIT - timedelta(minutes=1),
    )
    stuck.refresh_from_db()
    partial = default_storage.save(
        stuck.file.field.generate_filename(stuck, f"evidence-pack-{stuck.pk}.zip"),
        ContentFile(b"PK partial"),
    )

    fresh = evidence_pack_request(cohort=evidence_world.cohort, actor=admin)
    assert fresh.pk != stuck.pk

    _sweep(django_capture_on_commit_callbacks)

    stuck.refresh_from_db()
    assert stuck.status == ExecutionStatus.FAILED
    assert "stopped before it was finished" in stuck.error_message
    assert not default_storage.exists(partial)
    page = admin_client.get(reverse("evidence:pack", args=[stuck.pk])).content.decode()
    assert "Build it again" in page


def test_a_pack_expires_its_download_is_refused_and_the_daily_task_deletes_its_file(
    evidence_world, admin, admin_client, eager, django_capture_on_commit_callbacks
):
    pack = evidence_pack_build(
        pack_id=evidence_pack_request(cohort=evidence_world.cohort, actor=admin).pk
    )
    assert pack.expires_at > timezone.now() + timedelta(days=1)
    name = pack.file.name
    EvidencePack.objects.filter(pk=pack.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert admin_client.get(reverse("evidence:download", args=[pack.pk])).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        report_executions_expire_all_institutions()

    pack.refresh_from_db()
    assert not pack.file
    assert not default_storage.exists(name)
    assert AuditEvent.objects.filter(action="evidence_pack.expired").count() == 1
    page = admin_client.get(reverse("evidence:pack", args=[pack.pk])).content.decode()
    assert "Expired" in page
    assert "Download the pack" not in page
    listing = admin_client.get(reverse("evidence:cohort", args=[evidence_world.cohort.pk]))
    assert "Expired" in listing.content.decode()
