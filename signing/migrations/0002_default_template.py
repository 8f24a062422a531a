"""A starting agreement, so a new institution can run its first cohort before writing its own."""

from django.db import migrations

BODY = """This agreement is between the institution and the participant named below for the \
programme described in the cohort.

1. The participant will attend the training, complete the assessments and keep to the \
institution's rules.
2. The institution will provide the training, the workplace arrangements agreed with the \
sponsor, and the certificates earned.
3. The participant's personal information is used only to run the programme and to report to \
the bodies the law requires.

By signing, each party accepts these terms."""


def create_default(apps, schema_editor):
    AgreementTemplate = apps.get_model("signing", "AgreementTemplate")
    AgreementTemplate.objects.get_or_create(
        title="Programme participation agreement", defaults={"body": BODY}
    )


class Migration(migrations.Migration):
    dependencies = [("signing", "0001_initial")]

    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
