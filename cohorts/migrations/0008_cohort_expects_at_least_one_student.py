"""A cohort expects at least one student. Cohorts saved with 0 (the old default, "not said")
get the number of students enrolled in them, or 1 when there are none yet."""

import django.core.validators
from django.db import migrations, models
from django.db.models import Count


def zero_expected_filled_in(apps, schema_editor):
    Cohort = apps.get_model("cohorts", "Cohort")
    for cohort in Cohort.objects.filter(student_count=0).annotate(enrolled=Count("enrollments")):
        Cohort.objects.filter(pk=cohort.pk).update(student_count=max(cohort.enrolled, 1))


class Migration(migrations.Migration):
    dependencies = [
        ("cohorts", "0007_permission_catalogue"),
        ("enrolments", "0004_permission_catalogue"),
    ]

    operations = [
        migrations.AlterField(
            model_name="cohort",
            name="student_count",
            field=models.PositiveIntegerField(
                default=1,
                validators=[
                    django.core.validators.MinValueValidator(
                        1, "A cohort expects at least 1 student."
                    ),
                    django.core.validators.MaxValueValidator(
                        100000, "A cohort expects at most 100,000 students."
                    ),
                ],
                verbose_name="expected students",
            ),
        ),
        migrations.RunPython(zero_expected_filled_in, migrations.RunPython.noop),
    ]
