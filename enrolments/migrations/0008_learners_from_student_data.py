from django.db import migrations

from learners.carry_over import learners_from_student_data, student_data_from_learners


class Migration(migrations.Migration):
    """One learner per student, with the details their enrolments held (learners.carry_over)."""

    dependencies = [
        ("enrolments", "0007_cohortenrollment_learner"),
        ("learners", "0002_data_keys_for_existing_institutions"),
    ]

    operations = [
        migrations.RunPython(learners_from_student_data, student_data_from_learners),
    ]
