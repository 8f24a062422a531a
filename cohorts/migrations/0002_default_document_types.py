"""Every institution starts with the documents South African programmes usually ask for; its
admins can change or extend the catalogue."""

from django.db import migrations

PDF_OR_IMAGE = ["pdf", "jpeg", "png"]
DEFAULTS = [
    ("South African ID or passport", "A clear copy of both sides of your ID card, the ID book's "
     "photo page, or your passport's photo page.", PDF_OR_IMAGE, True),
    ("Matric certificate", "Your National Senior Certificate, or the equivalent.", PDF_OR_IMAGE,
     False),
    ("Highest qualification", "The certificate of your highest qualification after matric.",
     PDF_OR_IMAGE, False),
    ("Proof of address", "A utility bill, bank statement or lease, not older than three months.",
     PDF_OR_IMAGE, True),
    ("Bank confirmation letter", "A letter or stamped statement from your bank confirming the "
     "account in your name.", ["pdf"], True),
    ("CV", "Your curriculum vitae.", ["pdf"], False),
]  # fmt: skip


def create_defaults(apps, schema_editor):
    DocumentType = apps.get_model("cohorts", "DocumentType")
    for name, description, kinds, expires in DEFAULTS:
        DocumentType.objects.get_or_create(
            name=name,
            defaults={"description": description, "accepted_kinds": kinds, "expires": expires},
        )


class Migration(migrations.Migration):
    dependencies = [("cohorts", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
