import django.db.models.deletion
from django.db import migrations, models


def record_signed_versions(apps, schema_editor):
    """A cohort signed before versions were recorded gets the version of its main agreement
    the admin signed: that of the completed main agreement, or failing one (a signature
    recorded without the signing pages) the newest made at or before the signature."""
    Cohort = apps.get_model("cohorts", "Cohort")
    Submission = apps.get_model("signing", "Submission")
    TemplateVersion = apps.get_model("signing", "TemplateVersion")
    signed = Cohort.objects.filter(
        admin_signed_at__isnull=False,
        main_template__isnull=False,
        main_template_version__isnull=True,
    )
    for cohort in signed:
        completed = (
            Submission.objects.filter(
                subject_type="cohorts.cohort",
                subject_id=str(cohort.pk),
                status="completed",
                submitters__role="institution_admin",
                template_version__template_id=cohort.main_template_id,
            )
            .order_by("-completed_at")
            .first()
        )
        version = (
            completed.template_version
            if completed is not None
            else (
                TemplateVersion.objects.filter(
                    template_id=cohort.main_template_id, created_at__lte=cohort.admin_signed_at
                )
                .order_by("-number")
                .first()
            )
        )
        if version is not None:
            Cohort.objects.filter(pk=cohort.pk).update(main_template_version=version)


class Migration(migrations.Migration):
    dependencies = [
        ("cohorts", "0004_cohort_sponsor"),
        ("signing", "0007_signinglink_emailed"),
    ]

    operations = [
        migrations.AddField(
            model_name="cohort",
            name="main_template_version",
            field=models.ForeignKey(
                blank=True,
                help_text="The version of the main agreement the institution signed: students "
                "and the sponsor sign the same text, whatever later edits of the template say.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="signing.templateversion",
            ),
        ),
        migrations.RunPython(record_signed_versions, migrations.RunPython.noop),
    ]
