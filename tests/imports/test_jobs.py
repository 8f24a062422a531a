"""An import as a job: cancelling it, the sweep that keeps it moving (a task never queued, a
worker lost, a step that keeps dying), duplicate deliveries, and the permission check that
must outlive the import's transaction."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from cohorts.imports.uploads import (
    MAX_STEP_ATTEMPTS,
    REDISPATCH_AFTER,
    STEP_LEASE,
    student_import_cancel,
    student_import_parse,
    student_import_run,
    student_imports_sweep,
)
from cohorts.models import StudentImport, StudentImportStatus
from cohorts.tasks import student_import_run_task
from enrolments.models import CohortEnrollment
from tests.factories import UserFactory, roles_replace
from tests.imports.support import csv_bytes, student_row

pytestmark = pytest.mark.django_db

UNFINISHED = [
    StudentImportStatus.PARSING,
    StudentImportStatus.PREVIEW,
    StudentImportStatus.IMPORTING,
]


def make_import(cohort, admin, status, **fields) -> StudentImport:
    rows = [{"line": 2, **student_row()}]
    student_import = StudentImport.objects.create(
        cohort=cohort, original_name="students.csv", kind="csv", created_by=admin,
        confirmed_by=admin, status=status, valid_rows=rows, **fields,
    )  # fmt: skip
    student_import.file.save("upload", ContentFile(csv_bytes(rows)))
    return student_import


# --- Cancelling ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", UNFINISHED)
def test_an_unfinished_import_is_cancelled_with_its_file_and_rows_forgotten_and_audited(
    cohort, admin, status, django_capture_on_commit_callbacks
):
    student_import = make_import(cohort, admin, status)
    stored, storage = student_import.file.name, student_import.file.storage

    with django_capture_on_commit_callbacks(execute=True):
        student_import_cancel(student_import=student_import, actor=admin)

    student_import.refresh_from_db()
    assert student_import.status == StudentImportStatus.CANCELLED
    assert student_import.valid_rows == []
    assert not student_import.file
    assert not storage.exists(stored)
    event = AuditEvent.objects.get(action="student_import.cancelled")
    assert event.entity_id == str(student_import.pk)
    assert event.actor == admin
    assert event.old_values == {"status": status}
    assert event.new_values == {"status": "cancelled", "cohort": cohort.pk}


@pytest.mark.parametrize(
    "status",
    [StudentImportStatus.DONE, StudentImportStatus.FAILED, StudentImportStatus.CANCELLED],
)
def test_a_finished_import_cannot_be_cancelled(cohort, admin, status):
    student_import = make_import(cohort, admin, status)

    with pytest.raises(ValidationError, match="there is nothing to cancel"):
        student_import_cancel(student_import=student_import, actor=admin)

    student_import.refresh_from_db()
    assert student_import.status == status
    assert not AuditEvent.objects.filter(action="student_import.cancelled").exists()


def test_only_cohort_managers_may_cancel_and_a_refusal_is_audited(cohort, admin):
    student_import = make_import(cohort, admin, StudentImportStatus.PREVIEW)
    student = UserFactory(roles=[SystemRole.STUDENT])

    with pytest.raises(PermissionDenied):
        student_import_cancel(student_import=student_import, actor=student)

    student_import.refresh_from_db()
    assert student_import.status == StudentImportStatus.PREVIEW
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="cohorts.student_import_cancel", actor=student
    ).exists()


def test_a_cancelled_import_is_neither_checked_nor_imported_by_a_late_task(cohort, admin):
    parsing = make_import(cohort, admin, StudentImportStatus.PARSING)
    importing = make_import(cohort, admin, StudentImportStatus.IMPORTING)
    for student_import in (parsing, importing):
        student_import_cancel(student_import=student_import, actor=admin)

    assert student_import_parse(student_import=parsing).status == StudentImportStatus.CANCELLED
    assert student_import_run_task.apply((importing.pk,)).get() == StudentImportStatus.CANCELLED
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()


def test_the_cancel_page_asks_first_and_then_cancels(client_of, cohort, admin):
    student_import = make_import(cohort, admin, StudentImportStatus.PREVIEW)
    client = client_of(admin)
    detail = reverse("cohort_import:detail", args=[cohort.pk, student_import.pk])
    cancel = reverse("cohort_import:cancel", args=[cohort.pk, student_import.pk])

    assert cancel in client.get(detail).content.decode()
    asked = client.get(cancel).content.decode()
    assert "Cancel the import of students.csv?" in asked
    student_import.refresh_from_db()
    assert student_import.status == StudentImportStatus.PREVIEW  # asking changes nothing

    done = client.post(cancel, follow=True).content.decode()
    assert "Import cancelled: nothing was imported from this file." in done
    assert "This import was cancelled on" in done
    assert cancel not in done

    again = client.post(cancel, follow=True).content.decode()
    assert "This import is cancelled: there is nothing to cancel." in again


# --- The sweep and the lease ---------------------------------------------------------------


def test_the_sweep_queues_a_step_the_broker_never_took_and_leaves_a_freshly_queued_one(
    cohort, admin, django_capture_on_commit_callbacks
):
    now = timezone.now()
    never_queued = make_import(cohort, admin, StudentImportStatus.IMPORTING)
    lost = make_import(
        cohort, admin, StudentImportStatus.PARSING, dispatched_at=now - REDISPATCH_AFTER
    )
    queued = make_import(cohort, admin, StudentImportStatus.IMPORTING, dispatched_at=now)
    taken = make_import(
        cohort, admin, StudentImportStatus.IMPORTING, dispatched_at=now - REDISPATCH_AFTER,
        lease_expires_at=now + STEP_LEASE, attempts=1,
    )  # fmt: skip
    make_import(cohort, admin, StudentImportStatus.PREVIEW)

    with django_capture_on_commit_callbacks() as published:
        assert student_imports_sweep() == 2

    queued_again = {(publish.args[0], publish.args[1]) for publish in published}
    assert queued_again == {
        (never_queued.pk, StudentImportStatus.IMPORTING),
        (lost.pk, StudentImportStatus.PARSING),
    }
    for untouched in (queued, taken):
        before = untouched.lease_expires_at
        untouched.refresh_from_db()
        assert untouched.lease_expires_at == before


def test_the_sweep_takes_back_a_step_whose_worker_died(
    cohort, admin, django_capture_on_commit_callbacks
):
    student_import = make_import(
        cohort, admin, StudentImportStatus.IMPORTING, dispatched_at=timezone.now(),
        lease_expires_at=timezone.now() - timedelta(seconds=1), attempts=1,
    )  # fmt: skip

    with django_capture_on_commit_callbacks() as published:
        assert student_imports_sweep() == 1

    student_import.refresh_from_db()
    assert student_import.status == StudentImportStatus.IMPORTING
    assert student_import.lease_expires_at is None
    assert len(published) == 1


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (StudentImportStatus.PARSING, "Checking the file was interrupted 3 times"),
        (StudentImportStatus.IMPORTING, "The import was interrupted 3 times"),
    ],
)
def test_a_step_that_keeps_losing_its_worker_ends_failed_with_a_message(
    cohort, admin, status, message, client_of, django_capture_on_commit_callbacks
):
    student_import = make_import(
        cohort, admin, status, lease_expires_at=timezone.now() - timedelta(seconds=1),
        attempts=MAX_STEP_ATTEMPTS,
    )  # fmt: skip

    with django_capture_on_commit_callbacks() as published:
        assert student_imports_sweep() == 1

    assert published == []  # not queued again: no loop
    student_import.refresh_from_db()
    assert student_import.status == StudentImportStatus.FAILED
    assert student_import.error.startswith(message)
    assert student_import.lease_expires_at is None
    event = AuditEvent.objects.get(action="student_import.failed")
    assert event.actor is None
    assert event.new_values == {"status": "failed", "attempts": MAX_STEP_ATTEMPTS}
    page = client_of(admin).get(
        reverse("cohort_import:detail", args=[cohort.pk, student_import.pk])
    )
    assert message in page.content.decode()
    assert student_imports_sweep() == 0


def test_a_task_delivered_twice_does_nothing_while_another_worker_holds_the_step(cohort, admin):
    held_until = timezone.now() + STEP_LEASE
    student_import = make_import(
        cohort, admin, StudentImportStatus.IMPORTING, lease_expires_at=held_until, attempts=1
    )

    assert student_import_run_task.apply((student_import.pk,)).get() == "importing"

    student_import.refresh_from_db()
    assert (student_import.attempts, student_import.lease_expires_at) == (1, held_until)
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()


def test_a_worker_takes_a_step_no_more_than_the_allowed_times(cohort, admin):
    student_import = make_import(
        cohort, admin, StudentImportStatus.IMPORTING, attempts=MAX_STEP_ATTEMPTS
    )

    assert student_import_run(student_import=student_import).status == "importing"
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()


def test_an_import_records_the_workers_that_took_it_and_lets_go_when_done(cohort, admin):
    student_import = make_import(cohort, admin, StudentImportStatus.IMPORTING)

    student_import_run(student_import=student_import)

    assert student_import.status == StudentImportStatus.DONE
    assert (student_import.attempts, student_import.lease_expires_at) == (1, None)
    assert CohortEnrollment.objects.filter(cohort=cohort).count() == 1


# --- Permission ----------------------------------------------------------------------------


def test_an_import_confirmed_by_someone_who_lost_the_right_fails_and_the_refusal_stays_audited(
    cohort, admin
):
    student_import = make_import(cohort, admin, StudentImportStatus.IMPORTING)
    roles_replace(admin, SystemRole.STUDENT)

    student_import_run(student_import=student_import)

    assert student_import.status == StudentImportStatus.FAILED
    assert student_import.error == "You may no longer import students."
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()
    assert AuditEvent.objects.filter(
        action="permission.denied", entity_id="cohorts.enrollments_import", actor=admin
    ).exists()


def test_an_import_whose_confirmer_was_deleted_fails_instead_of_running_as_the_system(
    cohort, admin
):
    student_import = make_import(cohort, admin, StudentImportStatus.IMPORTING)
    StudentImport.objects.filter(pk=student_import.pk).update(confirmed_by=None)

    student_import_run(student_import=student_import)

    assert student_import.status == StudentImportStatus.FAILED
    assert student_import.error == "The person who confirmed the import no longer exists."
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()
