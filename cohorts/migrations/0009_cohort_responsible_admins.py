"""Each cohort's responsible admins: those told of declines and decisions in it. Existing
cohorts start with their creator, who was the one told until now (a cohort whose creator is
gone starts with nobody, and its news goes to every active admin, as before)."""

from django.conf import settings
from django.db import migrations, models


def creators_made_responsible(apps, schema_editor):
    Cohort = apps.get_model("cohorts", "Cohort")
    Responsible = Cohort.responsible_admins.through
    Responsible.objects.bulk_create(
        [
            Responsible(cohort_id=cohort_id, user_id=user_id)
            for cohort_id, user_id in Cohort.objects.filter(created_by__isnull=False).values_list(
                "pk", "created_by_id"
            )
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cohorts", "0008_cohort_expects_at_least_one_student"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="cohort",
            name="responsible_admins",
            field=models.ManyToManyField(
                help_text="The admins told of declines and decisions in this cohort, whose start "
                "pages show its work first. The creator, until someone changes it; never nobody.",
                related_name="cohorts_responsible_for",
                to=settings.AUTH_USER_MODEL,
                verbose_name="responsible admins",
            ),
        ),
        migrations.RunPython(creators_made_responsible, migrations.RunPython.noop),
    ]
