"""Student imports under real failures: the worker process killed by SIGKILL in the middle of
an import, and the test's own Redis (cache and broker) stopped while an admin uploads or
confirms a file. Committed data, real worker processes; nothing stays stuck, nothing is
imported twice."""

import contextlib
import uuid
from datetime import timedelta

import psycopg
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import SystemRole, User
from cohorts.imports.uploads import (
    student_import_confirm,
    student_import_start,
    student_imports_sweep,
)
from cohorts.models import StudentImport, StudentImportStatus
from enrolments.models import CohortEnrollment
from tenants.models import Institution
from tests.factories import CohortFactory, UserFactory
from tests.imports.support import csv_bytes, student_row, unique_email
from tests.processes import wait_for

STUDENTS = 40


def _unique(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}"


def _admin_and_cohort():
    admin = UserFactory(roles=[SystemRole.ADMIN], email=unique_email("fault-admin"))
    cohort = CohortFactory(name=_unique("Fault import"))
    return admin, cohort


def _students() -> list[dict]:
    return [student_row(email=unique_email("fault")) for _ in range(STUDENTS)]


def _previewed(admin, cohort, rows: list[dict]) -> StudentImport:
    """A small file, checked in the request: waiting for confirmation."""
    student_import = student_import_start(
        cohort=cohort, actor=admin, upload=SimpleUploadedFile("students.csv", csv_bytes(rows))
    )
    assert student_import.status == StudentImportStatus.PREVIEW
    return student_import


def _imported_once(cohort, rows: list[dict]) -> None:
    emails = [row["email"] for row in rows]
    assert CohortEnrollment.objects.filter(cohort=cohort).count() == len(rows)
    assert User.objects.filter(email__in=emails).count() == len(rows)


@contextlib.contextmanager
def _row_locked(institution: Institution, table: str, pk: int):
    """Another connection's transaction holds a row until the block ends."""
    database = connection.settings_dict
    with psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"],
        dbname=database["NAME"],
    ) as other:
        other.execute(f'SET search_path TO "{institution.schema_name}"')
        other.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [pk])  # noqa: S608
        try:
            yield
        finally:
            other.rollback()


def cohort_row_locked(institution: Institution, cohort):
    """The cohort's row held (as another admin's enrolment would), so that an import stops
    inside its transaction, between taking its step and writing a student."""
    return _row_locked(institution, "cohorts_cohort", cohort.pk)


def import_row_locked(institution: Institution, student_import: StudentImport):
    """The import's row held, as a worker's import transaction holds it while it writes."""
    return _row_locked(institution, "cohorts_studentimport", student_import.pk)


def _row_is_locked(student_import: StudentImport) -> bool:
    try:
        with transaction.atomic():
            StudentImport.objects.select_for_update(nowait=True).filter(
                pk=student_import.pk
            ).exists()
    except OperationalError:
        return True
    return False


def test_an_import_whose_worker_is_killed_is_finished_once_after_the_sweep(
    committed_db, own_redis, start_worker, settings
):
    settings.COHORT_IMPORT_SYNCHRONOUS_MAX_ROWS = 0
    alpha = Institution.objects.get(code="alpha")
    rows = _students()
    with tenant_context(alpha):
        admin, cohort = _admin_and_cohort()
        student_import = _previewed(admin, cohort, rows)

    first = start_worker()
    with cohort_row_locked(alpha, cohort):
        with tenant_context(alpha):
            student_import_confirm(student_import=student_import, actor=admin)

            def writing():
                """the worker to take the import and wait inside its transaction"""
                student_import.refresh_from_db()
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                    waiting = cursor.fetchone()[0]
                return student_import.attempts == 1 and waiting

            wait_for(writing)
            assert student_import.dispatched_at is not None
        first.kill()
    # The dead worker's transaction ends with its connection, writing nothing.
    with tenant_context(alpha):
        wait_for(lambda: not _row_is_locked(student_import))
        student_import.refresh_from_db()
        assert student_import.status == StudentImportStatus.IMPORTING  # as the worker left it
        assert not CohortEnrollment.objects.filter(cohort=cohort).exists()
        held_until, first_queued = student_import.lease_expires_at, student_import.dispatched_at
        student_imports_sweep()
        student_import.refresh_from_db()
        assert student_import.lease_expires_at == held_until  # its lease runs yet

        # Time passes: the lease runs out.
        StudentImport.objects.filter(pk=student_import.pk).update(lease_expires_at=timezone.now())
        student_imports_sweep()
        student_import.refresh_from_db()
        # Taken back, and queued again once the sweep's transaction committed.
        assert student_import.lease_expires_at is None
        assert student_import.dispatched_at > first_queued

    start_worker()  # the worker is back

    def finished():
        """the returning worker to finish the import"""
        with tenant_context(alpha):
            student_import.refresh_from_db()
        return student_import.status != StudentImportStatus.IMPORTING

    wait_for(finished)
    assert student_import.status == StudentImportStatus.DONE
    assert student_import.result["enrolled"] == STUDENTS
    assert student_import.attempts == 2
    with tenant_context(alpha):
        _imported_once(cohort, rows)


