"""Submissions name their completion and decline callbacks by the names that the apps register
in signing.callbacks, no longer by dotted import paths. Two UPDATEs per schema, whatever the
number of submissions; a value not listed (none was ever stored) is left as it is."""

from django.db import migrations
from django.db.models import Case, Value, When

NAMES_BY_PATH = {
    "cohorts.services.cohort_main_agreement_signed": "cohorts.main_agreement_signed",
    "enrolments.services.enrollment_agreement_signed": "enrolments.agreement_signed",
    "enrolments.services.enrollment_agreement_declined": "enrolments.agreement_declined",
    "sponsors.services.sponsor_agreement_signed": "sponsors.agreement_signed",
    "sponsors.services.sponsor_agreement_declined": "sponsors.agreement_declined",
}


def _rename(apps, renames: dict[str, str]) -> None:
    Submission = apps.get_model("signing", "Submission")
    for field in ("on_complete", "on_decline"):
        Submission.objects.filter(**{f"{field}__in": list(renames)}).update(
            **{
                field: Case(
                    *(When(**{field: old}, then=Value(new)) for old, new in renames.items())
                )
            }
        )


def paths_to_names(apps, schema_editor):
    _rename(apps, NAMES_BY_PATH)


def names_to_paths(apps, schema_editor):
    _rename(apps, {name: path for path, name in NAMES_BY_PATH.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("signing", "0007_signinglink_emailed"),
    ]

    operations = [
        migrations.RunPython(paths_to_names, names_to_paths, elidable=True),
    ]
