"""No ID number in clear anywhere in an institution's schema: after an import (one file done, one
waiting for confirmation), a student giving their number in the portal, and agreements sent,
signed by every party and sealed, every text, character and JSON column of every table, the
audit trail and the outbound e-mails among them, is read, and no number is found."""

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from cohorts.models import StudentImport, StudentImportStatus
from enrolments.agreements import enrollment_agreement_start
from enrolments.models import CohortEnrollment
from signing.models import Submission, SubmissionStatus
from signing.selectors import link_for_token
from signing.services.completion import submitter_sign
from tests.factories import PASSWORD
from tests.imports.support import csv_bytes, student_row, unique_email
from tests.learners.support import FORM_DETAILS, sa_id_number
from tests.signing.conftest import others_sign, pdf_text_contains, token_from

pytestmark = pytest.mark.django_db

TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb", "ARRAY")


def schema_text() -> dict[str, str]:
    """Every text, character, JSON and array column of every table of the current (tenant)
    schema, each table's values as one text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = ANY(%s) "
            "AND table_name IN (SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE') "
            "ORDER BY table_name, ordinal_position",
            [list(TEXT_TYPES)],
        )
        columns: dict[str, list[str]] = {}
        for table, column in cursor.fetchall():
            columns.setdefault(table, []).append(column)
        dumped = {}
        for table, names in columns.items():
            quote = connection.ops.quote_name
            selected = ", ".join(f"{quote(name)}::text" for name in names)
            cursor.execute(f"SELECT {selected} FROM {quote(table)}")  # noqa: S608 (catalogue names)
            dumped[table] = "\n".join(
                "\t".join(value or "" for value in row) for row in cursor.fetchall()
            )
    return dumped


def _upload(rows: list[dict]) -> SimpleUploadedFile:
    return SimpleUploadedFile("students.csv", csv_bytes(rows))


def wrong_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def signed_and_sealed(enrollment: CohortEnrollment, capture) -> Submission:
    """The student signs their agreement in the portal; every other party signs after them.
    The agreement, completed and sealed."""
    with capture(execute=True):
        url = enrollment_agreement_start(enrollment=enrollment, actor=enrollment.user)
        link = link_for_token(token_from(url))
        submitter_sign(
            link=link,
            signed_name=enrollment.user.full_name,
            consent=True,
            signature_text=enrollment.user.full_name,
        )
    submission = link.submitter.submission
    with capture(execute=True):
        others_sign(submission)
    submission.refresh_from_db()
    assert submission.status == SubmissionStatus.COMPLETED
    return submission


def test_no_column_of_the_schema_holds_an_id_number_in_clear(
    admin_client,
    client_of,
    active_cohort,
    eager,
    media,
    caplog,
    django_capture_on_commit_callbacks,
):
    caplog.set_level(logging.INFO)
    cohort = active_cohort()
    imported = [
        student_row(full_name=f"Imported Student{n}", id_number=sa_id_number(301 + n))
        for n in range(3)
    ]
    wrong = wrong_check_digit(sa_id_number(310))
    misplaced = sa_id_number(311)  # typed into the e-mail column
    waiting_number = sa_id_number(320)
    portal_number = sa_id_number(330)
    numbers = [
        *(row["id_number"] for row in imported),
        wrong,
        misplaced,
        waiting_number,
        portal_number,
    ]

    # An import of three students, with two rows it refuses, confirmed and done.
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("cohort_import:upload", args=[cohort.pk]),
            {
                "file": _upload(
                    [*imported, student_row(id_number=wrong), student_row(email=misplaced)]
                )
            },
        )
    done = StudentImport.objects.get(cohort=cohort)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("cohort_import:confirm", args=[cohort.pk, done.pk]))
    done.refresh_from_db()
    assert (done.status, done.result["enrolled"], len(done.row_errors)) == (
        StudentImportStatus.DONE,
        3,
        2,
    )
    # Another file waits for confirmation: its rows stay in the table meanwhile.
    admin_client.post(
        reverse("cohort_import:upload", args=[cohort.pk]),
        {"file": _upload([student_row(id_number=waiting_number)])},
    )
    waiting = StudentImport.objects.exclude(pk=done.pk).get(cohort=cohort)
    assert (waiting.status, len(waiting.valid_rows)) == (StudentImportStatus.PREVIEW, 1)

    # A student invited without a number gives it in the portal.
    email = unique_email("portal")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("cohorts:student_invite", args=[cohort.pk]),
            {"full_name": "Portal Student", "email": email, "id_number": ""},
        )
    portal = CohortEnrollment.objects.get(cohort=cohort, user__email=email)
    portal.user.set_password(PASSWORD)
    portal.user.save(update_fields=["password"])
    saved = client_of(portal.user).post(
        reverse("enrolments:details", args=[portal.pk]),
        {**FORM_DETAILS, "id_number": portal_number},
    )
    assert saved.status_code == 302

    # Two agreements signed by every party and sealed, each carrying its student's number.
    first = CohortEnrollment.objects.get(cohort=cohort, user__email=imported[0]["email"])
    for enrollment, number in ((first, imported[0]["id_number"]), (portal, portal_number)):
        submission = signed_and_sealed(enrollment, django_capture_on_commit_callbacks)
        with submission.final_pdf.open("rb") as sealed:
            assert pdf_text_contains(sealed.read(), number)

    dumped = schema_text()

    # What was read is the whole story: every table the journey wrote is there, with rows.
    for table in (
        "learners_learner",
        "cohorts_studentimport",
        "audit_auditevent",
        "notifications_outboundemail",
        "enrolments_cohortenrollment",
    ):
        assert dumped.get(table), table
    assert imported[1]["email"] in dumped["notifications_outboundemail"]
    assert f"•••• {misplaced[-4:]}" in dumped["cohorts_studentimport"]
    found = {
        number: sorted(table for table, text in dumped.items() if number in text)
        for number in numbers
    }
    assert found == dict.fromkeys(numbers, [])
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not [number for number in numbers if number in logged]
