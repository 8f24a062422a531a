"""Running a report: the file is produced by the task and read back (CSV, XLSX, PDF), small
counts suppressed in it but not on the page, its failure shown in words, and its progress
polled by the page."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from openpyxl import load_workbook

from audit.models import AuditEvent
from privacy.models import DataProtectionSettings
from reports.models import ExecutionStatus, ReportExecution, ReportFormat
from reports.selectors import report_preview
from reports.services import (
    UNEXPECTED_FAILURE,
    report_execution_request,
    report_execution_run,
)
from tests.reports.registered import FAILING, FINANCE_ROSTER, ROSTER

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(admin, eager, media, django_capture_on_commit_callbacks):
    """Ask for a run as the admin and let its task run, as the worker would after commit."""

    def make(report=ROSTER, **values) -> ReportExecution:
        with django_capture_on_commit_callbacks(execute=True):
            execution = report_execution_request(
                actor=admin,
                report_key=report.key,
                parameters=values.pop("parameters", {"size": 6}),
                **values,
            )
        execution.refresh_from_db()
        return execution

    return make


def stored(execution: ReportExecution) -> bytes:
    with default_storage.open(execution.result_file_path, "rb") as file:
        return file.read()


def test_a_csv_run_writes_every_row_with_small_counts_suppressed(run):
    execution = run(format=ReportFormat.CSV, parameters={"size": 6, "group": "Evening"})

    assert execution.status == ExecutionStatus.COMPLETED
    assert (execution.rows_total, execution.rows_done) == (6, 6)
    rows = list(csv.reader(io.StringIO(stored(execution).decode("utf-8-sig"))))
    assert rows[0] == ["Learner", "Group", "Learners"]
    assert [row[2] for row in rows[1:]] == ["<5", "<5", "<5", "<5", "5", "6"]
    assert rows[1][:2] == ["Learner 1", "Evening"]
    assert execution.result_size == len(stored(execution))
    assert execution.expires_at == execution.completed_at + timedelta(days=7)
    assert execution.result_file_path.startswith(f"reports/{execution.pk}/test_roster-")
    assert AuditEvent.objects.filter(
        action="reports.execution_complete", entity_id=str(execution.pk)
    ).exists()


def test_an_xlsx_run_holds_the_chosen_columns_and_the_institutions_threshold(run):
    DataProtectionSettings.objects.create(pk=1, small_cell_threshold=3, report_expiry_days=2)
    execution = run(format=ReportFormat.XLSX, columns=["learners", "name"])

    sheet = load_workbook(io.BytesIO(stored(execution)), read_only=True).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == ["Learner", "Learners"]
    assert values[1:4] == [["Learner 1", "<3"], ["Learner 2", "<3"], ["Learner 3", 3]]
    assert len(values) == 7
    assert execution.expires_at == execution.completed_at + timedelta(days=2)


def test_a_pdf_run_is_a_pdf(run):
    execution = run(format=ReportFormat.PDF, parameters={"size": 3})
    assert execution.status == ExecutionStatus.COMPLETED
    assert stored(execution).startswith(b"%PDF")


def test_a_pdf_too_long_fails_with_a_message_pointing_to_csv(run, settings):
    settings.REPORTS_PDF_MAX_ROWS = 4
    execution = run(format=ReportFormat.PDF, parameters={"size": 5})

    assert execution.status == ExecutionStatus.FAILED
    assert execution.error_message.startswith("This report has more than 4 rows")
    assert "CSV" in execution.error_message
    assert execution.result_file_path == ""


def test_a_run_whose_rows_fail_says_so_in_words_and_leaves_no_file(run, media, admin_client):
    execution = run(FAILING, parameters={}, format=ReportFormat.CSV)

    assert execution.status == ExecutionStatus.FAILED
    assert execution.error_message == UNEXPECTED_FAILURE
    assert execution.result_file_path == ""
    assert not [path for path in media.rglob("*") if path.is_file()]
    page = admin_client.get(reverse("reports:execution", args=[execution.pk])).content.decode()
    assert "could not be produced because of an error on our side" in page
    assert "secret" not in page
    assert "Traceback" not in page
    assert "Download" not in page


def test_a_run_is_not_run_twice(run):
    execution = run(format=ReportFormat.CSV)
    assert report_execution_run(execution_id=execution.pk) is None
    assert AuditEvent.objects.filter(action="reports.execution_complete").count() == 1


def test_the_page_shows_every_count_while_the_file_suppresses_them(admin_client, run):
    url = reverse("reports:report", args=[FINANCE_ROSTER.key])
    response = admin_client.post(url, {"size": "3", "format": "csv", "action": "preview"})

    assert response.status_code == 200
    page = response.content.decode()
    assert '<td data-label="Learners" class="text-end">1</td>' in page
    assert "&lt;5</td>" not in page
    assert "Only the first" not in page

    execution = run(format=ReportFormat.CSV, parameters={"size": 3})
    assert "<5" in stored(execution).decode("utf-8-sig")


def test_the_preview_carries_the_reports_chart_made_from_its_rows(institution):
    preview = report_preview(ROSTER, {"size": 3, "group": None}, ["name", "learners"])
    assert preview.chart == {
        "kind": "bar",
        "labels": ["Learner 1", "Learner 2", "Learner 3"],
        "values": [1, 2, 3],
    }
    assert [[value for _column, value in row] for row in preview.rows] == [
        ["Learner 1", 1],
        ["Learner 2", 2],
        ["Learner 3", 3],
    ]


def test_the_preview_is_capped_with_a_note(admin_client):
    response = admin_client.post(
        reverse("reports:report", args=[FINANCE_ROSTER.key]),
        {"size": "250", "format": "csv", "action": "preview"},
    )
    assert len(response.context["preview"].rows) == 200
    assert "Only the first 200 rows are shown here" in response.content.decode()


def test_a_bad_parameter_is_refused_on_the_page_and_nothing_runs(admin_client):
    response = admin_client.post(
        reverse("reports:report", args=[ROSTER.key]),
        {"size": "many", "format": "csv", "action": "run"},
    )
    assert response.status_code == 400
    assert "Enter a whole number." in response.content.decode()
    assert not ReportExecution.objects.exists()


def test_running_from_the_page_queues_the_task_and_shows_the_execution(
    admin_client, eager, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            reverse("reports:report", args=[ROSTER.key]),
            {"size": "3", "format": "xlsx", "columns": ["name"], "action": "run"},
        )
    execution = ReportExecution.objects.get()
    assert response.url == reverse("reports:execution", args=[execution.pk])
    assert (execution.format, execution.columns) == ("xlsx", ["name"])

    status_url = reverse("reports:execution_status", args=[execution.pk])
    waiting = admin_client.get(status_url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 2s"' in waiting
    assert "Waiting for its turn" in waiting

    for callback in callbacks:
        callback()

    done = admin_client.get(status_url, headers={"HX-Request": "true"})
    assert done.headers["HX-Refresh"] == "true"
    page = admin_client.get(response.url).content.decode()
    assert "hx-trigger" not in page
    assert "Download the Excel (XLSX) file" in page
