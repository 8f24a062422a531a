"""Downloading a result: streamed to the person who asked for it or anyone who may run the
report, recorded, and refused once it has expired; the expiry task deletes expired files."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from accounts.models import SystemRole
from audit.models import AuditEvent
from reports.models import ReportExecution, ReportFormat
from reports.services import report_execution_request
from reports.tasks import report_executions_expire_all_institutions
from tests.factories import UserFactory, roles_replace
from tests.reports.registered import FINANCE_ROSTER, ROSTER

pytestmark = pytest.mark.django_db


@pytest.fixture
def produced(admin, eager, media, django_capture_on_commit_callbacks):
    def make(report=ROSTER, format=ReportFormat.CSV) -> ReportExecution:
        with django_capture_on_commit_callbacks(execute=True):
            execution = report_execution_request(
                actor=admin, report_key=report.key, parameters={"size": 4}, format=format
            )
        execution.refresh_from_db()
        return execution

    return make


def download_url(execution: ReportExecution) -> str:
    return reverse("reports:execution_download", args=[execution.pk])


def test_the_requester_downloads_the_file_as_an_attachment_and_it_is_recorded(
    produced, admin_client
):
    execution = produced(format=ReportFormat.XLSX)
    response = admin_client.get(download_url(execution))

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    day = timezone.localdate(execution.created_at)
    assert response["Content-Disposition"] == (
        f'attachment; filename="test_roster-{day:%Y-%m-%d}-{execution.pk}.xlsx"'
    )
    assert response["Cache-Control"] == "private, no-store"
    assert (
        b"".join(response.streaming_content)
        == default_storage.open(execution.result_file_path).read()
    )
    event = AuditEvent.objects.get(action="reports.execution_download")
    assert event.new_values == {"report": "test_roster", "execution": execution.pk}


def test_someone_without_the_reports_permission_is_refused_the_file(produced, client_of):
    execution = produced(FINANCE_ROSTER)
    ops = UserFactory(roles=[SystemRole.OPS_ADMIN])

    assert client_of(ops).get(download_url(execution)).status_code == 404
    assert client_of(ops).get(reverse("reports:execution", args=[execution.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="reports.execution_download").exists()
    assert AuditEvent.objects.filter(action="permission.denied").exists()


def test_someone_else_who_may_run_the_report_downloads_it(produced, client_of):
    execution = produced(FINANCE_ROSTER)
    finance = UserFactory(roles=[SystemRole.FINANCE])
    assert client_of(finance).get(download_url(execution)).status_code == 200


def test_the_requester_who_lost_the_reports_permission_is_refused_the_file(
    produced, admin, client_of
):
    execution = produced(FINANCE_ROSTER)
    roles_replace(admin, SystemRole.OPS_ADMIN)  # keeps reports, loses finance

    assert client_of(admin).get(download_url(execution)).status_code == 404
    assert (
        client_of(admin).get(reverse("reports:execution", args=[execution.pk])).status_code == 404
    )
    assert not AuditEvent.objects.filter(action="reports.execution_download").exists()


def test_an_expired_file_is_refused_then_deleted_by_the_expiry_task(
    produced, admin_client, institution, django_capture_on_commit_callbacks
):
    execution = produced()
    path = execution.result_file_path
    ReportExecution.objects.filter(pk=execution.pk).update(
        expires_at=timezone.now() - timezone.timedelta(minutes=1)
    )
    fresh = produced()

    response = admin_client.get(download_url(execution))
    assert response.status_code == 302
    assert "no longer kept" in admin_client.get(response.url).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        report_executions_expire_all_institutions()

    execution.refresh_from_db()
    fresh.refresh_from_db()
    assert execution.result_file_path == ""
    assert not default_storage.exists(path)
    assert default_storage.exists(fresh.result_file_path)
    page = admin_client.get(reverse("reports:execution", args=[execution.pk])).content.decode()
    assert "Expired" in page
    assert "Download the" not in page
