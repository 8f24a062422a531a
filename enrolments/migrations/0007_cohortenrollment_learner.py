import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrolments", "0006_agreement_countersigning"),
        ("learners", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="cohortenrollment",
            name="learner",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="enrollments",
                to="learners.learner",
            ),
        ),
    ]
