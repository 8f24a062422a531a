"""The migration that sealed the ID numbers of imports waiting for confirmation: run on a
scratch schema migrated to before it, then forward."""

import base64

import pytest

from learners.keys import national_id_decrypt
from tests.learners.support import sa_id_number
from tests.migrating import migrate_to

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("scratch_schema")]

BEFORE = [("cohorts", "0010_cohort_fresh_document_types")]
AFTER = [("cohorts", "0011_student_import_numbers_sealed")]


def test_a_waiting_imports_rows_keep_no_number_in_clear():
    old_apps = migrate_to(BEFORE)
    Cohort = old_apps.get_model("cohorts", "Cohort")
    StudentImport = old_apps.get_model("cohorts", "StudentImport")
    cohort = Cohort.objects.create(
        name="2027 intake",
        program_type="learnership",
        start_date="2027-02-01",
        end_date="2027-11-30",
    )
    number, typo = sa_id_number(31), sa_id_number(32)[:-1]
    waiting = StudentImport.objects.create(
        cohort=cohort,
        original_name="students.csv",
        kind="csv",
        status="preview",
        valid_rows=[{"email": "a@example.org", "full_name": "A B", "id_number": number}],
        row_errors=[{"line": 3, "id_number": typo, "messages": [f"{typo} is 12 digits"]}],
    )

    new_apps = migrate_to(AFTER)

    sealed = new_apps.get_model("cohorts", "StudentImport").objects.get(pk=waiting.pk)
    DataKey = new_apps.get_model("learners", "DataKey")
    [row] = sealed.valid_rows
    assert "id_number" not in row
    assert row["national_id_last4"] == number[-4:]
    encrypted = base64.b64decode(row["national_id_encrypted"])
    assert national_id_decrypt(encrypted, model=DataKey) == number
    assert number not in str(sealed.valid_rows)
    assert typo not in str(sealed.row_errors)
    assert sealed.row_errors[0]["messages"] == [f"•••• {typo[-4:]} is 12 digits"]
