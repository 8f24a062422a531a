"""The Celery path for large files: a real worker reads the file, then imports it, while the
page polls the progress."""

import time

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import SystemRole
from cohorts.imports.selectors import student_import_progress
from cohorts.models import StudentImport, StudentImportStatus
from enrolments.models import CohortEnrollment
from notifications.models import OutboundEmail
from tenants.models import Institution
from tests.factories import CohortFactory, UserFactory
from tests.imports.support import csv_bytes, student_row, unique_email


def wait_for(predicate, *, timeout: float = 180.0):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {predicate.__doc__}")
        time.sleep(0.1)
    return value


def test_a_large_file_is_checked_and_imported_by_tasks_with_progress_to_100(
    celery_worker, client_for, settings
):
    settings.COHORT_IMPORT_SYNCHRONOUS_MAX_BYTES = 0
    settings.COHORT_IMPORT_SYNCHRONOUS_MAX_ROWS = 0
    alpha = Institution.objects.get(code="alpha")
    with tenant_context(alpha):
        admin = UserFactory(roles=[SystemRole.ADMIN], email=unique_email("import-admin"))
        cohort = CohortFactory(name=f"Celery import {unique_email('cohort')}")
    students = [student_row(email=unique_email("celery")) for _ in range(1200)]
    bad = student_row(email="not an address")
    client = client_for(alpha)
    with tenant_context(alpha):
        client.force_login(admin)

    uploaded = client.post(
        reverse("cohort_import:upload", args=[cohort.pk]),
        {"file": SimpleUploadedFile("big.csv", csv_bytes([*students, bad]))},
    )

    with tenant_context(alpha):
        student_import = StudentImport.objects.get(cohort=cohort)
    detail = uploaded["Location"]
    progress = reverse("cohort_import:progress", args=[cohort.pk, student_import.pk])
    seen = []

    def checked():
        """the worker to finish checking the rows"""
        with tenant_context(alpha):
            student_import.refresh_from_db()
            seen.append(student_import_progress(student_import))
        return student_import.status != StudentImportStatus.PARSING

    wait_for(checked)
    assert student_import.status == StudentImportStatus.PREVIEW
    assert (student_import.processed_rows, student_import.total_rows) == (1201, 1201)
    assert seen[-1] == 100
    assert seen == sorted(seen)
    assert len(student_import.valid_rows) == 1200
    assert [row["line"] for row in student_import.row_errors] == [1202]
    # The page's poll tells htmx to reload; the page then shows the preview.
    polled = client.get(progress, headers={"HX-Request": "true"})
    assert polled["HX-Refresh"] == "true"
    page = client.get(detail).content.decode()
    assert "Import 1200 students" in page
    assert "“not an address” is not a valid e-mail address." in page

    client.post(reverse("cohort_import:confirm", args=[cohort.pk, student_import.pk]))

    def imported():
        """the worker to finish importing"""
        with tenant_context(alpha):
            student_import.refresh_from_db()
        return student_import.status not in (
            StudentImportStatus.PREVIEW,
            StudentImportStatus.IMPORTING,
        )

    wait_for(imported)
    assert student_import.status == StudentImportStatus.DONE
    assert student_import.result["enrolled"] == 1200
    with tenant_context(alpha):
        assert student_import_progress(student_import) == 100
        assert cache.get(f"cohorts:student-import:{student_import.pk}:progress") == 100
        assert CohortEnrollment.objects.filter(cohort=cohort).count() == 1200
    assert "1200 students enrolled" in client.get(detail).content.decode()

    emails = {row["email"] for row in students}

    def delivered():
        """the invitations to be sent"""
        with tenant_context(alpha):
            return (
                OutboundEmail.objects.filter(
                    recipient__in=emails, status=OutboundEmail.Status.SENT
                ).count()
                == 1200
            )

    wait_for(delivered)
    sent_to = {message.to[0] for message in mail.outbox}
    assert emails <= sent_to


@pytest.mark.django_db
def test_the_tasks_do_nothing_for_an_import_past_their_step(institution, cohort):
    from cohorts.tasks import student_import_parse_task, student_import_run_task

    done = StudentImport.objects.create(
        cohort=cohort, original_name="x.csv", kind="csv", status=StudentImportStatus.DONE,
        valid_rows=[student_row(line=2)],
    )  # fmt: skip

    assert student_import_parse_task.apply((done.pk,)).get() == StudentImportStatus.DONE
    assert student_import_run_task.apply((done.pk,)).get() == StudentImportStatus.DONE
    assert student_import_run_task.apply((10**9,)).get() == "missing"
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()
