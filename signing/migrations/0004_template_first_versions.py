"""Existing templates get their signers (any of the three, in the usual order) and a first
kept version, so that submissions can be made from them."""

from django.db import migrations

ROLES = ["student", "sponsor", "institution_admin"]


def first_versions(apps, schema_editor):
    AgreementTemplate = apps.get_model("signing", "AgreementTemplate")
    TemplateVersion = apps.get_model("signing", "TemplateVersion")
    for template in AgreementTemplate.objects.all():
        if not template.signer_roles:
            template.signer_roles = ROLES
            template.save(update_fields=["signer_roles"])
        TemplateVersion.objects.get_or_create(
            template=template,
            number=template.version,
            defaults={
                "title": template.title,
                "body": template.body,
                "signer_roles": template.signer_roles,
                "created_by_id": template.created_by_id,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("signing", "0003_templates_versions_submissions")]

    operations = [migrations.RunPython(first_versions, migrations.RunPython.noop)]
