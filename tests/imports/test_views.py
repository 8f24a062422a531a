"""The import pages: upload, preview, confirmation, template, and who may see them."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from accounts.models import SystemRole, User
from cohorts.imports.reading import COLUMNS, MAX_FILE_BYTES
from cohorts.models import StudentImport, StudentImportStatus
from cohorts.services import cohort_cancel
from enrolments.models import CohortEnrollment
from notifications.models import OutboundEmail
from tests.factories import CohortFactory, UserFactory
from tests.imports.support import (
    HTML_BYTES,
    PNG_BYTES,
    csv_bytes,
    student_row,
    unique_email,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client_for, institution, admin):
    client = client_for(institution)
    client.force_login(admin)
    return client


def upload(client, cohort, content: bytes, name: str = "students.csv"):
    return client.post(
        reverse("cohort_import:upload", args=[cohort.pk]),
        {"file": SimpleUploadedFile(name, content)},
    )


def detail_url(student_import: StudentImport) -> str:
    return reverse("cohort_import:detail", args=[student_import.cohort_id, student_import.pk])


def test_the_upload_page_offers_the_templates_and_the_columns(client, cohort):
    page = client.get(reverse("cohort_import:upload", args=[cohort.pk]))

    assert page.status_code == 200
    body = page.content.decode()
    assert reverse("cohort_import:template", args=[cohort.pk, "xlsx"]) in body
    assert reverse("cohort_import:template", args=[cohort.pk, "csv"]) in body
    assert 'type="file"' in body
    assert "Prefer not to say" in body


@pytest.mark.parametrize(
    ("build", "name"), [(csv_bytes, "students.csv"), (xlsx_bytes, "students.xlsx")]
)
def test_an_upload_shows_a_preview_of_valid_and_invalid_rows_before_anything_is_imported(
    client, cohort, build, name
):
    good = [student_row(full_name="Thandi Nkosi"), student_row(full_name="Sipho Dlamini")]
    bad = student_row(full_name="Bad Address", email="bad@@example.org", gender="F")

    response = upload(client, cohort, build([*good, bad]), name)

    student_import = StudentImport.objects.get(cohort=cohort)
    assert response.status_code == 302
    assert response["Location"] == detail_url(student_import)
    assert student_import.status == StudentImportStatus.PREVIEW
    assert student_import.original_name == name
    assert student_import.kind == name.rsplit(".", 1)[1]
    assert not student_import.file.name.endswith(name)
    page = client.get(detail_url(student_import)).content.decode()
    assert "Thandi Nkosi" in page
    assert "Sipho Dlamini" in page
    assert "“bad@@example.org” is not a valid e-mail address." in page
    assert "Gender “F” is not one of" in page
    assert "Import 2 students" in page
    assert "2 new student accounts" in page
    assert reverse("cohort_import:confirm", args=[cohort.pk, student_import.pk]) in page
    assert not User.objects.filter(email__in=[row["email"] for row in good]).exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (PNG_BYTES, "students.csv", "This is not a spreadsheet: the file is image/png."),
        (HTML_BYTES, "students.xlsx", "This is a web page or an XML file, not a spreadsheet."),
        (b"", "students.csv", "The file is empty."),
        (csv_bytes([student_row()], columns=("name", "mail")), "s.csv", "wrong columns"),
        (b"full_name,email\n" + b"x" * MAX_FILE_BYTES, "big.csv", "The file is too large (5.0 MB)"),
    ],
    ids=["png named csv", "html named xlsx", "empty", "wrong columns", "too large"],
)
def test_a_refused_file_is_explained_on_the_upload_page(client, cohort, content, name, message):
    response = upload(client, cohort, content, name)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not StudentImport.objects.filter(cohort=cohort).exists()


def test_a_file_the_storage_cannot_keep_is_refused_with_a_message_and_leaves_nothing(
    client, cohort, disk_of, media, caplog
):
    disk_of(10)

    response = upload(client, cohort, csv_bytes([student_row()]))

    assert response.status_code == 200
    assert "We could not store your file. Try again later." in response.content.decode()
    assert not StudentImport.objects.filter(cohort=cohort).exists()
    assert not [path for path in media.rglob("*") if path.is_file()]
    assert any(
        record.name == "tenants.storage" and "an import file" in record.getMessage()
        for record in caplog.records
    )


def test_confirming_imports_the_valid_rows_and_shows_the_outcome(client, cohort):
    good = [student_row(), student_row()]
    upload(client, cohort, csv_bytes([*good, student_row(email="nope")]))
    student_import = StudentImport.objects.get(cohort=cohort)

    response = client.post(
        reverse("cohort_import:confirm", args=[cohort.pk, student_import.pk]), follow=True
    )

    student_import.refresh_from_db()
    assert student_import.status == StudentImportStatus.DONE
    assert student_import.result["enrolled"] == 2
    assert student_import.valid_rows == []
    assert not student_import.file
    body = response.content.decode()
    assert "2 students enrolled and invited." in body
    assert "2 new accounts" in body
    emails = [row["email"] for row in good]
    assert CohortEnrollment.objects.filter(cohort=cohort, user__email__in=emails).count() == 2
    assert OutboundEmail.objects.filter(recipient__in=emails, template="invitation").count() == 2


def test_a_second_confirmation_imports_nothing_more(client, cohort):
    upload(client, cohort, csv_bytes([student_row()]))
    student_import = StudentImport.objects.get(cohort=cohort)
    url = reverse("cohort_import:confirm", args=[cohort.pk, student_import.pk])
    client.post(url)

    again = client.post(url, follow=True)

    assert "already been imported" in again.content.decode()
    assert CohortEnrollment.objects.filter(cohort=cohort).count() == 1


def test_confirming_needs_a_post(client, cohort):
    upload(client, cohort, csv_bytes([student_row()]))
    student_import = StudentImport.objects.get(cohort=cohort)

    response = client.get(reverse("cohort_import:confirm", args=[cohort.pk, student_import.pk]))

    assert response.status_code == 405
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()


def test_uploading_the_same_file_again_finds_everyone_already_enrolled(client, cohort):
    content = csv_bytes([student_row(), student_row()])
    upload(client, cohort, content)
    first = StudentImport.objects.get(cohort=cohort)
    client.post(reverse("cohort_import:confirm", args=[cohort.pk, first.pk]))

    upload(client, cohort, content)

    second = StudentImport.objects.filter(cohort=cohort).exclude(pk=first.pk).get()
    assert second.valid_rows == []
    page = client.get(detail_url(second)).content.decode()
    assert page.count("Already enrolled in this cohort.") == 2
    assert "Nothing to import" in page
    assert CohortEnrollment.objects.filter(cohort=cohort).count() == 2


def test_a_large_file_is_read_by_a_task_while_the_page_shows_progress(client, cohort, settings):
    settings.COHORT_IMPORT_SYNCHRONOUS_MAX_BYTES = 0

    upload(client, cohort, csv_bytes([student_row() for _ in range(3)]))

    student_import = StudentImport.objects.get(cohort=cohort)
    assert student_import.status == StudentImportStatus.PARSING
    page = client.get(detail_url(student_import)).content.decode()
    progress_url = reverse("cohort_import:progress", args=[cohort.pk, student_import.pk])
    assert f'hx-get="{progress_url}"' in page
    assert "import-progress-0" in page
    assert "css/import.css" in page


def test_the_progress_partial_asks_htmx_to_reload_the_page_when_the_work_is_over(client, cohort):
    upload(client, cohort, csv_bytes([student_row()]))
    student_import = StudentImport.objects.get(cohort=cohort)
    url = reverse("cohort_import:progress", args=[cohort.pk, student_import.pk])

    polled = client.get(url, headers={"HX-Request": "true"})
    plain = client.get(url)

    assert polled.status_code == 286 or polled["HX-Refresh"] == "true"
    assert "import-progress-100" in plain.content.decode()


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_template_downloads_with_every_column(client, cohort, kind):
    response = client.get(reverse("cohort_import:template", args=[cohort.pk, kind]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="students-template.{kind}"'
    if kind == "csv":
        assert response.content.decode("utf-8-sig").strip() == ",".join(COLUMNS)
    else:
        workbook = load_workbook(io.BytesIO(response.content))
        assert [cell.value for cell in workbook.worksheets[0][1]] == list(COLUMNS)


def test_an_unknown_template_type_is_not_found(client, cohort):
    assert client.get(reverse("cohort_import:template", args=[cohort.pk, "pdf"])).status_code == 404


def test_a_closed_cohort_takes_no_import(client, cohort, admin):
    cohort_cancel(cohort=cohort, actor=admin, reason="Sponsor withdrew")

    page = client.get(reverse("cohort_import:upload", args=[cohort.pk])).content.decode()
    posted = upload(client, cohort, csv_bytes([student_row()]))

    assert "This cohort is cancelled; students can no longer join it" in page
    assert "This cohort is cancelled; students can no longer join it" in posted.content.decode()
    assert not StudentImport.objects.filter(cohort=cohort).exists()


def _pages(cohort, student_import) -> list[tuple[str, str]]:
    args = [cohort.pk, student_import.pk]
    return [
        ("get", reverse("cohort_import:upload", args=[cohort.pk])),
        ("post", reverse("cohort_import:upload", args=[cohort.pk])),
        ("get", reverse("cohort_import:template", args=[cohort.pk, "csv"])),
        ("get", reverse("cohort_import:detail", args=args)),
        ("get", reverse("cohort_import:progress", args=args)),
        ("post", reverse("cohort_import:confirm", args=args)),
        ("get", reverse("cohort_import:cancel", args=args)),
        ("post", reverse("cohort_import:cancel", args=args)),
    ]


@pytest.mark.parametrize("role", [SystemRole.STUDENT, SystemRole.VERIFIER, SystemRole.AUDITOR])
def test_people_who_do_not_manage_cohorts_get_not_found(client_for, institution, cohort, role):
    student_import = StudentImport.objects.create(
        cohort=cohort, original_name="x.csv", kind="csv", status=StudentImportStatus.PREVIEW,
        valid_rows=[{"line": 2, "full_name": "A B", "email": unique_email()}],
    )  # fmt: skip
    client = client_for(institution)
    client.force_login(UserFactory(roles=[role]))

    for method, url in _pages(cohort, student_import):
        assert getattr(client, method)(url).status_code == 404, url

    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()


def test_anonymous_visitors_are_sent_to_sign_in(client_for, institution, cohort):
    response = client_for(institution).get(reverse("cohort_import:upload", args=[cohort.pk]))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_missing_cohort_or_an_import_of_another_cohort_is_not_found(client, cohort):
    other = CohortFactory()
    student_import = StudentImport.objects.create(cohort=other, original_name="x.csv", kind="csv")

    assert client.get(reverse("cohort_import:upload", args=[10**9])).status_code == 404
    assert client.get(detail_url(student_import)).status_code == 200
    wrong = reverse("cohort_import:detail", args=[cohort.pk, student_import.pk])
    assert client.get(wrong).status_code == 404


def test_another_institutions_cohort_and_import_are_not_found(
    client, institution, other_institution
):
    with tenant_context(other_institution):
        theirs = CohortFactory(id=10**9 - 7)
        their_import = StudentImport.objects.create(
            id=10**9 - 7, cohort=theirs, original_name="x.csv", kind="csv"
        )
    with tenant_context(institution):
        mine = CohortFactory()

    assert client.get(reverse("cohort_import:upload", args=[theirs.pk])).status_code == 404
    assert client.get(detail_url(their_import)).status_code == 404
    assert (
        client.get(reverse("cohort_import:detail", args=[mine.pk, their_import.pk])).status_code
        == 404
    )
    response = upload(client, theirs, csv_bytes([student_row()]))
    assert response.status_code == 404


def test_a_database_failure_while_importing_fails_the_import_without_logging_the_rows(
    client, cohort, caplog
):
    refused = unique_email("refused")
    rows = [student_row(race="coloured"), student_row(email=refused, disability="hearing")]
    upload(client, cohort, csv_bytes(rows))
    student_import = StudentImport.objects.get(cohort=cohort)
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE notifications_outboundemail ADD CONSTRAINT test_refused_recipient "
            "CHECK (recipient <> %s)",
            [refused],
        )

    response = client.post(
        reverse("cohort_import:confirm", args=[cohort.pk, student_import.pk]), follow=True
    )

    student_import.refresh_from_db()
    assert student_import.status == StudentImportStatus.FAILED
    assert "nothing was imported" in response.content.decode()
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()
    assert "test_refused_recipient" in caplog.text
    assert "coloured" not in caplog.text
    assert "hearing" not in caplog.text
