import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrolments", "0008_learners_from_student_data"),
    ]

    operations = [
        migrations.AlterField(
            model_name="cohortenrollment",
            name="learner",
            field=models.ForeignKey(
                help_text="The person; what is about them (details, documents) is kept there.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="enrollments",
                to="learners.learner",
            ),
        ),
        migrations.RemoveField(model_name="cohortenrollment", name="student_data"),
        migrations.RemoveField(model_name="cohortenrollment", name="details_completed_at"),
    ]
