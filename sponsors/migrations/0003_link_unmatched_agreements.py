from django.db import migrations


def link_unmatched_agreements(apps, schema_editor):
    """An agreement sent before agreements recorded their sponsor, to an address no sponsor has
    any more (the contact changed after the invitation), was left unlinked by 0002, so a
    sponsor who had signed no longer counted as signed. The newest such agreement of a cohort
    that went to its current sponsor's contact person (only the address changed) is that
    sponsor's, when the sponsor has none recorded; one sent to a former sponsor's is not."""
    Cohort = apps.get_model("cohorts", "Cohort")
    Submission = apps.get_model("signing", "Submission")
    SponsorAgreement = apps.get_model("sponsors", "SponsorAgreement")
    linked = set(SponsorAgreement.objects.values_list("submission_id", flat=True))
    recorded = set(SponsorAgreement.objects.values_list("cohort_id", "sponsor_id"))
    unlinked = (
        Submission.objects.filter(subject_type="cohorts.cohort", submitters__role="sponsor")
        .exclude(pk__in=linked)
        .prefetch_related("submitters")
        .order_by("-created_at", "-pk")
    )
    cohorts = Cohort.objects.filter(sponsor__isnull=False).select_related("sponsor").in_bulk()
    newest: dict[int, object] = {}  # per cohort, the newest sent to its sponsor's contact
    for submission in unlinked:
        cohort = cohorts.get(int(submission.subject_id))
        if cohort is None or (cohort.pk, cohort.sponsor_id) in recorded:
            continue
        names = {s.name.casefold() for s in submission.submitters.all() if s.role == "sponsor"}
        if cohort.sponsor.contact_name.casefold() in names:
            newest.setdefault(cohort.pk, submission)
    SponsorAgreement.objects.bulk_create(
        SponsorAgreement(
            cohort=cohorts[cohort_id],
            sponsor_id=cohorts[cohort_id].sponsor_id,
            submission=submission,
            created_at=submission.created_at,
        )
        for cohort_id, submission in newest.items()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sponsors", "0002_sponsor_agreements"),
    ]

    operations = [
        migrations.RunPython(link_unmatched_agreements, migrations.RunPython.noop),
    ]
