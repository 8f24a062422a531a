"""manage.py import_students: the same checks from the shell, for operators."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import SystemRole, User
from audit.models import AuditEvent
from cohorts.models import Cohort, CohortState
from enrolments.models import CohortEnrollment
from notifications.models import OutboundEmail
from tests.factories import UserFactory
from tests.imports.support import HTML_BYTES, csv_bytes, student_row, xlsx_bytes

pytestmark = pytest.mark.django_db


def run(cohort, path, *options: str, institution: str = "alpha") -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(
        "import_students",
        "--institution",
        institution,
        "--cohort",
        str(cohort.pk),
        str(path),
        *options,
        stdout=out,
        stderr=err,
    )
    return out.getvalue(), err.getvalue()


def test_good_rows_are_imported_with_a_progress_bar(cohort, tmp_path):
    students = [student_row(), student_row(), student_row()]
    path = tmp_path / "students.xlsx"
    path.write_bytes(xlsx_bytes(students))

    out, err = run(cohort, path, "--progress")

    assert "3 rows checked in students.xlsx: 3 to import" in out
    assert (
        "Enrolled 3 students: 3 new accounts, 0 existing accounts; 3 new learners, 0 existing "
        "learners; 3 invitation e-mails"
    ) in out
    assert "Checking rows" in err
    assert "[##############################] 100%" in err
    emails = [row["email"] for row in students]
    assert CohortEnrollment.objects.filter(cohort=cohort, user__email__in=emails).count() == 3
    assert OutboundEmail.objects.filter(recipient__in=emails, template="invitation").count() == 3
    summary = AuditEvent.objects.get(action="enrollment.imported", entity_id=str(cohort.pk))
    assert summary.actor is None
    assert summary.new_values["reference"] == "command: students.xlsx"


def test_a_dry_run_reports_what_it_would_do_and_writes_nothing(cohort, tmp_path):
    existing = UserFactory(roles=[SystemRole.TRAINER])
    students = [student_row(), student_row(email=existing.email)]
    path = tmp_path / "students.csv"
    path.write_bytes(csv_bytes(students))
    audit_events = AuditEvent.objects.count()

    out, _ = run(cohort, path, "--dry-run")

    assert "Dry run: would enrol 2 students: 1 new accounts, 1 existing accounts" in out
    assert "Dry run: nothing was written." in out
    assert not User.objects.filter(email=students[0]["email"]).exists()
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()
    assert AuditEvent.objects.count() == audit_events


def mixed_file(tmp_path):
    """One good row and three with problems (rows 3 to 5)."""
    good = student_row()
    path = tmp_path / "students.csv"
    path.write_bytes(
        csv_bytes(
            [
                good,
                student_row(email="thandi@", full_name="Thandi"),
                student_row(id_number="123"),
                student_row(race="unknown"),
            ]
        )
    )
    return good, path


def test_good_rows_are_imported_and_bad_ones_listed_as_the_upload_page_does(cohort, tmp_path):
    good, path = mixed_file(tmp_path)

    out, err = run(cohort, path)

    report = err.splitlines()
    assert report[0] == "row 3 (thandi@): “thandi@” is not a valid e-mail address."
    assert report[1].startswith("row 4 (")
    assert "An ID number has 13 digits." in report[1]
    assert report[2].startswith("row 5 (")
    assert "Race is not one of" in report[2]
    assert "unknown" not in err  # special personal information is never repeated
    assert report[3] == (
        "3 rows with problems are not imported. Fix them in your file and import it again: "
        "students already imported are skipped, so nobody is added twice."
    )
    assert "4 rows checked in students.csv: 1 to import" in out
    assert ", 3 with problems, 0 already in the cohort." in out
    assert "Enrolled 1 students: 1 new accounts" in out
    enrolled = CohortEnrollment.objects.filter(cohort=cohort).values_list("user__email", flat=True)
    assert list(enrolled) == [good["email"]]


def test_strict_imports_nothing_when_a_row_has_a_problem(cohort, tmp_path):
    good, path = mixed_file(tmp_path)
    err = StringIO()

    with pytest.raises(CommandError) as failed:
        call_command(
            "import_students", "--institution", "alpha", "--cohort", str(cohort.pk), str(path),
            "--strict", stdout=StringIO(), stderr=err,
        )  # fmt: skip

    assert failed.value.returncode == 1
    assert "3 of 4 rows cannot be imported (listed above); with --strict nothing was imported" in (
        str(failed.value)
    )
    assert err.getvalue().splitlines()[0].startswith("row 3 (thandi@)")
    assert not User.objects.filter(email=good["email"]).exists()
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()


def test_a_strict_file_without_problems_is_imported(cohort, tmp_path):
    path = tmp_path / "students.csv"
    path.write_bytes(csv_bytes([student_row(), student_row()]))

    out, err = run(cohort, path, "--strict")

    assert "Enrolled 2 students" in out
    assert err == ""
    assert CohortEnrollment.objects.filter(cohort=cohort).count() == 2


def test_a_file_with_no_good_row_fails(cohort, tmp_path):
    path = tmp_path / "students.csv"
    path.write_bytes(csv_bytes([student_row(email="nobody@"), student_row(full_name="")]))

    with pytest.raises(CommandError, match="No row of this file can be imported") as failed:
        run(cohort, path)

    assert failed.value.returncode == 1
    assert not CohortEnrollment.objects.filter(cohort=cohort).exists()


def test_a_dry_run_says_which_rows_would_be_left_out(cohort, tmp_path):
    good, path = mixed_file(tmp_path)

    out, _ = run(cohort, path, "--dry-run")

    assert "Dry run: would enrol 1 students: 1 new accounts" in out
    assert "Dry run: 3 rows with problems are not imported." in out
    assert "Dry run: nothing was written." in out
    assert not User.objects.filter(email=good["email"]).exists()


@pytest.mark.parametrize("state", [CohortState.COMPLETED, CohortState.CANCELLED])
def test_a_closed_cohort_is_refused_before_the_file_is_read(cohort, tmp_path, state):
    Cohort.objects.filter(pk=cohort.pk).update(state=state)
    path = tmp_path / "students.csv"
    path.write_bytes(HTML_BYTES)  # not even a spreadsheet: the cohort is refused first

    with pytest.raises(
        CommandError, match=f"This cohort is {state}; students can no longer join it."
    ):
        run(cohort, path)


def test_a_second_run_skips_the_students_already_enrolled(cohort, tmp_path):
    students = [student_row(), student_row()]
    path = tmp_path / "students.csv"
    path.write_bytes(csv_bytes(students))
    run(cohort, path)
    path.write_bytes(csv_bytes([*students, student_row()]))

    out, _ = run(cohort, path)

    assert out.count("already in the cohort, skipped") == 2
    assert "Enrolled 1 students: 1 new accounts" in out
    assert CohortEnrollment.objects.filter(cohort=cohort).count() == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (HTML_BYTES, "not a spreadsheet"),
        (b"", "The file is empty"),
        (b"name;mail\nA;a@example.org\n", "wrong columns"),
    ],
)
def test_a_refused_file_fails_with_its_reason(cohort, tmp_path, content, message):
    path = tmp_path / "students.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=message):
        run(cohort, path)


def test_an_unknown_institution_cohort_or_file_fails_clearly(cohort, tmp_path):
    path = tmp_path / "students.csv"
    path.write_bytes(csv_bytes([student_row()]))

    with pytest.raises(CommandError, match="No institution has the code 'nowhere'"):
        run(cohort, path, institution="nowhere")
    with pytest.raises(CommandError, match="no cohort with id"):
        run(type(cohort)(pk=10**9), path)
    with pytest.raises(CommandError, match="No such file"):
        run(cohort, tmp_path / "missing.csv")
    # The beta institution does not have alpha's cohort.
    with pytest.raises(CommandError, match="Beta Academy has no cohort"):
        run(type(cohort)(pk=10**9 - 3), path, institution="beta")


def test_an_actor_must_be_an_admin_of_the_institution(cohort, tmp_path, admin):
    path = tmp_path / "students.csv"
    path.write_bytes(csv_bytes([student_row()]))
    student = UserFactory(roles=[SystemRole.STUDENT])

    with pytest.raises(CommandError, match="is not an admin"):
        run(cohort, path, "--actor", student.email)
    run(cohort, path, "--actor", admin.email)

    assert (
        AuditEvent.objects.get(action="enrollment.imported", entity_id=str(cohort.pk)).actor
        == admin
    )
