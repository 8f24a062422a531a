"""Every institution starts with a sensible subject tree (seed 003: subjects by phase, some within
a broader one) and the usual vetting types; both are the institution's to change afterwards."""

from django.db import migrations

# (code, name, phase, parent code)
SUBJECTS = [
    ("PRI-GEN", "Primary general", "primary", None),
    ("PRI-MATH", "Primary mathematics", "primary", "PRI-GEN"),
    ("PRI-LIT", "Primary literacy", "primary", "PRI-GEN"),
    ("PRI-LIFE", "Life skills", "primary", "PRI-GEN"),
    ("FP", "Foundation phase", "primary", None),
    ("MATH", "Mathematics", "secondary", None),
    ("MLIT", "Mathematical literacy", "secondary", "MATH"),
    ("SCI", "Sciences", "secondary", None),
    ("PHYS", "Physical sciences", "secondary", "SCI"),
    ("LIFESCI", "Life sciences", "secondary", "SCI"),
    ("LANG", "Languages", "secondary", None),
    ("ENG", "English", "secondary", "LANG"),
    ("AFR", "Afrikaans", "secondary", "LANG"),
    ("ZUL", "isiZulu", "secondary", "LANG"),
    ("XHO", "isiXhosa", "secondary", "LANG"),
    ("MFL", "Modern foreign languages", "secondary", "LANG"),
    ("FRE", "French", "secondary", "MFL"),
    ("HUM", "Humanities", "secondary", None),
    ("HIST", "History", "secondary", "HUM"),
    ("GEO", "Geography", "secondary", "HUM"),
    ("COM", "Commerce", "secondary", None),
    ("ACC", "Accounting", "secondary", "COM"),
    ("BUS", "Business studies", "secondary", "COM"),
    ("ECON", "Economics", "secondary", "COM"),
    ("TECH", "Technology", "secondary", None),
    ("IT", "Information technology", "secondary", "TECH"),
    ("CAT", "Computer applications technology", "secondary", "TECH"),
    ("EGD", "Engineering graphics and design", "secondary", "TECH"),
    ("LO", "Life orientation", "secondary", None),
    ("ARTS", "Creative arts", "secondary", None),
]

# (code, name, expires, validity days, description)
VETTING_TYPES = [
    (
        "identity",
        "Identity",
        False,
        None,
        "An ID document or passport, checked against the person.",
    ),
    (
        "police_clearance",
        "Police clearance",
        True,
        180,
        "A police clearance certificate (SAPS), and for schools the National Register for Sex "
        "Offenders and the Child Protection Register.",
    ),
    ("medical", "Medical", True, 365, "A medical fitness certificate from a practitioner."),
    (
        "qualification_check",
        "Qualification check",
        False,
        None,
        "The learner's qualifications verified with the issuing body (e.g. SAQA, Umalusi).",
    ),
    ("reference", "Reference", False, None, "A reference from a previous employer or teacher."),
    (
        "right_to_work",
        "Right to work",
        True,
        None,
        "Citizenship, permanent residence or a permit that allows the work.",
    ),
]


def defaults_add(apps, schema_editor):
    PlacementSubject = apps.get_model("placements", "PlacementSubject")
    VettingType = apps.get_model("placements", "VettingType")
    made = {}
    for code, name, phase, parent in SUBJECTS:
        made[code] = PlacementSubject.objects.create(
            code=code, name=name, phase=phase, parent=made.get(parent) if parent else None
        )
    for code, name, expires, days, description in VETTING_TYPES:
        VettingType.objects.create(
            code=code, name=name, expires=expires, validity_days=days, description=description
        )


class Migration(migrations.Migration):
    dependencies = [("placements", "0001_initial")]

    operations = [migrations.RunPython(defaults_add, migrations.RunPython.noop)]
