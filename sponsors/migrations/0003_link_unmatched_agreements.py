from django.db import migrations


def link_unmatched_agreements(apps, schema_editor):
    """An agreement sent before agreements recorded their sponsor, to an address no sponsor has
    any more (the contact changed after the invitation), was left unlinked by 0002, so a
    sponsor who had signed no longer counted as signed. The cohort's newest such agreement is
    its current sponsor's when that sponsor has none recorded and it went to the same contact
    person (only the address changed): one sent to a former sponsor's contact is not."""
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
    newest: dict[int, object] = {}
    for submission in unlinked:
        newest.setdefault(int(submission.subject_id), submission)

    def signer_name(submission) -> str:
        return next(s.name for s in submission.submitters.all() if s.role == "sponsor")

    cohorts = Cohort.objects.filter(pk__in=newest, sponsor__isnull=False).select_related("sponsor")
    SponsorAgreement.objects.bulk_create(
        SponsorAgreement(
            cohort=cohort,
            sponsor_id=cohort.sponsor_id,
            submission=newest[cohort.pk],
            created_at=newest[cohort.pk].created_at,
        )
        for cohort in cohorts
        if (cohort.pk, cohort.sponsor_id) not in recorded
        and signer_name(newest[cohort.pk]).casefold() == cohort.sponsor.contact_name.casefold()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("sponsors", "0002_sponsor_agreements"),
    ]

    operations = [
        migrations.RunPython(link_unmatched_agreements, migrations.RunPython.noop),
    ]
