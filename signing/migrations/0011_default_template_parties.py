"""The shipped agreement names every party with its merge fields (the learner's name and ID
number, the sponsor's company and tax number, the institution's name and registration number,
the programme and its dates) and is signed by the learner, then the sponsor, then the
institution. Only a default still as shipped changes: an edited one is the institution's own.
A version already sent keeps its text; the new one is the next version."""

from django.db import migrations

OLD_BODY = """This agreement is between the institution and the participant named below for the \
programme described in the cohort.

1. The participant will attend the training, complete the assessments and keep to the \
institution's rules.
2. The institution will provide the training, the workplace arrangements agreed with the \
sponsor, and the certificates earned.
3. The participant's personal information is used only to run the programme and to report to \
the bodies the law requires.

By signing, each party accepts these terms."""

BODY = """<h2>The parties</h2>
<p><strong>The learner:</strong> {{ student.full_name }}, ID or passport number \
{{ student.id_number }}.</p>
<p><strong>The employer (sponsor):</strong> {{ sponsor.company_name }}, tax number \
{{ sponsor.tax_number }}, represented by {{ sponsor.contact_name }}.</p>
<p><strong>The training provider:</strong> {{ institution.name }}, registration number \
{{ institution.registration_number }}.</p>
<h2>The programme</h2>
<p>{{ cohort.name }} ({{ cohort.program_type }}), from {{ cohort.start_date }} to \
{{ cohort.end_date }}.</p>
<h2>What each party agrees to</h2>
<ol>
<li>The learner will attend the training and the workplace, complete the assessments and keep \
to the institution's and the employer's rules.</li>
<li>The employer will give the learner the workplace experience the programme requires, \
supervise it and pay the allowance agreed.</li>
<li>The training provider will provide the training and assessment, the workplace \
arrangements agreed with the employer, and the certificates earned.</li>
<li>Each party uses the learner's personal information only to run the programme and to \
report to the bodies the law requires.</li>
</ol>
<p>By signing, each party accepts these terms.</p>"""

ROLES = ["student", "sponsor", "institution_admin"]


def name_the_parties(apps, schema_editor):
    AgreementTemplate = apps.get_model("signing", "AgreementTemplate")
    TemplateVersion = apps.get_model("signing", "TemplateVersion")
    Submission = apps.get_model("signing", "Submission")
    template = AgreementTemplate.objects.filter(
        title="Programme participation agreement", body=OLD_BODY
    ).first()
    if template is None:
        return
    current = TemplateVersion.objects.filter(template=template, number=template.version).first()
    if current is not None and not Submission.objects.filter(template_version=current).exists():
        current.body, current.signer_roles = BODY, ROLES
        current.save(update_fields=["body", "signer_roles"])
    else:
        template.version += 1
        TemplateVersion.objects.create(
            template=template,
            number=template.version,
            title=template.title,
            body=BODY,
            signer_roles=ROLES,
        )
    template.body, template.signer_roles = BODY, ROLES
    template.save(update_fields=["body", "signer_roles", "version"])


class Migration(migrations.Migration):
    dependencies = [("signing", "0010_submitter_notify_turn")]

    operations = [migrations.RunPython(name_the_parties, migrations.RunPython.noop)]
