"""The export of a cohort's students (enrolments.exports): CSV and XLSX with each student's
details, progress, documents and agreement as the students table says them, the table's
filters kept, no cell a spreadsheet runs as a formula, only for those who manage enrolments,
and each export in the audit trail."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook

from accounts.models import SystemRole
from audit.models import AuditEvent
from cohorts.services import cohort_reviewer_set
from enrolments.exports import cohort_students_export, csv_cell
from enrolments.services import enrollment_details_save, enrollment_invite
from tests.enrolments.table_support import DECLINE_REASON, students_at_every_step
from tests.factories import CohortFactory, UserFactory
from tests.learners.support import details_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def students(admin):
    return students_at_every_step(admin)


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def _url(students, file_format: str, query: str = "") -> str:
    return f"/cohorts/{students.cohort.pk}/export/students.{file_format}" + (
        f"?{query}" if query else ""
    )


def test_the_csv_has_each_students_details_progress_documents_and_agreement(students, admin_client):
    response = admin_client.get(_url(students, "csv"))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="plumbing-2027-students-'
    )
    rows = {row["Full name"]: row for row in _csv(response)}
    assert set(rows) == {
        "Ann Notsent",
        "Ben Waitingstudent",
        "Cara Waitingsponsor",
        "Dan Declined",
        "Eve Signed",
    }
    assert rows["Ann Notsent"]["Agreement"] == "Not sent"
    assert rows["Ann Notsent"]["Documents"] == "Not uploaded"
    assert rows["Ann Notsent"]["Signed up"] == "No"
    assert rows["Ben Waitingstudent"]["Agreement"] == "Waiting for the student"
    assert rows["Ben Waitingstudent"]["Documents"] == "Waiting for review"
    assert rows["Ben Waitingstudent"]["Document: Matric certificate"] == "Waiting for review"
    assert rows["Cara Waitingsponsor"]["Agreement"] == "Waiting for the sponsor"
    assert rows["Cara Waitingsponsor"]["Document: Matric certificate"] == "Not uploaded"
    assert rows["Dan Declined"]["Agreement"] == "Declined by the student"
    assert rows["Dan Declined"]["Reason for declining"] == DECLINE_REASON
    assert rows["Dan Declined"]["Document: Matric certificate"] == "Rejected: Blurred."
    assert rows["Eve Signed"]["Agreement"] == "Signed"
    assert rows["Eve Signed"]["Documents"] == "Approved"
    assert rows["Eve Signed"]["Progress"] == "In progress"
    assert rows["Eve Signed"]["E-mail address"] == "eve@example.org"
    assert "Invited (Africa/Johannesburg)" in rows["Eve Signed"]


def test_the_export_gives_the_details_the_student_entered_with_their_labels(students, admin_client):
    student = students.waiting_student
    enrollment_details_save(
        enrollment=student,
        actor=student.user,
        details=details_of(
            id_number="",
            date_of_birth="2001-09-24",
            gender="female",
            race="prefer_not_to_say",
            disability="none",
            city="Soweto",
            home_language="english",
            highest_qualification="matric",
        ),
    )

    [row] = [
        r
        for r in _csv(admin_client.get(_url(students, "csv")))
        if r["Full name"] == "Ben Waitingstudent"
    ]

    assert row["City or town"] == "Soweto"
    assert row["Gender"] == "Female"
    assert row["Population group"] == "Prefer not to say"
    assert row["Highest qualification"] == "Matric (National Senior Certificate) or equivalent"


def test_the_xlsx_opens_with_the_same_rows(students, admin_client):
    response = admin_client.get(_url(students, "xlsx"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:8] == [
        "Full name",
        "E-mail address",
        "Signed up",
        "Invited (Africa/Johannesburg)",
        "Progress",
        "Agreement",
        "Reason for declining",
        "Documents",
    ]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert by_name["Cara Waitingsponsor"]["Agreement"] == "Waiting for the sponsor"
    assert by_name["Dan Declined"]["Reason for declining"] == DECLINE_REASON
    assert by_name["Eve Signed"]["Documents"] == "Approved"


def test_the_export_keeps_the_filters_chosen_on_the_page(students, admin_client):
    rows = _csv(admin_client.get(_url(students, "csv", "agreement=waiting&documents=not_uploaded")))

    assert [row["Full name"] for row in rows] == ["Cara Waitingsponsor"]
    event = AuditEvent.objects.filter(action="cohort.students_exported").latest("id")
    assert event.new_values["filters"] == {"agreement": "waiting", "documents": "not_uploaded"}


def test_the_page_links_to_the_export_with_its_filters(students, admin_client):
    html = admin_client.get(f"/cohorts/{students.cohort.pk}/?agreement=declined").content.decode()

    assert f'href="{_url(students, "csv", "agreement=declined")}"' in html
    assert f'href="{_url(students, "xlsx", "agreement=declined")}"' in html


def test_an_unknown_filter_is_not_exported_and_the_page_says_why(students, admin_client):
    response = admin_client.get(_url(students, "csv", "agreement=lost"), follow=True)

    assert response.redirect_chain[0][0].startswith(f"/cohorts/{students.cohort.pk}/?")
    html = response.content.decode()
    assert "Choose the filters from the lists before exporting." in html
    assert "Choose an agreement status from the list." in html
    assert not AuditEvent.objects.filter(action="cohort.students_exported").exists()


def test_an_unknown_format_is_not_found(students, admin_client):
    assert admin_client.get(_url(students, "pdf")).status_code == 404


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil.example")', "+27 82 555 0100", "-1+2", "@SUM(A1)"]
)
def test_no_cell_becomes_a_formula(admin, admin_client, students, name):
    enrollment_invite(cohort=students.cohort, actor=admin, email="x@example.org", full_name=name)

    [row] = [
        r
        for r in _csv(admin_client.get(_url(students, "csv")))
        if r["E-mail address"] == "x@example.org"
    ]
    assert row["Full name"] == f"'{name}"

    sheet = load_workbook(io.BytesIO(admin_client.get(_url(students, "xlsx")).content)).active
    [cell] = [cell for cell in sheet["A"] if cell.value and name in str(cell.value)]
    assert (cell.value, cell.data_type) == (name, "s")  # text, not a formula


def test_csv_cell_leaves_ordinary_text_alone():
    assert csv_cell("Sipho Dlamini") == "Sipho Dlamini"
    assert csv_cell("Waiting for review") == "Waiting for review"
    assert csv_cell("\tSUM(A1)") == "'\tSUM(A1)"


def test_each_export_is_in_the_audit_trail_without_what_was_searched(students, admin, admin_client):
    admin_client.get(_url(students, "xlsx", "q=eve"))

    event = AuditEvent.objects.get(action="cohort.students_exported")
    assert event.actor_id == admin.pk
    assert (event.entity_type, event.entity_id) == ("cohorts.cohort", str(students.cohort.pk))
    assert event.new_values == {"format": "xlsx", "students": 1, "filters": {"search": "(given)"}}


def test_a_verifier_of_the_cohort_may_not_export_it(students, admin, client_of):
    verifier = UserFactory(roles=[SystemRole.VERIFIER])
    cohort_reviewer_set(cohort=students.cohort, actor=admin, reviewer=verifier, allowed=True)

    assert client_of(verifier).get(_url(students, "csv")).status_code == 404
    with pytest.raises(PermissionDenied):
        cohort_students_export(cohort=students.cohort, actor=verifier, file_format="csv")
    assert not AuditEvent.objects.filter(action="cohort.students_exported").exists()
    assert AuditEvent.objects.filter(
        actor_id=verifier.pk, action="permission.denied", entity_id="enrolments.students_export"
    ).exists()


def test_a_student_may_not_export_their_cohort(students, client_of):
    student = students.signed.user
    student.set_password("x-Long-password-1")
    student.save(update_fields=["password"])

    assert client_of(student).get(_url(students, "csv")).status_code == 404


def test_the_xlsx_of_a_cohort_whose_name_excel_would_refuse_as_a_sheet_name(admin, admin_client):
    cohort = CohortFactory(active=True, name="Plumbing 2027/28: group [A]?")
    enrollment_invite(
        cohort=cohort, actor=admin, email="bell@example.org", full_name="Bell\x07 Ringer"
    )

    response = admin_client.get(f"/cohorts/{cohort.pk}/export/students.xlsx")

    assert response.status_code == 200
    assert 'filename="plumbing-202728-group-a-students-' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.title == "Plumbing 2027 28 group A"
    assert sheet["A2"].value == "Bell Ringer"
