"""The student's agreement callbacks moved from enrolments.services to enrolments.agreements.
Submissions store the dotted path they call when signed or declined, so the ones already made
are pointed at the new place."""

from django.db import migrations

MOVED = {
    "enrolments.services.enrollment_agreement_signed": (
        "enrolments.agreements.enrollment_agreement_signed"
    ),
    "enrolments.services.enrollment_agreement_declined": (
        "enrolments.agreements.enrollment_agreement_declined"
    ),
}


def _repoint(apps, moves):
    Submission = apps.get_model("signing", "Submission")
    for old, new in moves.items():
        Submission.objects.filter(on_complete=old).update(on_complete=new)
        Submission.objects.filter(on_decline=old).update(on_decline=new)


def forwards(apps, schema_editor):
    _repoint(apps, MOVED)


def backwards(apps, schema_editor):
    _repoint(apps, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("enrolments", "0003_student_document_original_sha256"),
        ("signing", "0005_submission_on_decline"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