def test_an_import_past_its_lease_whose_transaction_is_alive_is_left_alone(committed_db, own_redis):
    alpha = Institution.objects.get(code="alpha")
    with tenant_context(alpha):
        admin, cohort = _admin_and_cohort()
        student_import = StudentImport.objects.create(
            cohort=cohort, original_name="slow.csv", kind="csv", confirmed_by=admin,
            status=StudentImportStatus.IMPORTING, attempts=1, valid_rows=[student_row(line=2)],
            lease_expires_at=timezone.now() - timedelta(seconds=1),
        )  # fmt: skip
    with import_row_locked(alpha, student_import), tenant_context(alpha):
        # A slow import, not a stuck one: its worker's transaction holds the row.
        student_imports_sweep()
    with tenant_context(alpha):
        student_import.refresh_from_db()
        assert student_import.lease_expires_at is not None
        assert student_import.dispatched_at is None
        student_imports_sweep()
        student_import.refresh_from_db()
        assert student_import.lease_expires_at is None
        assert student_import.dispatched_at is not None
        # Queued again, on this test's broker; no later sweep is to find it running.
        StudentImport.objects.filter(pk=student_import.pk).update(
            status=StudentImportStatus.CANCELLED
        )


def _signed_in_client(client_for, institution, admin):
    client = client_for(institution)
    with tenant_context(institution):
        client.force_login(admin, backend="accounts.backends.RoleBackend")
    return client


def test_confirming_while_redis_is_down_imports_once_redis_is_back(
    committed_db, own_redis, start_worker, settings, client_for
):
    settings.COHORT_IMPORT_SYNCHRONOUS_MAX_ROWS = 0
    alpha = Institution.objects.get(code="alpha")
    rows = _students()
    with tenant_context(alpha):
        admin, cohort = _admin_and_cohort()
        student_import = _previewed(admin, cohort, rows)
    client = _signed_in_client(client_for, alpha, admin)
    detail = reverse("cohort_import:detail", args=[cohort.pk, student_import.pk])
    progress = reverse("cohort_import:progress", args=[cohort.pk, student_import.pk])

    own_redis.stop()
    confirmed = client.post(reverse("cohort_import:confirm", args=[cohort.pk, student_import.pk]))

    assert confirmed.status_code == 302
    assert confirmed["Location"] == detail
    with tenant_context(alpha):
        student_import.refresh_from_db()
    # Confirmed and waiting in its row to be queued; nothing lost, nothing half-written.
    assert student_import.status == StudentImportStatus.IMPORTING
    assert student_import.dispatched_at is None
    assert student_import.confirmed_by_id == admin.pk
    page = client.get(detail)
    assert page.status_code == 200
    assert "Importing the students" in page.content.decode()
    assert client.get(progress, headers={"HX-Request": "true"}).status_code == 200

    own_redis.start()
    start_worker()
    with tenant_context(alpha):
        student_imports_sweep()
        student_import.refresh_from_db()
        assert student_import.dispatched_at is not None

    def finished():
        """the worker to import the file the sweep queued"""
        with tenant_context(alpha):
            student_import.refresh_from_db()
        return student_import.status == StudentImportStatus.DONE

    wait_for(finished)
    assert student_import.result["enrolled"] == STUDENTS
    assert student_import.attempts == 1
    with tenant_context(alpha):
        _imported_once(cohort, rows)
    assert f"{STUDENTS} students enrolled" in client.get(detail).content.decode()


def test_a_file_uploaded_while_redis_is_down_is_checked_and_imported_once_it_is_back(
    committed_db, own_redis, start_worker, settings, client_for
):
    settings.COHORT_IMPORT_SYNCHRONOUS_MAX_BYTES = 0
    settings.COHORT_IMPORT_SYNCHRONOUS_MAX_ROWS = 0
    alpha = Institution.objects.get(code="alpha")
    rows = _students()
    with tenant_context(alpha):
        admin, cohort = _admin_and_cohort()
    client = _signed_in_client(client_for, alpha, admin)

    own_redis.stop()
    uploaded = client.post(
        reverse("cohort_import:upload", args=[cohort.pk]),
        {"file": SimpleUploadedFile("students.csv", csv_bytes(rows))},
    )

    assert uploaded.status_code == 302
    with tenant_context(alpha):
        student_import = StudentImport.objects.get(cohort=cohort)
    assert student_import.status == StudentImportStatus.PARSING
    assert student_import.dispatched_at is None
    assert client.get(uploaded["Location"]).status_code == 200

    own_redis.start()
    start_worker()
    with tenant_context(alpha):
        student_imports_sweep()
        student_import.refresh_from_db()
        assert student_import.dispatched_at is not None

    def checked():
        """the worker to check the file the sweep queued"""
        with tenant_context(alpha):
            student_import.refresh_from_db()
        return student_import.status != StudentImportStatus.PARSING

    wait_for(checked)
    assert student_import.status == StudentImportStatus.PREVIEW
    assert len(student_import.valid_rows) == STUDENTS

    client.post(reverse("cohort_import:confirm", args=[cohort.pk, student_import.pk]))

    def finished():
        """the worker to import the file"""
        with tenant_context(alpha):
            student_import.refresh_from_db()
        return student_import.status == StudentImportStatus.DONE

    wait_for(finished)
    with tenant_context(alpha):
        _imported_once(cohort, rows)
