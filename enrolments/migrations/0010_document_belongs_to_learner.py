"""Documents belong to the learner (seed 001 `candidate_documents`): each one gets the learner of
the enrolment it was uploaded for, and one document per type is current for the learner rather
than for each enrolment (the newest upload, where two enrolments each had one)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def documents_to_learners(apps, schema_editor):
    StudentDocument = apps.get_model("enrolments", "StudentDocument")
    Enrollment = apps.get_model("enrolments", "CohortEnrollment")
    StudentDocument.objects.filter(learner__isnull=True).update(
        learner_id=Subquery(
            Enrollment.objects.filter(pk=OuterRef("enrollment_id")).values("learner_id")[:1]
        )
    )
    newest: set[tuple[int, int]] = set()
    replaced = []
    current = StudentDocument.objects.filter(is_current=True).order_by(
        "learner_id", "document_type_id", "-uploaded_at", "-pk"
    )
    for pk, learner_id, document_type_id in current.values_list(
        "pk", "learner_id", "document_type_id"
    ):
        if (learner_id, document_type_id) in newest:
            replaced.append(pk)
        newest.add((learner_id, document_type_id))
    StudentDocument.objects.filter(pk__in=replaced).update(is_current=False)
    if replaced:
        print(
            f"\n    {len(replaced)} documents are now earlier versions of a newer upload of the "
            "same type by the same learner for another enrolment."
        )
    # Foreign keys checked now: the table is altered next, which pending checks would stop.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("cohorts", "0010_cohort_fresh_document_types"),
        ("enrolments", "0009_learner_required"),
        ("learners", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="studentdocument", name="one_current_document_per_type"
        ),
        migrations.AddField(
            model_name="studentdocument",
            name="expires_on",
            field=models.DateField(
                blank=True, help_text="Asked for when its document type expires.", null=True
            ),
        ),
        migrations.AddField(
            model_name="studentdocument",
            name="learner",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="documents",
                to="learners.learner",
            ),
        ),
        migrations.RunPython(documents_to_learners, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="studentdocument",
            name="learner",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="documents",
                to="learners.learner",
            ),
        ),
        migrations.AlterField(
            model_name="studentdocument",
            name="enrollment",
            field=models.ForeignKey(
                help_text="The enrolment it was uploaded for.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="documents",
                to="enrolments.cohortenrollment",
            ),
        ),
        migrations.AddConstraint(
            model_name="studentdocument",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_current", True)),
                fields=("learner", "document_type"),
                name="one_current_document_per_learner_and_type",
            ),
        ),
    ]
