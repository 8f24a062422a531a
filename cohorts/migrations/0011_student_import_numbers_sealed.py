import base64
import re

from django.db import migrations

from learners.keys import national_id_digest, national_id_encrypt

LONG_NUMBER = re.compile(r"\d(?:[ -]?\d){6,}")


def _masked(value):
    if isinstance(value, str):
        return LONG_NUMBER.sub(lambda found: "•••• " + re.sub(r"\D", "", found[0])[-4:], value)
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def seal_waiting_imports(apps, schema_editor):
    """Imports waiting for confirmation when ID numbers began to be sealed: their checked rows
    get the number encrypted, hashed and cut to its last four, as new ones do
    (cohorts.imports.validation.national_id_sealed); their refused rows keep no long number."""
    StudentImport = apps.get_model("cohorts", "StudentImport")
    DataKey = apps.get_model("learners", "DataKey")
    for student_import in StudentImport.objects.all():
        rows = []
        for row in student_import.valid_rows or []:
            number = "".join(str(row.pop("id_number", "") or "").split())
            if number:
                row["national_id_encrypted"] = base64.b64encode(
                    national_id_encrypt(number, model=DataKey)
                ).decode()
                row["national_id_hash"] = national_id_digest(
                    number, kind="sa_id", country="ZA", model=DataKey
                )
                row["national_id_last4"] = number[-4:]
            rows.append(row)
        errors = []
        for error in student_import.row_errors or []:
            number = "".join(str(error.pop("id_number", "") or "").split())
            if number:
                error["national_id_last4"] = number[-4:]
            errors.append({key: _masked(value) for key, value in error.items()})
        StudentImport.objects.filter(pk=student_import.pk).update(
            valid_rows=rows, row_errors=errors
        )


class Migration(migrations.Migration):
    dependencies = [
        ("cohorts", "0010_cohort_fresh_document_types"),
        ("learners", "0002_data_keys_for_existing_institutions"),
    ]

    operations = [
        migrations.RunPython(seal_waiting_imports, migrations.RunPython.noop),
    ]
