from django.db import migrations, models


def mark_emailed_links(apps, schema_editor):
    """A link was e-mailed if the "sent" or "reminded" event written with it says so."""
    SigningLink = apps.get_model("signing", "SigningLink")
    SubmissionEvent = apps.get_model("signing", "SubmissionEvent")
    for link in SigningLink.objects.filter(revoked_at__isnull=True).iterator():
        event = (
            SubmissionEvent.objects.filter(
                submitter_id=link.submitter_id,
                kind__in=["sent", "reminded"],
                created_at__gte=link.created_at,
            )
            .order_by("created_at", "id")
            .first()
        )
        if event is not None and event.data.get("notified"):
            SigningLink.objects.filter(pk=link.pk).update(emailed=True)


class Migration(migrations.Migration):
    dependencies = [
        ("signing", "0006_link_reminders_and_uploaded_certificates"),
    ]

    operations = [
        migrations.AddField(
            model_name="signinglink",
            name="emailed",
            field=models.BooleanField(
                default=False,
                help_text="Whether the link was e-mailed (a link made for a signer already on "
                "the page is not, and is never reminded).",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(mark_emailed_links, migrations.RunPython.noop),
    ]
